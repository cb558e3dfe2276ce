/**
 * @file The inference worker (a worker thread): owns the ONNX sessions, the indexes of the
 * workspace folders and all decoding, so the extension host's thread never runs a model or
 * decodes an image. Sessions are created lazily on first use and reused.
 *
 * [Note: queries during indexing] A folder's index lives here in memory while it is indexed;
 * searches read that same store, so a query typed during indexing is answered from what has been
 * indexed so far. The text tower and the image tower are separate sessions, so a query does not
 * wait for an image batch to finish.
 */
import { parentPort } from 'node:worker_threads';
import { findDuplicates } from '../../core/duplicates';
import { ClipEncoder } from '../../core/encoder';
import { ClipError, describeError } from '../../core/errors';
import { indexFolder } from '../../core/indexer';
import { IndexStore } from '../../core/indexStore';
import { openIndexForWriting } from '../../core/indexSession';
import { ZeroShotLabeler } from '../../core/labeler';
import { acquireIndexLock } from '../../core/lock';
import { downloadSize, findKnownModel } from '../../core/modelRegistry';
import { needsDownload, resolveModel } from '../../core/modelResolver';
import { modelKey, type ModelSpec } from '../../core/modelSpec';
import { search, similar } from '../../core/search';
import { thumbnail } from '../../core/thumbnail';
import type { EventMessage, RequestMap, RequestMessage, RequestType, WorkerConfig, WorkerMessage } from './protocol';

interface Folder {
	store: IndexStore;
	controller?: AbortController;
}

const port = parentPort;
let config: WorkerConfig | undefined;
let specPromise: Promise<ModelSpec> | undefined;
let encoder: ClipEncoder | undefined;
let download: AbortController | undefined;
const folders = new Map<string, Folder>();

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
			allowDownload,
			signal: download.signal,
			log,
			onProgress: p => send({ kind: 'event', type: 'download', file: p.file, loaded: p.loaded, total: p.total, status: p.status }),
		}).then(
			spec => {
				log(`model: ${modelKey(spec)} (${spec.dim}-d, input ${spec.preprocess.width}×${spec.preprocess.height}) ready in ${Date.now() - started} ms`);
				return spec;
			},
			err => {
				specPromise = undefined; // a later call may download, or find the folder fixed
				throw err;
			},
		);
	}
	const spec = await specPromise;
	encoder ??= new ClipEncoder(spec, { provider: cfg.provider, threads: cfg.threads, log });
	return { spec, encoder };
}

/** The in-memory store of a folder: the one being indexed, else the committed one on disk. */
async function folderStore(root: string, indexDir?: string): Promise<IndexStore | undefined> {
	const known = folders.get(root);
	if (known) {
		return known.store;
	}
	if (!indexDir || !(await IndexStore.exists(indexDir))) {
		return undefined;
	}
	const store = await IndexStore.load(indexDir);
	folders.set(root, { store });
	return store;
}

const handlers: { [T in RequestType]: (params: RequestMap[T]['params']) => Promise<RequestMap[T]['result']> } = {
	async configure(params) {
		const modelChanged = !config || config.model !== params.model || config.variant !== params.variant || config.provider !== params.provider || config.threads !== params.threads;
		config = params;
		if (modelChanged) {
			for (const f of folders.values()) {
				f.controller?.abort();
			}
			folders.clear();
			specPromise = undefined;
			await encoder?.dispose();
			encoder = undefined;
		}
	},

	async modelStatus() {
		const cfg = requireConfig();
		const known = findKnownModel(cfg.model);
		return {
			id: known?.id ?? cfg.model,
			needsDownload: await needsDownload(cfg.model, { variant: cfg.variant, cacheDir: cfg.modelCacheDir }),
			downloadBytes: known ? downloadSize(known, cfg.variant) : 0,
		};
	},

	async ensureModel() {
		const { spec } = await model(true);
		return { id: spec.id, dim: spec.dim };
	},

	async cancelDownload() {
		download?.abort();
	},

	async index({ root, indexDir }) {
		const cfg = requireConfig();
		const { spec, encoder: enc } = await model(false);
		const lock = await acquireIndexLock(indexDir, { purpose: `VS Code: indexing ${root}` });
		const controller = new AbortController();
		try {
			let folder = folders.get(root);
			if (!folder || folder.store.model.key !== modelKey(spec)) {
				folder = { store: await openIndexForWriting(indexDir, root, spec, m => log(m, 'warn')) };
				folders.set(root, folder);
			}
			folder.controller = controller;
			const result = await indexFolder(folder.store, enc, {
				include: cfg.include,
				exclude: cfg.exclude,
				maxPixels: cfg.maxImagePixels,
				signal: controller.signal,
				log,
				onProgress: progress => send({ kind: 'event', type: 'progress', root, progress }),
			});
			log(
				`index ${root}: ${result.scanned} images, ${result.embedded} embedded, ${result.reused} reused, ${result.removed} removed, ${result.failed.length} failed in ${result.seconds.toFixed(1)} s (${enc.providersUsed.vision ?? folder.store.provider ?? 'no'} provider)`,
			);
			return result;
		} finally {
			const f = folders.get(root);
			if (f?.controller === controller) {
				f.controller = undefined;
			}
			await lock.release();
		}
	},

	async cancelIndex({ root }) {
		folders.get(root)?.controller?.abort();
	},

	async search({ root, query, k, minScore, scope }) {
		const store = await folderStore(root);
		if (!store) {
			return [];
		}
		const { encoder: enc } = await model(false);
		return search(store, enc, query, { k, minScore, scope, cwd: root });
	},

	async similar({ root, file, k, minScore }) {
		const store = await folderStore(root);
		if (!store) {
			return [];
		}
		const { encoder: enc } = await model(false);
		return similar(store, enc, file, { k, minScore, cwd: root });
	},

	async label({ root, classes, threshold, multi, scope }) {
		const store = await folderStore(root);
		if (!store) {
			return [];
		}
		const { encoder: enc } = await model(false);
		const labeler = await ZeroShotLabeler.create(enc, classes);
		return labeler.labelIndex(store, { threshold, multi, scope });
	},

	async duplicates({ root, threshold }) {
		const store = await folderStore(root);
		return store ? findDuplicates(store, threshold) : [];
	},

	async status({ root }) {
		const store = await folderStore(root);
		if (!store) {
			return undefined;
		}
		const failed = [...store.files].filter(([, e]) => e.error).map(([p, e]) => ({ path: p, error: e.error! }));
		return {
			root,
			indexDir: store.dir,
			files: store.files.size,
			indexed: store.files.size - failed.length,
			vectors: store.vectorCount,
			failed,
			model: store.model.key,
			provider: encoder?.providersUsed.vision ?? store.provider,
			indexBytes: await store.diskSize(),
		};
	},

	async thumbnail({ file, size }) {
		const cfg = requireConfig();
		return thumbnail(file, size, cfg.thumbnailDir, cfg.maxImagePixels);
	},

	async forget({ root }) {
		folders.get(root)?.controller?.abort();
		folders.delete(root);
	},
};

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
