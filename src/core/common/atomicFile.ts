/**
 * @file Crash-safe file writes: write a temporary sibling, fsync it, then rename over the target.
 * A reader (or a process that starts after a crash) sees either the old file or the new one.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export function tempSibling(file: string): string {
	return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
	const tmp = tempSibling(file);
	const handle = await fs.open(tmp, 'w');
	try {
		await handle.writeFile(data);
		await handle.sync();
	} finally {
		await handle.close();
	}
	try {
		await fs.rename(tmp, file);
	} catch (err) {
		await fs.rm(tmp, { force: true });
		throw err;
	}
}

/** Atomically moves a finished temporary file into place, after fsyncing it. */
export async function commitFile(tmp: string, file: string): Promise<void> {
	const handle = await fs.open(tmp, 'r+');
	try {
		await handle.sync();
	} finally {
		await handle.close();
	}
	await fs.rename(tmp, file);
}
