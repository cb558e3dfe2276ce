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
import { isMissingFile, readRegularText } from '../common/confine';
import { type GitIgnoreRules, parseGitIgnore } from '../common/gitignore';
import { globMatcher } from '../common/glob';
import { isSafeRelativePath } from '../common/safePaths';
import { DEFAULT_EXCLUDE, DEFAULT_INCLUDE } from './imageFiles';


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
	/** Why the file cannot be indexed from its name alone (a name that is not valid UTF-8). */
	badName?: string;
}

/**
 * [Note: names that are not UTF-8] A file system may hold names that are not valid UTF-8 (bytes
 * from another encoding). Node decodes them with U+FFFD in place of the bad bytes, and that string
 * names no file: it cannot be opened, stored or shown as it is. Such files were passed over with a
 * line in the verbose log; now they are found (listed as bytes), stat'ed by their real name, and
 * listed among the failures with the reason, so a person sees which files to rename.
 */
async function rawNamesIn(dirAbs: string): Promise<Map<string, Buffer>> {
	const raw = await fs.readdir(dirAbs, { encoding: 'buffer' }).catch(() => [] as Buffer[]);
	const out = new Map<string, Buffer>();
	for (const name of raw) {
		const decoded = name.toString('utf8');
		if (!Buffer.from(decoded, 'utf8').equals(name)) {
			out.set(decoded, name);
		}
	}
	return out;
}

export type PathMatcher = (rel: string) => boolean;

/** Include and exclude globs as predicates; the always-excluded folders are excluded whatever `exclude` says. */
export function makeMatcher(include: string[] = DEFAULT_INCLUDE, exclude: string[] = []): { included: PathMatcher; excluded: PathMatcher } {
	// [Note: globs from anyone] in common/glob.ts: settings come with repositories too.
	const inc = globMatcher(include.length ? include : DEFAULT_INCLUDE, { nocase: true, source: 'include' });
	const exc = globMatcher([...DEFAULT_EXCLUDE, ...exclude], { nocase: true, source: 'exclude' });
	return { included: rel => inc(rel), excluded: rel => exc(rel) || exc(`${rel}/`) };
}

interface GitIgnoreScope {
	base: string; // rel folder ('' for the root)
	rules: GitIgnoreRules;
}

/** Whether the .gitignore files of `scopes` (outermost first) ignore `rel`: a deeper file's rules decide first, as in git. */
function ignoredByGit(scopes: GitIgnoreScope[], rel: string, isDir: boolean): boolean {
	for (let i = scopes.length - 1; i >= 0; i--) {
		const scope = scopes[i];
		const sub = scope.base ? rel.slice(scope.base.length + 1) : rel;
		const decided = sub ? scope.rules.decide(sub, isDir) : undefined;
		if (decided !== undefined) {
			return decided;
		}
	}
	return false;
}

/** A .gitignore file larger than this is reported and not used (git's own are a few KB). */
const MAX_GITIGNORE_BYTES = 4 * 1024 * 1024;

async function readGitIgnore(absRoot: string, dirRel: string, onError?: WalkOptions['onError']): Promise<GitIgnoreScope | undefined> {
	const file = path.join(absRoot, dirRel, '.gitignore');
	const shown = dirRel ? `${dirRel}/.gitignore` : '.gitignore';
	try {
		// [Note: .gitignore files from anyone] in common/gitignore.ts: bounded, lines past the bounds reported.
		// [Note: every read is bounded] in common/confine.ts: a FIFO .gitignore hung the watcher's walk.
		const rules = parseGitIgnore(await readRegularText(file, { maxBytes: MAX_GITIGNORE_BYTES, what: 'the .gitignore file' }), shown);
		rules.skipped.forEach(err => onError?.(shown, err));
		return { base: dirRel, rules };
	} catch (err) {
		if (!isMissingFile(err)) {
			onError?.(shown, err);
		}
		return undefined;
	}
}

/** The ancestors of a relative path, outermost first: 'a/b/c.png' → ['', 'a', 'a/b']. */
function ancestorsOf(rel: string): string[] {
	const parts = rel.split('/');
	const out = [''];
	for (let i = 1; i < parts.length; i++) {
		out.push(parts.slice(0, i).join('/'));
	}
	return out;
}

export interface WalkUnderOptions extends WalkOptions {
	/** Walk only this folder (relative to the root, '/'-separated), with the .gitignore rules of its ancestors. */
	under?: string;
}

export async function* walkImages(root: string, options: WalkUnderOptions = {}): AsyncGenerator<WalkedFile> {
	const { included, excluded } = makeMatcher(options.include, options.exclude);
	const useGit = options.gitignore ?? true;
	const absRoot = path.resolve(root);
	const start = options.under ?? '';
	const startScopes: GitIgnoreScope[] = [];
	if (start && useGit) {
		for (const dir of ancestorsOf(start)) {
			const scope = await readGitIgnore(absRoot, dir, options.onError);
			if (scope) {
				startScopes.push(scope);
			}
		}
	}
	// Depth-first with an explicit stack: no recursion limit, memory bounded by the tree's fan-out.
	const stack: { rel: string; scopes: GitIgnoreScope[] }[] = [{ rel: start, scopes: startScopes }];
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
			const scope = await readGitIgnore(absRoot, dirRel, options.onError);
			if (scope) {
				scopes = [...parentScopes, scope];
			}
		}
		entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
		const wanted: { rel: string; abs: string | Buffer; badName?: string }[] = [];
		const rawNames = entries.some(e => e.name.includes('\ufffd')) ? await rawNamesIn(dirAbs) : undefined;
		for (const entry of entries) {
			const rel = dirRel ? `${dirRel}/${entry.name}` : entry.name;
			const raw = rawNames?.get(entry.name);
			if (raw) {
				// [Note: names that are not UTF-8]
				if (entry.isDirectory()) {
					options.onError?.(rel, new Error('the folder name is not valid UTF-8; rename it to have its images indexed'));
				} else if (entry.isFile() && included(rel) && !excluded(rel)) {
					wanted.push({ rel, abs: Buffer.concat([Buffer.from(`${dirAbs}${path.sep}`), raw]), badName: `the file name is not valid UTF-8 (bytes ${raw.toString('hex').replace(/(..)/g, '$1 ').trim()}); rename it to have it indexed` });
				}
				continue;
			}
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
				const w = chunk[j];
				if (st instanceof Error) {
					options.onError?.(w.rel, st); // vanished between listing and stat
				} else {
					files.push({ rel: w.rel, abs: typeof w.abs === 'string' ? w.abs : path.join(dirAbs, w.rel.slice(w.rel.lastIndexOf('/') + 1)), size: st.size, mtimeMs: Math.trunc(st.mtimeMs), ...(w.badName ? { badName: w.badName } : {}) });
				}
			});
		}
		for (let i = files.length - 1; i >= 0; i--) {
			yield files[i];
		}
	}
}

export interface PathChanges {
	/** Image files among the paths (and inside the folders among them), to compare with the catalog. */
	files: WalkedFile[];
	/** Paths that are gone or no longer indexed (deleted, excluded, ignored, links): they and everything below them leave the catalog. */
	gone: string[];
	/** Folders among the paths that were walked: catalog entries below them that the walk did not yield are gone. */
	walkedFolders: string[];
}

/**
 * [Note: incremental updates] What a batch of watcher events changed, looking only at those paths:
 * a file is stat'ed and checked against the include/exclude globs and the .gitignore files of its
 * folders; a folder (created, or moved in) is walked; a path that no longer exists is gone. So one
 * changed file in a 100,000-file folder costs a few system calls, not a walk of the tree.
 */
export async function statPaths(root: string, rels: Iterable<string>, options: WalkOptions = {}): Promise<PathChanges> {
	const { included, excluded } = makeMatcher(options.include, options.exclude);
	const useGit = options.gitignore ?? true;
	const absRoot = path.resolve(root);
	const scopeCache = new Map<string, Promise<GitIgnoreScope | undefined>>();
	const scopesOf = async (rel: string): Promise<GitIgnoreScope[]> => {
		if (!useGit) {
			return [];
		}
		const scopes: GitIgnoreScope[] = [];
		for (const dir of ancestorsOf(rel)) {
			let scope = scopeCache.get(dir);
			if (!scope) {
				scope = readGitIgnore(absRoot, dir, options.onError);
				scopeCache.set(dir, scope);
			}
			const s = await scope;
			if (s) {
				scopes.push(s);
			}
		}
		return scopes;
	};
	/** Whether the path, or a folder above it, is excluded or ignored. */
	const hidden = (rel: string, scopes: GitIgnoreScope[], isDir: boolean): boolean => {
		const dirs = ancestorsOf(rel).filter(Boolean);
		if (dirs.some(d => excluded(d) || ignoredByGit(scopes, d, true))) {
			return true;
		}
		return isDir ? excluded(rel) || ignoredByGit(scopes, rel, true) : !included(rel) || excluded(rel) || ignoredByGit(scopes, rel, false);
	};
	// [Note: symbolic links] hold for every component, as in the walk: a path below a linked folder
	// is not indexed (the walk never enters the link), whatever the watcher reports.
	const folderCache = new Map<string, Promise<boolean>>();
	const realFolder = (dir: string): Promise<boolean> => {
		let known = folderCache.get(dir);
		if (!known) {
			known = fs.lstat(path.join(absRoot, ...dir.split('/'))).then(
				st => st.isDirectory(),
				() => false,
			);
			folderCache.set(dir, known);
		}
		return known;
	};
	const result: PathChanges = { files: [], gone: [], walkedFolders: [] };
	const unique = [...new Set(rels)].filter(isSafeRelativePath);
	for (const rel of unique) {
		if (options.signal?.aborted) {
			break;
		}
		const folders = ancestorsOf(rel).filter(Boolean);
		if (!(await Promise.all(folders.map(realFolder))).every(Boolean)) {
			result.gone.push(rel); // below a link (or a folder that is gone)
			continue;
		}
		const abs = path.join(absRoot, ...rel.split('/'));
		const st = await fs.lstat(abs).catch((err: unknown) => err as NodeJS.ErrnoException);
		if (st instanceof Error) {
			if (st.code !== 'ENOENT' && st.code !== 'ENOTDIR') {
				options.onError?.(rel, st);
			}
			result.gone.push(rel);
			continue;
		}
		const scopes = await scopesOf(rel);
		if (st.isDirectory()) {
			if (hidden(rel, scopes, true)) {
				result.gone.push(rel);
				continue;
			}
			result.walkedFolders.push(rel);
			for await (const file of walkImages(absRoot, { ...options, under: rel })) {
				result.files.push(file);
			}
		} else if (st.isFile() && !hidden(rel, scopes, false)) {
			result.files.push({ rel, abs, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) });
		} else {
			result.gone.push(rel); // a link, a pipe, or a file that is excluded or ignored now
		}
	}
	return result;
}
