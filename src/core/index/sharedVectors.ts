/**
 * @file The indexer's side of a team store (remoteVectors.ts): before embedding, the new and changed
 * files are hashed and the store's vectors for those hashes are taken; after the run, what the store
 * lacks is pushed and a library's file list published.
 *
 * [Note: a store that fails] The store is a cache, never a dependency: unreachable at the start, or
 * dropping mid-pull or mid-push, the run goes on locally — what was pulled is kept, the rest is
 * embedded here, the log says so, and the next run tries again (a push sends everything the store
 * lacks, so nothing from a failed push is lost).
 */
import { readRegularFile } from '../common/confine';
import { describeError } from '../common/errors';
import { vectorProblem } from '../common/vectors';
import { contentHash, contentHashOfFile, maxImageFileBytes, STREAM_ABOVE } from '../common/files';
import type { IndexStore } from './indexStore';
import type { RemoteVectors } from './remoteVectors';
import type { WalkedFile } from './walker';

async function hashOf(file: WalkedFile): Promise<string | undefined> {
	try {
		return file.size > STREAM_ABOVE ? await contentHashOfFile(file.abs) : contentHash(await readRegularFile(file.abs, { maxBytes: STREAM_ABOVE, what: 'the image' }));
	} catch {
		return undefined; // the embedding pass reports it
	}
}

/**
 * Takes from the store the vectors of `todo`'s contents that it has. Returns the files still to embed
 * and how many vectors came from the store.
 */
export async function pullShared(
	store: IndexStore,
	todo: WalkedFile[],
	remote: RemoteVectors,
	options: { maxPixels: number; log: (m: string) => void; signal?: AbortSignal },
): Promise<{ rest: WalkedFile[]; pulled: number; reused: number }> {
	const { log, signal } = options;
	// A file too big to be an image is not hashed here: the embedding pass refuses it from its size
	// ([Note: files too big to be images] in common/files.ts), and hashing it would read it whole.
	const maxBytes = maxImageFileBytes(options.maxPixels);
	const started = performance.now();
	const hashes = new Map<WalkedFile, string>();
	let next = 0;
	await Promise.all(
		Array.from({ length: 4 }, async () => {
			while (next < todo.length && !signal?.aborted) {
				const file = todo[next++];
				const h = file.size <= maxBytes ? await hashOf(file) : undefined;
				if (h) {
					hashes.set(file, h);
				}
			}
		}),
	);
	const wanted = [...new Set([...hashes.values()].filter(h => !store.hasEmbedding(h)))];
	let found = new Map<string, Float32Array>();
	try {
		found = await remote.pull(wanted);
	} catch (err) {
		found = (err as { partial?: Map<string, Float32Array> }).partial ?? found;
		log(`team store ${remote.label}: ${describeError(err)}; ${found.size} vector(s) pulled before that, the rest are embedded here (the next run tries the store again)`);
	}
	// The store checks too; this is the index's own guard against a vector it cannot hold.
	const refused = [...found].map(([h, v]) => [h, vectorProblem(v, store.model.dim)] as const).filter(([, problem]) => problem);
	if (refused.length) {
		log(`team store ${remote.label}: ${refused.length} vector(s) refused (${refused[0][1]}), those files are embedded here`);
		refused.forEach(([h]) => found.delete(h));
	}
	for (const [hash, vector] of found) {
		store.addEmbedding(hash, vector);
	}
	const rest: WalkedFile[] = [];
	let reused = 0;
	for (const file of todo) {
		const h = hashes.get(file);
		if (h && store.hasEmbedding(h)) {
			store.setFile(file.rel, { size: file.size, mtimeMs: file.mtimeMs, hash: h });
			reused += found.has(h) ? 0 : 1;
		} else {
			rest.push(file);
		}
	}
	log(`team store ${remote.label}: ${found.size} of ${wanted.length} vector(s) pulled in ${((performance.now() - started) / 1000).toFixed(1)} s; ${rest.length} file(s) to embed here`);
	return { rest, pulled: found.size, reused };
}

/** Pushes every vector of the index the store lacks, and publishes the library's files. Never throws. */
export async function pushShared(store: IndexStore, remote: RemoteVectors, log: (m: string) => void): Promise<number> {
	if (!remote.pushing) {
		return 0;
	}
	try {
		const local = new Map([...store.vectors()].map(v => [v.hash, v.vector]));
		const lacking = await remote.missing([...local.keys()]);
		const added = await remote.push(new Map(lacking.map(h => [h, local.get(h)!])));
		const files = new Map<string, string>();
		const facts = new Map<string, { size: number; mtimeMs: number; format?: string; width?: number; height?: number }>();
		for (const [rel, entry] of store.files) {
			if (entry.hash && !entry.error) {
				files.set(rel, entry.hash);
				const info = store.infoOf(entry.hash);
				facts.set(rel, { size: entry.size, mtimeMs: entry.mtimeMs, ...(info ? { format: info.format, width: info.width, height: info.height } : {}) });
			}
		}
		await remote.publishFiles?.(files, facts);
		log(`team store ${remote.label}: ${added} vector(s) pushed (${local.size - lacking.length} were there already)`);
		return added;
	} catch (err) {
		log(`team store ${remote.label}: the push failed (${describeError(err)}); the index here is complete, and the next run with --push sends what the store lacks`);
		return 0;
	}
}
