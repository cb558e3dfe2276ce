/** @file `clip-search index`: embeds a folder's images, optionally reads their text and keeps a tags file current. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClipError, describeError } from '../../core/common/errors';
import { globMatcher } from '../../core/common/glob';
import { printable } from '../../core/common/printable';
import { indexFolder } from '../../core/index/indexer';
import { type IndexProgress } from '../../core/index/indexRun';
import { openIndexForWriting, stampOf } from '../../core/index/indexSession';
import { findIndexDir } from '../../core/index/findIndex';
import { IndexStore, type WalkRules } from '../../core/index/indexStore';
import { makeMatcher } from '../../core/index/walker';
import { acquireIndexLock } from '../../core/index/lock';
import { type TagUpdate, updateTagsFile } from '../../core/labels/autoTag';
import { readClassesFile } from '../../core/labels/classesFile';
import { describeWarning, Labeler } from '../../core/labels/labeler';
import { tagsFileToReplace } from '../../core/labels/tagsFile';
import { ClipEncoder } from '../../core/model/runtime/encoder';
import { resolveModel } from '../../core/model/hub/modelResolver';
import type { ModelVariant } from '../../core/model/layouts/modelSpec';
import { bundledOcrModels, OcrEngine } from '../../core/ocr/ocrEngine';
import { recognizeText, type TextPassResult } from '../../core/ocr/ocrPass';
import { PgVectorStore } from '../../core/store/pgStore';
import { type CommandDef, indexDirFor, numberOption, providerOption, RANGES, storeOption, threadsOption, UsageError, type Values, variantOption } from '../args';
import { downloadReporter, log, printFailures, progressBar, stage } from '../output';

export const indexCommand: CommandDef = {
	name: 'index',
	summary: 'embed the images under a folder (only new and changed ones after the first run)',
	usage: [
		'index <root> [--model <dir|id>] [--variant fp32|quantized] [--index <dir>] [--include <glob>]… [--exclude <glob>]… [--force] [--provider P] [--threads N] [--batch-size N] [--labels classes.json --tags tags.json] [--ocr] [--json]',
		'index <root> --store <postgres URL> [--push [--library NAME]] [--store-ca <file>] …',
	],
	options: ['model', 'variant', 'index', 'include', 'exclude', 'force', 'provider', 'threads', 'batch-size', 'labels', 'tags', 'ocr', 'json', 'store', 'store-ca', 'push', 'library'],
	notes: [
		'With no --model, an existing index keeps its model; a new one gets Xenova/clip-vit-base-patch32. --include and --exclude are kept the same way ("" clears one).',
		'With a team store, vectors it has are pulled instead of embedded; --push gives it what it lacks. A store that cannot be reached is reported and indexing goes on here.',
	],
	run: ([root], values) => runIndex(root, values),
};

/**
 * [Note: a glob change that empties an index] `index . --include '*.jpg'` matched the top folder only
 * (the settings' semantics: a pattern without '/' is anchored) and removed 361 of 400 images without
 * a word. A change of --include/--exclude that would leave out more than half of the indexed images
 * (10 or more) stops before anything changes, says how many, and shows the any-depth form of a
 * pattern without '/'; --force applies it. Either way the vectors stay for 14 days ([Note: what left
 * the index] in core/index/indexStore.ts), so globs changed back embed nothing again.
 */
function checkGlobChange(store: IndexStore, include: string[], exclude: string[], before: WalkRules | undefined): void {
	const same = (a: string[], b: string[] | undefined): boolean => JSON.stringify(a) === JSON.stringify(b ?? []);
	if (same(include, before?.include) && same(exclude, before?.exclude)) {
		return;
	}
	const { included, excluded } = makeMatcher(include, exclude);
	const indexed = [...store.files].filter(([, e]) => e.hash && !e.error).map(([rel]) => rel);
	const dropped = indexed.filter(rel => !included(rel) || excluded(rel)).length;
	if (dropped < 10 || dropped <= indexed.length / 2) {
		return;
	}
	const bare = include.filter(g => !g.includes('/') && !g.startsWith('**'));
	const hint = bare.length ? ` A pattern without "/" matches the top folder only: for any depth write ${bare.map(g => `--include '**/${g}'`).join(' ')}.` : '';
	throw new ClipError(
		'InvalidArgument',
		`These globs would leave ${indexed.length - dropped} of the ${indexed.length} indexed images and remove ${dropped}; nothing was changed.${hint} To apply them anyway, add --force (the vectors are kept for 14 days, so changing the globs back embeds nothing again).`,
	);
}

async function runIndex(root: string | undefined, values: Values): Promise<number> {
	if (!root) {
		throw new UsageError('index needs the folder to index: clip-search index <root>');
	}
	const given = path.resolve(root);
	const st = await fs.stat(given).catch(() => undefined);
	if (!st?.isDirectory()) {
		throw new ClipError('InvalidArgument', `Not a folder: ${given}.`);
	}
	// [Note: one index for a folder and its subfolders] A subfolder of an indexed folder updates that
	// index, for the subfolder only, as reading commands find it (it started a second index, with the
	// default model, and tried to download it).
	const parent = values.index || (await IndexStore.exists(indexDirFor(values, given))) ? undefined : await findIndexDir(given).catch(() => undefined);
	if (parent && (values.include || values.exclude)) {
		throw new UsageError(`${given} is inside the indexed folder ${parent.root}, whose globs apply to the whole index: run index there with --include/--exclude (or give this folder an index of its own with --index <dir>).`);
	}
	const absRoot = parent?.root ?? given;
	const under = parent ? path.relative(parent.root, given).split(path.sep).join('/') : undefined;
	if (parent) {
		process.stderr.write(`clip-search: ${printable(given)} is inside the indexed folder ${printable(parent.root)}: updating its index for ${printable(under!)}/ only.\n`);
	}
	const dir = parent?.dir ?? indexDirFor(values, absRoot);
	const json = values.json ?? false;
	// With no --model, an existing index keeps its model; a new one gets the default.
	let modelRef = values.model;
	let variant = variantOption(values);
	// Read from the catalog alone: a damaged graph is rebuilt with the model it was made with, and the
	// globs given once (--include, --exclude) are kept like the model.
	const committed = (await IndexStore.exists(dir)) ? await IndexStore.committedSettings(dir) : undefined;
	if (!modelRef && committed) {
		modelRef = committed.model.id;
		variant ??= committed.model.variant as ModelVariant | undefined;
	}
	const globs = (given: string[] | undefined, kept: string[] | undefined, name: string): string[] => {
		const list = given ? given.filter(g => g !== '') : (kept ?? []);
		globMatcher(list, { source: `--${name}` }); // refused now (LimitExceeded) rather than mid-walk
		return list;
	};
	const include = globs(values.include, committed?.walk?.include, 'include');
	const exclude = globs(values.exclude, committed?.walk?.exclude, 'exclude');
	// Every option is checked before anything slow or exclusive (a download, the lock) starts.
	if ((values.labels === undefined) !== (values.tags === undefined)) {
		throw new UsageError('--labels and --tags go together: clip-search index <root> --labels classes.json --tags tags.json');
	}
	const classes = values.labels ? await readClassesFile(path.resolve(values.labels)) : undefined;
	if (values.tags) {
		// Before the run: a --tags that names the classes file, an image or someone's notes is refused now.
		await tagsFileToReplace(path.resolve(values.tags), { classesFile: path.resolve(values.labels!) });
	}
	const provider = providerOption(values);
	const threads = threadsOption(values);
	const batchSize = numberOption(values, 'batch-size', RANGES.batchSize);
	const storeAt = storeOption(values);
	if (values.library && !values.push) {
		throw new UsageError('--library names what --push publishes: add --push (and --store).');
	}
	const spec = await resolveModel(modelRef, { variant, onProgress: downloadReporter(json), log });
	log(`model: ${spec.id} (${spec.family} family, ${spec.variant}, ${spec.dim}-d; labels by ${spec.link}: ${spec.scoringSource})`);
	const lock = await acquireIndexLock(dir, { purpose: `clip-search index ${absRoot}` });
	const controller = new AbortController();
	// [Note: stopping] One behaviour for every phase (embedding, reading text, tags): the first Ctrl-C
	// stops after the work in hand and saves it; a second says it is saving; a third quits unsaved.
	let signals = 0;
	const onSignal = (): void => {
		signals++;
		if (signals === 1) {
			controller.abort();
			process.stderr.write('\nclip-search: stopping after the image in hand; what is done is saved (Ctrl-C twice more quits without saving)\n');
		} else if (signals === 2) {
			process.stderr.write('clip-search: saving what is done… (Ctrl-C again quits without saving)\n');
		} else {
			process.exit(130);
		}
	};
	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	const encoder = new ClipEncoder(spec, { provider, threads, log, onStage: stage });
	let remote: PgVectorStore | undefined;
	// The store's own lines are for the person; the rest of the engine's log is verbose only.
	const storeLog = (m: string): void => (/^team store/.test(m) ? void process.stderr.write(`clip-search: ${printable(m)}\n`) : log(m));
	try {
		if (storeAt) {
			// [Note: a store that fails] in core/index/sharedVectors.ts: reported, and indexing goes on here.
			remote = await PgVectorStore.open({ ...storeAt, push: values.push, library: values.library, log: storeLog, where: values.store ? '--store' : 'CLIP_SEARCH_STORE' }, stampOf(spec)).catch((err: unknown) => {
				if (ClipError.is(err, 'InvalidArgument') || ClipError.is(err, 'ModelMismatch')) {
					throw err;
				}
				process.stderr.write(`clip-search: ${printable(describeError(err))}; indexing goes on here without the store\n`);
				return undefined;
			});
		}
		if (parent && committed && stampOf(spec).key !== committed.model.key) {
			throw new UsageError(`${given} is inside the indexed folder ${parent.root}, whose index holds ${committed.model.key}: to index this folder with another model, give it an index of its own with --index <dir>.`);
		}
		const store = await openIndexForWriting(dir, absRoot, spec, m => process.stderr.write(`${printable(m)}\n`));
		if (!values.force) {
			checkGlobChange(store, include, exclude, committed?.walk);
		}
		const tty = !json && process.stderr.isTTY;
		const result = await indexFolder(store, encoder, {
			include,
			exclude,
			...(under !== undefined ? { paths: [under] } : {}),
			signal: controller.signal,
			batchSize,
			// For the crash tests: commit often, so that a kill lands between commits.
			checkpointSeconds: Number(process.env.CLIP_SEARCH_CHECKPOINT_SECONDS) || undefined,
			remote,
			log: storeAt ? storeLog : log,
			onProgress: tty ? (p: IndexProgress) => process.stderr.write(`\r${describeProgress(p)}\x1b[K`) : undefined,
		});
		if (tty) {
			process.stderr.write('\n');
		}
		let text: TextPassResult | undefined;
		if (values.ocr && !result.cancelled) {
			const ocr = new OcrEngine(bundledOcrModels(), { threads, log });
			try {
				text = await recognizeText(store, ocr, {
					signal: controller.signal,
					log,
					onProgress: tty ? (done, todo) => process.stderr.write(`\rReading text… ${done}/${todo}\x1b[K`) : undefined,
				});
				if (tty) {
					process.stderr.write('\n');
				}
			} finally {
				await ocr.dispose();
			}
		}
		let tags: TagUpdate | undefined;
		const cancelled = result.cancelled || !!text?.cancelled;
		if (classes && !cancelled) {
			const labeler = await Labeler.create(encoder, classes, { store });
			log(`labels: ${labeler.describeChoice()}`);
			for (const w of labeler.warnings) {
				process.stderr.write(`clip-search: ${printable(describeWarning(w, path.resolve(values.labels!)))}\n`);
			}
			tags = await updateTagsFile(path.resolve(values.tags!), store, labeler, { changed: result.changed, classesFile: path.resolve(values.labels!) });
		}
		if (json) {
			// The JSON shape is a contract (README): the engine's newer fields stay out of it.
			const { scanned, embedded, reused, removed, failed, seconds } = result;
			const shared = storeAt ? { pulled: result.pulled ?? 0, ...(values.push ? { pushed: result.pushed ?? 0 } : {}) } : {};
			const shape = { scanned, embedded, ...shared, reused, removed, failed, seconds, ...(text ? { text } : {}), ...(tags ? { tags } : {}) };
			process.stdout.write(`${JSON.stringify(cancelled ? { ...shape, cancelled } : shape)}\n`);
		} else {
			process.stdout.write(
				`${result.cancelled ? 'Stopped (progress saved; run again to continue)' : 'Indexed'} ${printable(absRoot)}: ${result.scanned} images, ${result.embedded} embedded, ${storeAt ? `${result.pulled ?? 0} pulled from the team store, ` : ''}` +
					`${result.reused} reused, ${result.removed} removed, ${result.failed.length} failed in ${result.seconds.toFixed(1)} s ` +
					`(${encoder.providersUsed.vision ?? store.provider ?? 'no'} provider${encoder.providerChoice ? `; ${encoder.providerChoice}` : ''})\n`,
			);
			printFailures(result.failed);
			process.stdout.write(`Index: ${printable(dir)}\n`);
			if (text) {
				process.stdout.write(
					text.cancelled
						? `Stopped while reading text: ${text.read} image(s) read and saved (${text.withText} with text, ${text.failed} failed); run again to read the rest\n`
						: `Text: ${text.read} image(s) read (${text.withText} with text, ${text.failed} failed) in ${text.seconds.toFixed(1)} s\n`,
				);
			}
			if (tags) {
				process.stdout.write(
					tags.written
						? `Tags: ${printable(path.resolve(values.tags!))} (${tags.full ? 'all' : tags.labelled} labelled, ${tags.dropped} dropped, ${tags.images} tagged)\n`
						: `Tags: ${printable(path.resolve(values.tags!))} unchanged\n`,
				);
			}
		}
		return cancelled ? 130 : 0;
	} finally {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
		await remote?.close();
		await encoder.dispose();
		await lock.release();
	}
}

function describeProgress(p: IndexProgress): string {
	if (p.phase === 'scanning') {
		return `Scanning… ${p.found} images`;
	}
	const frac = p.todo ? p.done / p.todo : 1;
	return `${progressBar(frac)} ${p.done}/${p.todo} · ${p.imagesPerSecond.toFixed(1)} img/s${p.failed ? ` · ${p.failed} failed` : ''}${p.phase === 'saving' ? ' · saving' : ''}`;
}
