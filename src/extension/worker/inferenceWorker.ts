/**
 * @file The inference worker (a child process of the extension host): owns the ONNX sessions, the
 * indexes of the workspace folders and all decoding, so the extension host never runs a model or
 * decodes an image. Sessions are created lazily on first use, reused, and released when idle
 * ([Note: light in the background] in core/model/runtime/idleRelease.ts). A process rather than a thread:
 * its allocator is set up to give released models back to the system (lowMemoryEnv), native
 * messages (Dawn's) land in a pipe, and a native crash cannot take the extension host down.
 *
 * [Note: queries during indexing] Each workspace folder has a FolderSession (core/index/folderSession.ts):
 * reads come from the committed index on disk, reloaded when another window or a CLI run commits a
 * newer generation, or from the store this worker is writing, so a query typed during indexing is
 * answered from what has been indexed so far. The text tower and the image tower are separate
 * sessions, so a query does not wait for an image batch to finish.
 */
import * as path from 'node:path';
import { runAgentTool } from '../../core/agent/agentTools';
import { findDuplicates } from '../../core/search/duplicates';
import { ClipEncoder } from '../../core/model/runtime/encoder';
import { describeRelease, IdleReleaser, idleLimits, systemIdleClock } from '../../core/model/runtime/idleRelease';
import { ClipError, describeError } from '../../core/common/errors';
import { FolderSession } from '../../core/index/folderSession';
import { indexFolder } from '../../core/index/indexer';
import { adoptLegacyIndex } from '../../core/index/indexMigration';
import { openIndexForWriting, sameModel, stampOf } from '../../core/index/indexSession';
import { indexStatus } from '../../core/index/indexStatus';
import { IndexStore } from '../../core/index/indexStore';
import { describeWarning, Labeler } from '../../core/labels/labeler';
import { bundledOcrModels, OcrEngine } from '../../core/ocr/ocrEngine';
import { recognizeText } from '../../core/ocr/ocrPass';
import { currentLockHolder } from '../../core/index/lock';
import { downloadSize, findKnownModel, offeredVariant } from '../../core/model/hub/modelRegistry';
import { needsDownload, resolveModel } from '../../core/model/hub/modelResolver';
import { modelKey, type ModelSpec } from '../../core/model/layouts/modelSpec';
import { searchDetailed, similar } from '../../core/search/search';
import { defaultTagsFile, tagsForSearch } from '../../core/labels/tagsFile';
import { PgVectorStore } from '../../core/store/pgStore';
import { type FolderUses, FolderUsesCache } from '../../core/refs/folderUses';
import { targetFor } from '../../core/refs/imageUse';
import { RetryAfterFailure, STORE_RETRY_MS } from '../../core/store/retryAfterFailure';
import { thumbnail } from '../../core/search/thumbnail';
import { outsideFolder } from '../../core/common/confine';
import { isInside } from '../../core/common/safePaths';
import { autoTagStore } from './autoTagStore';
import { likelyText } from './likelyText';
import type { EventMessage, FolderRef, RequestMap, RequestMessage, RequestType, WorkerConfig, WorkerMessage } from './protocol';

/** The channel to the extension host: the IPC of the forked process. */
const port = process.send ? { postMessage: (m: WorkerMessage) => process.send!(m), on: (e: 'message', f: (m: RequestMessage) => void) => process.on(e, f) } : undefined;
let idle: IdleReleaser | undefined;
let config: WorkerConfig | undefined;
let specPromise: Promise<ModelSpec> | undefined;
let encoder: ClipEncoder | undefined;
let download: AbortController | undefined;
const sessions = new Map<string, Promise<FolderSession>>();
/** Each folder's image references, kept current by the extension's watcher (refsChanged). */
const uses = new FolderUsesCache(() => ({ exclude: config?.exclude, publicRoots: config?.publicFolders, log: m => log(m) }), true);

/** A folder's references over its index as it is now (none when it has none: the images are walked). */
async function usesOf(folder: FolderRef, store?: IndexStore): Promise<FolderUses> {
	return uses.get(folder.root, store ?? (await (await session(folder)).read().catch(() => undefined)));
}
/** After the team store could not be reached, watcher batches go without it for a while. */
let storeRetry = new RetryAfterFailure();

function send(message: WorkerMessage): void {
	port?.postMessage(message);
}

function log(message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
	send({ kind: 'event', type: 'log', level, message } satisfies EventMessage);
}

function requireConfig(): WorkerConfig {
	if (!config) {
		throw new ClipError('InvalidArgument', 'The worker is not configured yet.');
	}
	return config;
}

/** The model, downloaded only when `allowDownload` (the user agreed to it). */
async function model(allowDownload: boolean): Promise<{ spec: ModelSpec; encoder: ClipEncoder }> {
	const cfg = requireConfig();
	if (!specPromise) {
		const started = Date.now();
		download = new AbortController();
		specPromise = resolveModel(cfg.model, {
			variant: cfg.variant,
			cacheDir: cfg.modelCacheDir,
			legacyCacheDirs: cfg.legacyModelCacheDirs,
			allowDownload,
			signal: download.signal,
			log,
			onProgress: p => send({ kind: 'event', type: 'download', file: p.file, loaded: p.loaded, total: p.total, status: p.status }),
		}).then(
			spec => {
				log(
					`model: ${modelKey(spec)} (${spec.family} family, ${spec.dim}-d, input ${spec.preprocess.width}×${spec.preprocess.height}, labels by ${spec.link}: ${spec.scoringSource}) ready in ${Date.now() - started} ms`,
				);
				return spec;
			},
			err => {
				specPromise = undefined; // a later call may download, or find the folder fixed
				throw err;
			},
		);
	}
	const spec = await specPromise;
	encoder ??= new ClipEncoder(spec, { provider: cfg.provider, threads: cfg.threads, log, int8Kernels: cfg.int8Kernels, onStage: (message, key) => send({ kind: 'event', type: 'stage', key, message }) });
	return { spec, encoder };
}

let ocrEngine: OcrEngine | undefined;
/** The folder's session, created on first use (moving an index an older version kept elsewhere). */
function session(folder: FolderRef): Promise<FolderSession> {
	let s = sessions.get(folder.root);
	if (!s) {
		s = (async () => {
			if (folder.legacyIndexDirs?.length) {
				await adoptLegacyIndex(folder.legacyIndexDirs, folder.indexDir, log).catch(err => log(`could not move the old index of ${folder.root}: ${describeError(err)}`, 'warn'));
			}
			return new FolderSession(folder.root, folder.indexDir, log);
		})();
		sessions.set(folder.root, s);
	}
	return s;
}

/** Images that may be what a missing path meant ([Note: what left the index]: what it held), else its name's words. */
async function replacementsFor(folder: FolderRef, store: IndexStore, missing: string, k: number): Promise<{ path: string; score: number; why: 'remembered' | 'name' }[]> {
	const gone = store.removedFile(missing);
	const vector = gone ? store.vectorOf(gone.hash) : undefined;
	if (vector) {
		return store
			.search(vector, k)
			.flatMap(h => store.filesOfLabel(h.label).map(p => ({ path: p, score: h.score, why: 'remembered' as const })))
			.slice(0, k);
	}
	const words = path.posix.basename(missing).replace(/\.[^.]+$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[-_.@]+/g, ' ').trim();
	const r = words ? await readable(folder).catch(() => undefined) : undefined;
	if (!r) {
		return [];
	}
	const answer = await searchDetailed(r.store, r.encoder, words, { k, cwd: folder.root });
	return answer.results.map(h => ({ path: h.path, score: h.score, why: 'name' as const }));
}

/** The committed (or in-progress) index of a folder, checked against the model queries are encoded with. */
async function readable(folder: FolderRef): Promise<{ store: IndexStore; encoder: ClipEncoder } | undefined> {
	const store = await (await session(folder)).read();
	if (!store) {
		return undefined;
	}
	const { spec, encoder: enc } = await model(false);
	if (!sameModel(store.model, stampOf(spec))) {
		throw new ClipError(
			'ModelMismatch',
			`The index of ${folder.root} was made with ${store.model.key}, but the model now set is ${modelKey(spec)}. The images are embedded again with the new model when indexing is on (clipSearch.indexing.enabled).`,
			{ file: folder.indexDir },
		);
	}
	return { store, encoder: enc };
}

/**
 * The team store to pull from in this run, or none: one that cannot be reached (or holds another
 * model's vectors under this key) is reported, and indexing goes on here ([Note: a store that fails]
 * in core/index/sharedVectors.ts). The editor only pulls; pushing is CI's job.
 */
async function openTeamStore(cfg: WorkerConfig, spec: ModelSpec, fullRun: boolean): Promise<PgVectorStore | undefined> {
	if (!cfg.store || !storeRetry.shouldTry(fullRun)) {
		return undefined;
	}
	try {
		const store = await PgVectorStore.open({ ...cfg.store, push: false, log: m => log(m), where: 'clipSearch.store', connectTimeoutMs: 5000 }, stampOf(spec));
		storeRetry.succeeded();
		return store;
	} catch (err) {
		storeRetry.failed();
		log(`team store: ${describeError(err)}; indexing goes on here without it (tried again at the next full scan, or in ${STORE_RETRY_MS / 60_000} minutes)`, 'warn');
		return undefined;
	}
}

const handlers: { [T in RequestType]: (params: RequestMap[T]['params']) => Promise<RequestMap[T]['result']> } = {
	async configure(params) {
		if (JSON.stringify(config?.store) !== JSON.stringify(params.store)) {
			storeRetry = new RetryAfterFailure(); // another store, or a new password: try it at once
		}
		if (JSON.stringify([config?.exclude, config?.publicFolders]) !== JSON.stringify([params.exclude, params.publicFolders])) {
			uses.forget(); // read again, with the new rules, on the next question
		}
		const modelChanged = !config || config.model !== params.model || config.variant !== params.variant || config.provider !== params.provider || config.threads !== params.threads || config.int8Kernels !== params.int8Kernels;
		config = params;
		const limits = idleLimits(params.unloadAfterIdleMinutes);
		if (idle) {
			idle.setLimits(limits);
		} else {
			idle = new IdleReleaser(() => [...(encoder ? [encoder] : []), ...(ocrEngine ? [ocrEngine] : [])], limits, systemIdleClock, (parts, limits, now) => log(describeRelease(parts, limits, now)));
		}
		if (modelChanged) {
			for (const s of sessions.values()) {
				(await s).cancel();
			}
			specPromise = undefined;
			await encoder?.dispose();
			encoder = undefined;
		}
	},

	async loadedModels() {
		return { ...(encoder?.loaded ?? { text: false, vision: false }), ocr: ocrEngine?.loaded ?? false, rssBytes: process.memoryUsage.rss() };
	},

	async warmText() {
		await (await model(false)).encoder.warmText();
	},

	async modelStatus() {
		const cfg = requireConfig();
		const known = findKnownModel(cfg.model);
		const needs = await needsDownload(cfg.model, { variant: cfg.variant, cacheDir: cfg.modelCacheDir, legacyCacheDirs: cfg.legacyModelCacheDirs });
		let localMissing: string | undefined;
		if (!needs) {
			localMissing = await model(false).then(
				() => undefined,
				(err: unknown) => (ClipError.is(err, 'ModelNotFound') || ClipError.is(err, 'VariantUnavailable') || ClipError.is(err, 'ModelInvalid') ? describeError(err) : undefined),
			);
		}
		return { id: known?.id ?? cfg.model, needsDownload: needs, downloadBytes: known ? downloadSize(known, offeredVariant(known, cfg.variant)) : 0, localMissing };
	},

	async ensureModel() {
		const { spec } = await model(true);
		return { id: spec.id, dim: spec.dim };
	},

	async cancelDownload() {
		download?.abort();
	},

	async autoTag({ folder, autoTag }) {
		const store = await (await session(folder)).read();
		if (!store) {
			return { kind: 'noClasses' };
		}
		// Nothing changed in the images: the key decides (new classes → all again; same → only what the tags file lacks).
		return autoTagStore(store, autoTag, [], { model, log });
	},

	async index({ folder, paths, rebuild, autoTag }) {
		const cfg = requireConfig();
		const { spec, encoder: enc } = await model(false);
		const s = await session(folder);
		const remote = await openTeamStore(cfg, spec, !paths || !!rebuild);
		const outcome = await s.write(
			`VS Code: ${rebuild ? 'rebuilding' : 'indexing'} ${folder.root}`,
			async current =>
				!rebuild && current && current.model.key === modelKey(spec) ? current : openIndexForWriting(folder.indexDir, folder.root, spec, m => log(m, 'warn'), { fresh: rebuild }),
			async (store, signal) => ({
				store,
				result: await indexFolder(store, enc, {
					include: cfg.include,
					exclude: cfg.exclude,
					maxPixels: cfg.maxImagePixels,
					// A fresh store has nothing to compare a few paths with: it needs the walk.
					paths: store.committedGeneration > 0 || store.files.size ? paths : undefined,
					remote,
					signal,
					log,
					onProgress: progress => send({ kind: 'event', type: 'progress', root: folder.root, progress }),
				}),
			}),
		).finally(() => remote?.close());
		if (!outcome.ok) {
			return { kind: 'busy', holder: outcome.holder };
		}
		const { changed, ...result } = outcome.value.result;
		log(
			`index ${folder.root}: ${result.scanned} images${result.incremental ? ' (changed paths only)' : ''}, ${result.embedded} embedded, ${remote ? `${result.pulled ?? 0} pulled from the team store, ` : ''}${result.reused} reused, ${result.removed} removed, ${result.failed.length} failed in ${result.seconds.toFixed(1)} s (${enc.providersUsed.vision ?? 'no'} provider)`,
		);
		const tags = autoTag && !result.cancelled ? await autoTagStore(outcome.value.store, autoTag, changed, { model, log }) : undefined;
		if (cfg.ocr !== 'off' && !result.cancelled) {
			// The text pass never fails the index run: its images stay searchable by what they show.
			await s.write(`VS Code: reading text in ${folder.root}`, async current => current ?? IndexStore.load(folder.indexDir), async (store, signal) => {
				ocrEngine ??= new OcrEngine(bundledOcrModels(), { threads: 1, maxPixels: cfg.maxImagePixels, log });
				const likely = cfg.ocr === 'auto' ? await likelyText(enc) : undefined;
				const text = await recognizeText(store, ocrEngine, {
					signal,
					log,
					maxPixels: cfg.maxImagePixels,
					wanted: likely ? (_rel, hash) => likely(store.vectorOf(hash) ?? new Float32Array(enc.dim)) : undefined,
					onProgress: (done, todo) =>
						send({ kind: 'event', type: 'progress', root: folder.root, progress: { phase: 'reading text', found: result.totalFiles, todo, done, failed: 0, imagesPerSecond: 0 } }),
				});
				return text;
			}).catch(err => log(`text recognition in ${folder.root} stopped: ${describeError(err)}`, 'warn'));
		}
		return { kind: 'done', result, tags };
	},

	async cancelIndex({ root }) {
		(await sessions.get(root))?.cancel();
	},

	async search({ folder, query, k, minScore, scope, sort, like, unlike }) {
		const r = await readable(folder);
		if (!r) {
			return { results: [], filters: [], sort: sort ?? 'relevance' };
		}
		// The tags the extension keeps for the folder (tag: filters, and a hit's why).
		const { tagsOf, tagsProblem } = await tagsForSearch(defaultTagsFile(folder.root), folder.root);
		return searchDetailed(r.store, r.encoder, query, { k, minScore, scope, sort, like, unlike, tagsOf, tagsProblem, cwd: folder.root, onNote: note => log(note) });
	},

	async similar({ folder, file, k, minScore }) {
		const r = await readable(folder);
		return r ? similar(r.store, r.encoder, file, { k, minScore, cwd: folder.root }) : [];
	},

	async label({ folder, classes, threshold, multi, scope }) {
		const r = await readable(folder);
		if (!r) {
			return { labels: [], key: '', warnings: [] };
		}
		const labeler = await Labeler.create(r.encoder, classes, { store: r.store });
		log(`labels: ${labeler.describeChoice()}`);
		return {
			labels: labeler.labelIndex(r.store, { threshold, multi, scope }),
			key: labeler.key,
			warnings: labeler.warnings.map(w => describeWarning(w, 'the classes')),
		};
	},

	async duplicates({ folder, threshold }) {
		const store = await (await session(folder)).read();
		const groups = store ? findDuplicates(store, threshold) : [];
		return groups.length ? (await usesOf(folder, store)).withUses(groups) : [];
	},

	async refsChanged({ root, paths }) {
		await uses.update(root, paths);
	},

	async imageRefs({ folder, image }) {
		return (await usesOf(folder)).referencesTo(image);
	},

	async unusedImages({ folder }) {
		return (await usesOf(folder)).unused();
	},

	async brokenRefs({ folder }) {
		return (await usesOf(folder)).broken();
	},

	async rewrites({ folder, keep, others }) {
		return (await usesOf(folder)).rewrites(keep, others);
	},

	async replacements({ folder, file, target, syntax, missing, k }) {
		const store = await (await session(folder)).read();
		if (!store) {
			return [];
		}
		const found = await replacementsFor(folder, store, missing, k);
		const rules = (await usesOf(folder, store)).refs.rulesOf();
		return found.map(f => ({ ...f, target: targetFor(file, f.path, target, rules, syntax) }));
	},

	async status({ folder }) {
		const store = await (await session(folder)).read();
		return store ? indexStatus(store, encoder?.providersUsed.vision) : undefined;
	},

	async lockHolder({ folder }) {
		const s = await session(folder);
		return s.isWriting ? undefined : currentLockHolder(folder.indexDir);
	},

	async thumbnail({ file, size }) {
		const cfg = requireConfig();
		// Only images of a folder this worker serves, and only while they stay inside it.
		const root = [...sessions.keys()].find(r => isInside(r, file));
		if (root === undefined) {
			throw outsideFolder(file, 'the workspace', 'image');
		}
		return thumbnail(file, size, cfg.thumbnailDir, cfg.maxImagePixels, root);
	},

	async agentTool({ folders, name, input }) {
		// The worker's own sessions and model: no second model load, and never a download from a tool call.
		return runAgentTool(
			{
				folders: folders.map(f => ({ name: f.name, root: f.root, indexDir: f.indexDir })),
				session: f => session(folders.find(x => x.root === f.root)!),
				encoder: async store => {
					const { spec, encoder: enc } = await model(false).catch((err: unknown) => {
						throw ClipError.is(err, 'ModelNotFound') ? new ClipError('ModelNotFound', `The model is not downloaded yet: open CLIP Image Search's model offer (the status bar), or run \`clip-search index .\`. (${describeError(err)})`) : err;
					});
					if (!sameModel(store.model, stampOf(spec))) {
						throw new ClipError('ModelMismatch', `The index of ${store.root} was made with ${store.model.key}, not the model now set (${modelKey(spec)}): it is being indexed again; try once that is done.`);
					}
					return enc;
				},
				ocr: async () => (ocrEngine ??= new OcrEngine(bundledOcrModels(), { threads: 1, maxPixels: requireConfig().maxImagePixels, log })),
				indexing: async f => (await sessions.get(f.root))?.isWriting ?? false,
				uses: (f, store) => uses.get(f.root, store),
				maxPixels: requireConfig().maxImagePixels,
				log,
			},
			name,
			input,
		);
	},

	async forget({ root }) {
		uses.forget(root);
		(await sessions.get(root))?.forget();
		sessions.delete(root);
	},
};

// An orphaned worker (the editor's host gone) has nobody to answer: it ends.
process.on('disconnect', () => process.exit(0));

port?.on('message', (message: RequestMessage) => {
	if (message?.kind !== 'request') {
		return;
	}
	const handler = handlers[message.type] as (params: unknown) => Promise<unknown>;
	void (async () => {
		try {
			const result = await handler(message.params);
			send({ kind: 'response', id: message.id, ok: true, result });
		} catch (err) {
			const code = ClipError.is(err) ? err.code : 'Internal';
			const file = ClipError.is(err) ? err.file : undefined;
			if (!ClipError.is(err)) {
				log(`${message.type} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 'error');
			}
			send({ kind: 'response', id: message.id, ok: false, error: { code, message: describeError(err), file } });
		}
	})();
});
