/**
 * @file The indexer's bookkeeping: which files need work (phase 1: a walk of the folder or the
 * changed paths, and what is gone), and the facts older indexes lack (format, pixel size, read from
 * the headers). indexer.ts runs the pipeline; this file decides what goes into it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describeError } from '../common/errors';
import { readImageInfo } from '../model/inputs/preprocess';
import type { IndexOptions, IndexProgress } from './indexRun';
import type { IndexStore } from './indexStore';
import { statPaths, type WalkedFile, walkImages } from './walker';

export interface ScanOutcome {
	/** New or changed files, to read and embed. */
	todo: WalkedFile[];
	scanned: number;
	removed: number;
}

/** Whether a catalog entry (or a file it stands for) differs from what is on disk now. */
function changed(store: IndexStore, file: WalkedFile): boolean {
	const known = store.files.get(file.rel);
	return !known || known.size !== file.size || known.mtimeMs !== file.mtimeMs;
}

/** Phase 1 of a full run: walk the folder; what is new or changed, what is gone. */
async function scanFolder(store: IndexStore, options: IndexOptions, progress: IndexProgress, report: () => void): Promise<ScanOutcome | undefined> {
	const todo: WalkedFile[] = [];
	const seen = new Set<string>();
	let lastReport = 0;
	for await (const file of walkImages(store.root, {
		include: options.include,
		exclude: options.exclude,
		gitignore: options.gitignore,
		signal: options.signal,
		onError: (rel, err) => options.log?.(`cannot read ${rel}: ${describeError(err)}`),
	})) {
		seen.add(file.rel);
		progress.found++;
		if (changed(store, file)) {
			todo.push(file);
		}
		if (progress.found - lastReport >= 500) {
			lastReport = progress.found;
			report();
		}
	}
	if (options.signal?.aborted) {
		return undefined;
	}
	let removed = 0;
	for (const rel of [...store.files.keys()]) {
		if (!seen.has(rel)) {
			store.removeFile(rel);
			removed++;
		}
	}
	return { todo, scanned: progress.found, removed };
}

/** Phase 1 of an incremental run: only the changed paths (see the note in walker.ts). */
async function scanChangedPaths(store: IndexStore, paths: Iterable<string>, options: IndexOptions, progress: IndexProgress): Promise<ScanOutcome> {
	const changes = await statPaths(store.root, paths, {
		include: options.include,
		exclude: options.exclude,
		gitignore: options.gitignore,
		signal: options.signal,
		onError: (rel, err) => options.log?.(`cannot read ${rel}: ${describeError(err)}`),
	});
	progress.found = changes.files.length;
	const seen = new Set(changes.files.map(f => f.rel));
	// Files below a gone path, or below a walked folder but not found by its walk, leave the catalog.
	const prefixes = [...changes.gone, ...changes.walkedFolders].map(p => `${p}/`);
	let removed = 0;
	for (const rel of changes.gone) {
		if (store.files.has(rel)) {
			store.removeFile(rel);
			removed++;
		}
	}
	if (prefixes.length) {
		for (const rel of [...store.files.keys()]) {
			if (!seen.has(rel) && prefixes.some(p => rel.startsWith(p))) {
				store.removeFile(rel);
				removed++;
			}
		}
	}
	return { todo: changes.files.filter(f => changed(store, f)), scanned: changes.files.length, removed };
}

/**
 * Phase 1 alone: what is new, changed or gone, by a walk or by the changed `paths`; gone files
 * leave the catalog. (indexFolder runs it first; the bench times it on its own.)
 */
export async function scanForChanges(
	store: IndexStore,
	options: IndexOptions = {},
	progress: IndexProgress = { phase: 'scanning', found: 0, todo: 0, done: 0, failed: 0, imagesPerSecond: 0 },
	report: () => void = () => undefined,
): Promise<ScanOutcome | undefined> {
	return options.paths === undefined ? scanFolder(store, options, progress, report) : scanChangedPaths(store, options.paths, options, progress);
}

/**
 * Records the format and pixel size of contents indexed before they were recorded (older indexes, or
 * vectors pulled from a team store): the file's header only, four at a time. A file that cannot be
 * read now keeps no record (the query filters then count it as unknown).
 */
export async function recordImageInfo(store: IndexStore, signal: AbortSignal | undefined, log: (m: string) => void): Promise<void> {
	const missing = store.hashesWithoutInfo();
	if (!missing.length) {
		return;
	}
	const started = performance.now();
	let next = 0;
	let read = 0;
	await Promise.all(
		Array.from({ length: Math.min(4, missing.length) }, async () => {
			while (next < missing.length && !signal?.aborted) {
				const hash = missing[next++];
				const rel = store.filesOfLabel(store.labelOf(hash) ?? -1)[0];
				const abs = rel ? path.join(store.root, rel) : undefined;
				// A regular file only (the walk saw one; a swap since for a link, a FIFO or a device is passed over).
				const regular = abs ? (await fs.lstat(abs).catch(() => undefined))?.isFile() : false;
				const info = abs && regular ? await readImageInfo(abs) : undefined;
				if (info) {
					store.setInfo(hash, info);
					read++;
				}
			}
		}),
	);
	log(`image facts: ${read} of ${missing.length} images' format and size read from their headers (${(performance.now() - started).toFixed(0)} ms)`);
}
