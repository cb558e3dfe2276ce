/**
 * @file A scope: the folder of an index a search, a labelling or a duplicate search is limited to.
 * `.`, `./` (run in the root), the root's own path and nothing at all are the whole folder; `./assets/`, `assets/` and
 * an absolute path inside the root are `assets`; a scope that names no folder of the index is an
 * error naming it (it answered "No matching images." before, as if the search had run).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClipError } from '../common/errors';
import { isInside } from '../common/safePaths';
import type { IndexStore } from '../index/indexStore';

/**
 * The scope as a relative folder ('/'-separated, no trailing slash), or undefined for the whole folder.
 * A relative scope is read from `cwd` when that is inside the folder (a command run in a subfolder:
 * `--scope .` is that subfolder, as a shell reads it), else from the folder's root.
 */
export async function resolveScope(store: IndexStore, scope: string | undefined, where = 'scope', cwd?: string): Promise<string | undefined> {
	if (scope === undefined || scope.trim() === '') {
		return undefined;
	}
	const base = cwd !== undefined && isInside(store.root, path.resolve(cwd)) ? path.resolve(cwd) : store.root;
	const abs = path.resolve(base, scope.replace(/\\/g, '/'));
	if (!isInside(store.root, abs)) {
		throw new ClipError('InvalidArgument', `${where} ${scope} is outside the indexed folder ${store.root}: give a folder inside it (relative to it, e.g. assets/icons).`);
	}
	const rel = path.relative(store.root, abs).split(path.sep).join('/');
	if (!rel) {
		return undefined;
	}
	const prefix = `${rel}/`;
	const onDisk = await fs.stat(abs).then(st => st.isDirectory(), () => false);
	if (!onDisk && ![...store.files.keys()].some(k => k.startsWith(prefix))) {
		throw new ClipError('InvalidArgument', `${where} ${scope}: no such folder in ${store.root}. Give a folder of the index, relative to it (e.g. assets/icons), or . for all of it.`);
	}
	return rel;
}
