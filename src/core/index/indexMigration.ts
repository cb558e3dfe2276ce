/**
 * @file Moves an index from where an older version kept it to where it lives now, instead of
 * embedding every image again. [Note: index location] The extension used to keep a folder's index
 * in VS Code's per-window workspace storage, so a second window (which VS Code gives storage of its
 * own) and the CLI each built another copy. Now every process uses one index per folder.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IndexStore } from './indexStore';
import { foreignIndexDir } from './indexDir';
import { currentLockHolder } from './lock';

/**
 * When `to` holds no index and one of `from` does (and nobody is writing it), moves that one to
 * `to`. Returns the folder it came from, or undefined when nothing was moved.
 */
export async function adoptLegacyIndex(from: string[], to: string, log: (m: string) => void = () => undefined): Promise<string | undefined> {
	if (await IndexStore.exists(to)) {
		return undefined;
	}
	for (const old of from) {
		if (path.resolve(old) === path.resolve(to) || !(await IndexStore.exists(old))) {
			continue;
		}
		const holder = await currentLockHolder(old);
		if (holder) {
			log(`The old index in ${old} is being written by process ${holder.pid}: not moved.`);
			continue;
		}
		const foreign = await foreignIndexDir(to);
		if (foreign) {
			log(`The old index in ${old} was not moved: ${foreign.message}`);
			return undefined;
		}
		await fs.mkdir(path.dirname(to), { recursive: true });
		await fs.rm(to, { recursive: true, force: true }); // missing, empty, or only our own files without a manifest
		try {
			await fs.rename(old, to);
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EXDEV') {
				throw err;
			}
			await fs.cp(old, to, { recursive: true });
			await fs.rm(old, { recursive: true, force: true });
		}
		await fs.rm(path.join(to, 'index.lock'), { force: true });
		log(`Moved the index from ${old} to ${to}.`);
		return old;
	}
	return undefined;
}
