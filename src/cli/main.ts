/**
 * @file `clip-search`: the command-line face of the engine. Its command names, options and JSON
 * shapes are a contract (tests and outside checks rely on them); see README.md.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ClipEncoder } from '../core/model/encoder';
import { ClipError, describeError } from '../core/common/errors';
import { readFileOrThrow } from '../core/common/files';
import { indexFolder, type IndexProgress } from '../core/index/indexer';
import { IndexStore } from '../core/index/indexStore';
import { openIndexForReading, openIndexForWriting } from '../core/index/indexSession';
import { indexStatus } from '../core/index/indexStatus';
import { bundledOcrModels, OcrEngine } from '../core/ocr/ocrEngine';
import { recognizeText, type TextPassResult } from '../core/ocr/ocrPass';
import { type TagUpdate, updateTagsFile } from '../core/labels/autoTag';
import { readClassesFile } from '../core/labels/classesFile';
import { describeWarning, Labeler, parseClasses, tagsFileContent } from '../core/labels/labeler';
import { acquireIndexLock } from '../core/index/lock';
import { resolveModel } from '../core/model/modelResolver';
import type { ModelVariant } from '../core/model/modelSpec';
import { decodeImage } from '../core/model/preprocess';
import { isProviderSetting, PROVIDERS, type ProviderSetting } from '../core/model/providers';
import { defaultIndexDir } from '../core/common/paths';
import { search, similar, type SearchOptions } from '../core/search/search';
import { ClipTokenizer, tokenizerFilesOf } from '../core/model/tokenizer';
import type { DownloadProgress } from '../core/model/download';
import { downloadSize, KNOWN_MODELS } from '../core/model/modelRegistry';
import { formatBytes, progressBar, table } from './format';

const USAGE = `Usage:
  clip-search index <root> [--model <dir|id>] [--variant fp32|quantized] [--index <dir>] [--provider ${PROVIDERS.join('|')}] [--threads N] [--labels classes.json --tags tags.json] [--ocr] [--json]
  clip-search search "<query>" [--index <dir>] [-k N] [--min-score S] [--relative D] [--scope <folder>] [--json]
  clip-search similar <image> [--index <dir>] [-k N] [--min-score S] [--json]
  clip-search label --classes "cat,dog,icon" | --classes-file f.json [--index <dir>] [--threshold T] [--multi] [--scope <folder>] [--out tags.json] [--json]
  clip-search embed --model <dir|id> (--text "<t>" | --image <file>) [--json]
  clip-search tokenize --model <dir|id> "<text>" [--json]
  clip-search ocr <image> [--json]
  clip-search stats [--index <dir>] [--json]
  clip-search models [--json]

Without --index, the index of the current folder is used (the one "index ." makes).
Queries: "beach" + ./ref.png - "people", 2*"sunset" - "boat".`;

const OPTIONS = {
	model: { type: 'string' },
	variant: { type: 'string' },
	index: { type: 'string' },
	provider: { type: 'string' },
	threads: { type: 'string' },
	'batch-size': { type: 'string' },
	json: { type: 'boolean' },
	k: { type: 'string', short: 'k' },
	'min-score': { type: 'string' },
	relative: { type: 'string' },
	scope: { type: 'string' },
	classes: { type: 'string' },
	'classes-file': { type: 'string' },
	threshold: { type: 'string' },
	multi: { type: 'boolean' },
	out: { type: 'string' },
	labels: { type: 'string' },
	ocr: { type: 'boolean' },
	tags: { type: 'string' },
	text: { type: 'string' },
	image: { type: 'string' },
	help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

function numberOption(values: Values, name: keyof Values, fallback?: number): number | undefined {
	const raw = values[name];
	if (raw === undefined) {
		return fallback;
	}
	const n = Number(raw);
	if (!Number.isFinite(n)) {
		throw new UsageError(`--${String(name)} must be a number (got "${String(raw)}").`);
	}
	return n;
}

function variantOption(values: Values): ModelVariant | undefined {
	const v = values.variant;
	if (v === undefined) {
		return undefined;
	}
	if (v !== 'fp32' && v !== 'quantized') {
		throw new UsageError(`--variant must be fp32 or quantized (got "${v}").`);
	}
	return v;
}

function providerOption(values: Values): ProviderSetting {
	const p = values.provider ?? 'auto';
	if (!isProviderSetting(p)) {
		throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')} (got "${p}").`);
	}
	return p;
}

const log = (m: string): void => {
	if (process.env.CLIP_SEARCH_VERBOSE) {
		process.stderr.write(`[clip-search] ${m}\n`);
	}
};

function downloadReporter(json: boolean): (p: DownloadProgress) => void {
	return p => {
		if (json) {
			return;
		}
		if (p.status === 'start') {
			process.stderr.write(`Downloading ${p.file}${p.total ? ` (${formatBytes(p.total)})` : ''}…\n`);
		} else if (p.status === 'progress' && process.stderr.isTTY && p.total) {
			process.stderr.write(`\r  ${progressBar(p.loaded / p.total)} ${formatBytes(p.loaded)} / ${formatBytes(p.total)}`);
		} else if (p.status === 'done' && process.stderr.isTTY) {
			process.stderr.write('\n');
		}
	};
}

function indexDirFor(values: Values, root = process.cwd()): string {
	return values.index ? path.resolve(values.index) : defaultIndexDir(root);
}

async function cmdIndex(root: string | undefined, values: Values): Promise<number> {
	if (!root) {
		throw new UsageError('index needs the folder to index: clip-search index <root>');
	}
	const absRoot = path.resolve(root);
	const st = await fs.stat(absRoot).catch(() => undefined);
	if (!st?.isDirectory()) {
		throw new ClipError('InvalidArgument', `Not a folder: ${absRoot}.`);
	}
	const dir = indexDirFor(values, absRoot);
	const json = values.json ?? false;
	// With no --model, an existing index keeps its model; a new one gets the default.
	let modelRef = values.model;
	let variant = variantOption(values);
	if (!modelRef && (await IndexStore.exists(dir))) {
		const existing = await IndexStore.load(dir).catch(() => undefined);
		modelRef = existing?.model.id;
		variant ??= existing?.model.variant as ModelVariant | undefined;
	}
	// Every option is checked before anything slow or exclusive (a download, the lock) starts.
	if ((values.labels === undefined) !== (values.tags === undefined)) {
		throw new UsageError('--labels and --tags go together: clip-search index <root> --labels classes.json --tags tags.json');
	}
	const classes = values.labels ? await readClassesFile(path.resolve(values.labels)) : undefined;
	const provider = providerOption(values);
	const threads = numberOption(values, 'threads');
	const batchSize = numberOption(values, 'batch-size');
	const spec = await resolveModel(modelRef, { variant, onProgress: downloadReporter(json), log });
	log(`model: ${spec.id} (${spec.family} family, ${spec.variant}, ${spec.dim}-d; labels by ${spec.link}: ${spec.scoringSource})`);
	const lock = await acquireIndexLock(dir, { purpose: `clip-search index ${absRoot}` });
	const controller = new AbortController();
	const onSignal = (): void => controller.abort();
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);
	const encoder = new ClipEncoder(spec, { provider, threads, log });
	try {
		const store = await openIndexForWriting(dir, absRoot, spec, m => process.stderr.write(`${m}\n`));
		const tty = !json && process.stderr.isTTY;
		const result = await indexFolder(store, encoder, {
			signal: controller.signal,
			batchSize,
			// For the crash tests: commit often, so that a kill lands between commits.
			checkpointSeconds: Number(process.env.CLIP_SEARCH_CHECKPOINT_SECONDS) || undefined,
			log,
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
		if (classes && !result.cancelled) {
			const labeler = await Labeler.create(encoder, classes, { store });
			for (const w of labeler.warnings) {
				process.stderr.write(`clip-search: ${describeWarning(w, path.resolve(values.labels!))}\n`);
			}
			tags = await updateTagsFile(path.resolve(values.tags!), store, labeler, { changed: result.changed });
		}
		if (json) {
			// The JSON shape is a contract (README): the engine's newer fields stay out of it.
			const { scanned, embedded, reused, removed, failed, seconds, cancelled } = result;
			const shape = { scanned, embedded, reused, removed, failed, seconds, ...(text ? { text } : {}), ...(tags ? { tags } : {}) };
			process.stdout.write(`${JSON.stringify(cancelled ? { ...shape, cancelled } : shape)}\n`);
		} else {
			process.stdout.write(
				`${result.cancelled ? 'Stopped (progress saved; run again to continue)' : 'Indexed'} ${absRoot}: ${result.scanned} images, ${result.embedded} embedded, ` +
					`${result.reused} reused, ${result.removed} removed, ${result.failed.length} failed in ${result.seconds.toFixed(1)} s ` +
					`(${encoder.providersUsed.vision ?? store.provider ?? 'no'} provider)\n`,
			);
			for (const f of result.failed) {
				process.stdout.write(`  failed: ${f.error.includes(f.path) ? f.error : `${f.path}: ${f.error}`}\n`);
			}
			process.stdout.write(`Index: ${dir}\n`);
			if (text) {
				process.stdout.write(`Text: ${text.read} image(s) read (${text.withText} with text, ${text.failed} failed) in ${text.seconds.toFixed(1)} s\n`);
			}
			if (tags) {
				process.stdout.write(
					tags.written
						? `Tags: ${path.resolve(values.tags!)} (${tags.full ? 'all' : tags.labelled} labelled, ${tags.dropped} dropped, ${tags.images} tagged)\n`
						: `Tags: ${path.resolve(values.tags!)} unchanged\n`,
				);
			}
		}
		return result.cancelled ? 130 : 0;
	} finally {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
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

async function withReadIndex<T>(values: Values, fn: (ctx: Awaited<ReturnType<typeof openIndexForReading>> & { encoder: ClipEncoder; dir: string }) => Promise<T>): Promise<T> {
	const dir = indexDirFor(values);
	const provider = providerOption(values);
	const threads = numberOption(values, 'threads');
	const ctx = await openIndexForReading(dir, { onProgress: downloadReporter(values.json ?? false), log });
	const encoder = new ClipEncoder(ctx.spec, { provider, threads, log });
	try {
		return await fn({ ...ctx, encoder, dir });
	} finally {
		await encoder.dispose();
	}
}

function printResults(results: { path: string; score: number }[], json: boolean): void {
	if (json) {
		process.stdout.write(`${JSON.stringify(results)}\n`);
		return;
	}
	if (!results.length) {
		process.stdout.write('No matching images.\n');
		return;
	}
	const withText = results.some(r => 'text' in r && r.text);
	process.stdout.write(
		withText
			? table(['score', 'path', 'text'], results.map(r => [r.score.toFixed(4), r.path, (r as { text?: string }).text ?? '']))
			: table(['score', 'path'], results.map(r => [r.score.toFixed(4), r.path])),
	);
}

function searchOptions(values: Values): SearchOptions {
	return {
		k: numberOption(values, 'k', 10),
		minScore: numberOption(values, 'min-score'),
		relativeCutoff: numberOption(values, 'relative'),
		scope: values.scope,
	};
}

async function cmdSearch(query: string | undefined, values: Values): Promise<number> {
	if (!query) {
		throw new UsageError('search needs a query: clip-search search "a red error icon"');
	}
	return withReadIndex(values, async ({ store, encoder }) => {
		printResults(await search(store, encoder, query, searchOptions(values)), values.json ?? false);
		return 0;
	});
}

async function cmdSimilar(image: string | undefined, values: Values): Promise<number> {
	if (!image) {
		throw new UsageError('similar needs an image: clip-search similar ./picture.png');
	}
	return withReadIndex(values, async ({ store, encoder }) => {
		printResults(await similar(store, encoder, image, searchOptions(values)), values.json ?? false);
		return 0;
	});
}

async function cmdLabel(values: Values): Promise<number> {
	let classes;
	if (values['classes-file']) {
		classes = await readClassesFile(path.resolve(values['classes-file']));
	} else if (values.classes) {
		classes = parseClasses(values.classes, '--classes');
	} else {
		throw new UsageError('label needs classes: --classes "cat,dog,icon" or --classes-file classes.json');
	}
	return withReadIndex(values, async ({ store, encoder }) => {
		const labeler = await Labeler.create(encoder, classes, { store });
		for (const w of labeler.warnings) {
			process.stderr.write(`clip-search: ${describeWarning(w, values['classes-file'] ?? '--classes')}\n`);
		}
		const labels = labeler.labelIndex(store, { threshold: numberOption(values, 'threshold'), multi: values.multi, scope: values.scope });
		if (values.out) {
			await fs.writeFile(path.resolve(values.out), tagsFileContent(labels, { model: store.model.key, classes }));
		}
		if (values.json) {
			process.stdout.write(`${JSON.stringify(labels)}\n`);
		} else {
			process.stdout.write(
				table(
					['label', 'p', 'path'],
					labels.map(l => [values.multi ? (l.labels ?? []).join('+') || '(none)' : (l.label ?? '(none)'), l.score.toFixed(3), l.path]),
				),
			);
			if (values.out) {
				process.stdout.write(`Tags written to ${path.resolve(values.out)}\n`);
			}
		}
		return 0;
	});
}

async function cmdEmbed(values: Values): Promise<number> {
	if (!values.model) {
		throw new UsageError('embed needs --model <dir|id>');
	}
	if ((values.text === undefined) === (values.image === undefined)) {
		throw new UsageError('embed needs exactly one of --text "<t>" or --image <file>');
	}
	const provider = providerOption(values);
	const threads = numberOption(values, 'threads');
	const spec = await resolveModel(values.model, {
		variant: variantOption(values),
		parts: values.text !== undefined ? 'text' : 'all',
		onProgress: downloadReporter(values.json ?? false),
		log,
	});
	const encoder = new ClipEncoder(spec, { provider, threads, log });
	try {
		let vector: Float32Array;
		if (values.text !== undefined) {
			vector = await encoder.encodeText(values.text);
		} else {
			const file = path.resolve(values.image!);
			const bytes = await readFileOrThrow(file);
			vector = (await encoder.encodeImages([await decodeImage(file, bytes, spec.preprocess)]))[0];
		}
		const out = { model: spec.id, dim: spec.dim, vector: Array.from(vector) };
		process.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `${spec.id} (${spec.dim}-d): [${out.vector.map(v => v.toFixed(5)).join(', ')}]\n`);
		return 0;
	} finally {
		await encoder.dispose();
	}
}

async function cmdTokenize(text: string | undefined, values: Values): Promise<number> {
	if (!values.model) {
		throw new UsageError('tokenize needs --model <dir|id>');
	}
	if (text === undefined) {
		throw new UsageError('tokenize needs the text: clip-search tokenize --model <dir|id> "a photo of a cat"');
	}
	const spec = await resolveModel(values.model, { variant: variantOption(values), parts: 'tokenizer', onProgress: downloadReporter(values.json ?? false), log });
	const tokenizer = await ClipTokenizer.load(tokenizerFilesOf(spec));
	const ids = tokenizer.encode(text);
	process.stdout.write(values.json ? `${JSON.stringify({ ids })}\n` : `${ids.join(' ')}\n`);
	return 0;
}

async function cmdOcr(image: string | undefined, values: Values): Promise<number> {
	if (!image) {
		throw new UsageError('ocr needs an image: clip-search ocr ./screenshot.png');
	}
	const file = path.resolve(image);
	const engine = new OcrEngine(bundledOcrModels(), { threads: numberOption(values, 'threads'), log });
	try {
		const lines = await engine.recognize(file, await readFileOrThrow(file));
		if (values.json) {
			process.stdout.write(`${JSON.stringify({ lines })}\n`);
		} else {
			process.stdout.write(lines.length ? lines.map(l => `${l.text}  (${l.score.toFixed(3)})`).join('\n') + '\n' : 'No text found.\n');
		}
		return 0;
	} finally {
		await engine.dispose();
	}
}

/** The known models: what each downloads, how fast it ran in the bench, what it is for. */
function cmdModels(values: Values): number {
	const rows = KNOWN_MODELS.flatMap(m =>
		m.variants.map(v => ({
			id: m.id,
			variant: v,
			revision: m.revision,
			downloadBytes: downloadSize(m, v),
			imagesPerSecond: m.speed?.[v]?.imagesPerSecond,
			textQueryMs: m.speed?.[v]?.textQueryMs,
			goodFor: m.goodFor,
		})),
	);
	if (values.json) {
		process.stdout.write(`${JSON.stringify({ models: rows })}\n`);
		return 0;
	}
	process.stdout.write(
		table(
			['model', 'variant', 'download', 'img/s*', 'query ms*'],
			rows.map(r => [r.id, r.variant, formatBytes(r.downloadBytes), r.imagesPerSecond?.toFixed(1) ?? '?', r.textQueryMs?.toFixed(0) ?? '?']),
		) + '* npm run bench on a 2-core AMD EPYC (random weights, the same architectures). Use one with --model <id>.\n',
	);
	return 0;
}

async function cmdStats(values: Values): Promise<number> {
	const dir = indexDirFor(values);
	const stats = await indexStatus(await IndexStore.load(dir));
	if (values.json) {
		process.stdout.write(`${JSON.stringify(stats)}\n`);
	} else {
		process.stdout.write(
			`Root:      ${stats.root}\nIndex:     ${stats.index} (${formatBytes(stats.indexBytes)}, generation ${stats.generation})\nModel:     ${stats.model.id} @ ${stats.model.revision} (${stats.model.variant}, ${stats.model.dim}-d)\n` +
				`Provider:  ${stats.provider ?? 'unknown'}\nFiles:     ${stats.files} (${stats.indexed} indexed, ${stats.failed.length} failed)\nVectors:   ${stats.vectors} distinct\n`,
		);
		for (const f of stats.failed) {
			process.stdout.write(`  failed: ${f.error.includes(f.path) ? f.error : `${f.path}: ${f.error}`}\n`);
		}
	}
	return 0;
}

export async function main(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
	} catch (err) {
		process.stderr.write(`clip-search: ${describeError(err)}\n${USAGE}\n`);
		return 2;
	}
	const { values, positionals } = parsed;
	const [command, ...rest] = positionals;
	if (values.help || !command) {
		process.stdout.write(`${USAGE}\n`);
		return command || values.help ? 0 : 2;
	}
	try {
		switch (command) {
			case 'index':
				return await cmdIndex(rest[0], values);
			case 'search':
				return await cmdSearch(rest.join(' ') || undefined, values);
			case 'similar':
				return await cmdSimilar(rest[0], values);
			case 'label':
				return await cmdLabel(values);
			case 'embed':
				return await cmdEmbed(values);
			case 'tokenize':
				return await cmdTokenize(rest.length ? rest.join(' ') : undefined, values);
			case 'stats':
				return await cmdStats(values);
			case 'ocr':
				return await cmdOcr(rest[0], values);
			case 'models':
				return cmdModels(values);
			default:
				throw new UsageError(`unknown command "${command}"`);
		}
	} catch (err) {
		if (err instanceof UsageError) {
			process.stderr.write(`clip-search: ${err.message}\n${USAGE}\n`);
			return 2;
		}
		const code = ClipError.is(err) ? ` [${err.code}]` : '';
		process.stderr.write(`clip-search: ${describeError(err)}${code}\n`);
		if (process.env.CLIP_SEARCH_VERBOSE && err instanceof Error) {
			process.stderr.write(`${err.stack}\n`);
		}
		return 1;
	}
}
