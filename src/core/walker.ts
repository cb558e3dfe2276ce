/**
 * @file Streams the image files under a root: include globs, exclude globs, .gitignore files
 * (each one applies below its folder), and the folders nobody wants scanned.
 *
 * [Note: symbolic links] Links are not followed, to files or to folders. Following them would
 * allow endless walks (a link to an ancestor) and reach files outside the root; a linked image
 * is usually a second name for one already indexed.
 */
import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'jfif', 'webp', 'gif', 'avif', 'tif', 'tiff', 'svg', 'bmp', 'ico', 'heic', 'heif'];
export const DEFAULT_INCLUDE = [`**/*.{${IMAGE_EXTENSIONS.join(',')}}`];
export const DEFAULT_EXCLUDE = ['**/node_modules/**', '**/.git/**', '**/.hg/**', '**/.svn/**'];

export interface WalkOptions {
	include?: string[];
	exclude?: string[];
	/** Honour .gitignore files (default true). */
	gitignore?: boolean;
	signal?: AbortSignal;
	/** Called for folders that cannot be listed; the walk goes on. */
	onError?: (rel: string, err: unknown) => void;
}

export interface WalkedFile {
	/** Relative to the root, with '/' separators. */
	rel: string;
	abs: string;
	size: number;
	mtimeMs: number;
}

export type PathMatcher = (rel: string) => boolean;

export function makeMatcher(include: string[] = DEFAULT_INCLUDE, exclude: string[] = DEFAULT_EXCLUDE): { included: PathMatcher; excluded: PathMatcher } {
	const opts = { dot: true, nocase: true };
	const inc = picomatch(include, opts);
	const exc = exclude.length ? picomatch(exclude, opts) : () => false;
	return { included: rel => inc(rel), excluded: rel => exc(rel) || exc(`${rel}/`) };
}

interface GitIgnoreScope {
	base: string; // rel folder ('' for the root)
	rules: Ignore;
}

function ignoredByGit(scopes: GitIgnoreScope[], rel: string, isDir: boolean): boolean {
	for (const scope of scopes) {
		const sub = scope.base ? rel.slice(scope.base.length + 1) : rel;
		if (sub && scope.rules.ignores(isDir ? `${sub}/` : sub)) {
			return true;
		}
	}
	return false;
}

export async function* walkImages(root: string, options: WalkOptions = {}): AsyncGenerator<WalkedFile> {
	const { included, excluded } = makeMatcher(options.include, options.exclude);
	const useGit = options.gitignore ?? true;
	const absRoot = path.resolve(root);
	// Depth-first with an explicit stack: no recursion limit, memory bounded by the tree's fan-out.
	const stack: { rel: string; scopes: GitIgnoreScope[] }[] = [{ rel: '', scopes: [] }];
	while (stack.length) {
		if (options.signal?.aborted) {
			return;
		}
		const { rel: dirRel, scopes: parentScopes } = stack.pop()!;
		const dirAbs = dirRel ? path.join(absRoot, dirRel) : absRoot;
		let entries: Dirent[];
		try {
			entries = await fs.readdir(dirAbs, { withFileTypes: true });
		} catch (err) {
			options.onError?.(dirRel || '.', err);
			continue;
		}
		let scopes = parentScopes;
		if (useGit && entries.some(e => e.name === '.gitignore' && e.isFile())) {
			try {
				const rules = ignore().add(await fs.readFile(path.join(dirAbs, '.gitignore'), 'utf8'));
				scopes = [...parentScopes, { base: dirRel, rules }];
			} catch (err) {
				options.onError?.(dirRel ? `${dirRel}/.gitignore` : '.gitignore', err);
			}
		}
		entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
		const wanted: { rel: string; abs: string }[] = [];
		for (const entry of entries) {
			const rel = dirRel ? `${dirRel}/${entry.name}` : entry.name;
			if (entry.isDirectory()) {
				if (!excluded(rel) && !ignoredByGit(scopes, rel, true)) {
					stack.push({ rel, scopes });
				}
			} else if (entry.isFile() && included(rel) && !excluded(rel) && !ignoredByGit(scopes, rel, false)) {
				wanted.push({ rel, abs: path.join(dirAbs, entry.name) });
			}
		}
		// Stat a folder's files a chunk at a time in parallel (libuv's pool): a no-op re-index is
		// mostly these calls.
		const files: WalkedFile[] = [];
		for (let i = 0; i < wanted.length; i += 64) {
			const chunk = wanted.slice(i, i + 64);
			const stats = await Promise.all(chunk.map(w => fs.stat(w.abs).catch((err: unknown) => err as Error)));
			stats.forEach((st, j) => {
				if (st instanceof Error) {
					options.onError?.(chunk[j].rel, st); // vanished between listing and stat
				} else {
					files.push({ rel: chunk[j].rel, abs: chunk[j].abs, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) });
				}
			});
		}
		for (let i = files.length - 1; i >= 0; i--) {
			yield files[i];
		}
	}
}
