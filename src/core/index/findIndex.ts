/**
 * @file Which index a command run in some folder reads, as git finds its repository: the index of
 * the folder, else of the nearest folder above it that has one. From above an indexed folder, the
 * error names the indexes below (it said "no index" and advised indexing again).
 */
import { promises as fs } from 'node:fs';
import { readRegularFile } from '../common/confine';
import * as path from 'node:path';
import { ClipError } from '../common/errors';
import { isInside } from '../common/safePaths';
import { cacheHome, defaultIndexDir } from '../common/paths';
import { IndexStore } from './indexStore';

/** The indexed folder a catalog names, read from its first bytes (the catalog writes `root` second). */
async function rootOf(dir: string): Promise<string | undefined> {
	const generation = await IndexStore.generationOnDisk(dir);
	if (generation === undefined) {
		return undefined;
	}
	const head = await readRegularFile(path.join(dir, `catalog-${generation}.json`), { maxBytes: 8192, head: true, what: 'the index file' }).then(
		b => b.toString('utf8'),
		() => '',
	);
	const m = /"root":("(?:[^"\\]|\\.)*")/.exec(head);
	try {
		return m ? (JSON.parse(m[1]) as string) : undefined;
	} catch {
		return undefined;
	}
}

/** The roots of the default indexes that lie below `folder` (for the "not found" message). */
export async function indexesBelow(folder: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
	const base = path.join(cacheHome(env), 'indexes');
	const names = await fs.readdir(base).catch(() => [] as string[]);
	const roots: string[] = [];
	for (const name of names) {
		const root = await rootOf(path.join(base, name));
		if (root && root !== path.resolve(folder) && isInside(folder, root)) {
			roots.push(root);
		}
	}
	return roots.sort();
}

/**
 * The default index a command run in `cwd` reads: `cwd`'s, else the nearest ancestor's. IndexNotFound
 * names the indexes below `cwd` when there are some, and says how to make one when there are none.
 */
export async function findIndexDir(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ dir: string; root: string }> {
	const start = path.resolve(cwd);
	for (let folder = start; ; folder = path.dirname(folder)) {
		const dir = defaultIndexDir(folder, env);
		if (await IndexStore.exists(dir)) {
			return { dir, root: folder };
		}
		if (path.dirname(folder) === folder) {
			break;
		}
	}
	const below = await indexesBelow(start, env);
	if (below.length) {
		const shown = below.slice(0, 5).map(r => path.relative(start, r) || '.').join(', ');
		throw new ClipError(
			'IndexNotFound',
			`No index for ${start} or a folder above it; there ${below.length === 1 ? 'is one' : `are ${below.length}`} below it: ${shown}${below.length > 5 ? ', …' : ''}. Run the command in that folder, or index this one with clip-search index .`,
		);
	}
	throw new ClipError('IndexNotFound', `No index for ${start} or a folder above it. Run "clip-search index ." here (or in the folder whose images you want) first.`);
}
