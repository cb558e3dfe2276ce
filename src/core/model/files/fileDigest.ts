/**
 * @file SHA-256 of large files (model weights), computed once: the digest is kept in a small JSON
 * cache keyed by path, size and mtime, so a later process (another window, the CLI, the next
 * session) reads it instead of hashing hundreds of megabytes again. A cache that cannot be read or
 * written only costs a re-hash.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile';
import { MAX_JSON_BYTES, readRegularText, streamRegularFile } from '../../common/confine';
import { cacheHome } from '../../common/paths';

export async function sha256File(file: string): Promise<string> {
	const hash = createHash('sha256');
	await streamRegularFile(file, chunk => hash.update(chunk), 'the model file');
	return hash.digest('hex');
}

interface CacheEntry {
	size: number;
	mtimeMs: number;
	sha256: string;
}

const memory = new Map<string, CacheEntry>();

export function digestCacheFile(env: NodeJS.ProcessEnv = process.env): string {
	return path.join(cacheHome(env), 'file-digests.json');
}

async function readCache(cacheFile: string): Promise<Record<string, CacheEntry>> {
	try {
		const value = JSON.parse(await readRegularText(cacheFile, { maxBytes: MAX_JSON_BYTES })) as unknown;
		return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, CacheEntry>) : {};
	} catch {
		return {};
	}
}

/** The file's SHA-256, from the cache when its path, size and mtime are unchanged. */
export async function cachedSha256(file: string, cacheFile = digestCacheFile()): Promise<string> {
	const abs = path.resolve(file);
	const st = await fs.stat(abs);
	const fresh = (e: CacheEntry | undefined): e is CacheEntry => !!e && e.size === st.size && e.mtimeMs === st.mtimeMs && typeof e.sha256 === 'string';
	const known = memory.get(abs);
	if (fresh(known)) {
		return known.sha256;
	}
	const cache = await readCache(cacheFile);
	if (fresh(cache[abs])) {
		memory.set(abs, cache[abs]);
		return cache[abs].sha256;
	}
	const entry: CacheEntry = { size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(abs) };
	memory.set(abs, entry);
	try {
		const latest = await readCache(cacheFile); // another process may have added entries meanwhile
		latest[abs] = entry;
		await fs.mkdir(path.dirname(cacheFile), { recursive: true });
		await writeFileAtomic(cacheFile, JSON.stringify(latest));
	} catch {
		// [Note: digest cache] a read-only or full disk only means hashing again next time
	}
	return entry.sha256;
}

/** Forgets the in-memory digests (tests). */
export function clearDigestMemory(): void {
	memory.clear();
}
