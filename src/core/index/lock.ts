/**
 * @file One writer per index folder. The lock is a file created exclusively (O_EXCL) that names its
 * holder; a lock whose process is gone (crash, SIGKILL) is stale and is taken over. Two indexers
 * on one folder (two CLI runs, two VS Code windows) therefore never write at once: the second
 * waits up to `waitMs`, then fails with IndexLocked naming the holder.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClipError } from '../common/errors';

/** Who holds an index's lock: what the lock file says. */
export interface LockHolder {
	pid: number;
	host: string;
	since: string;
	/** What the holder is doing, e.g. "VS Code: indexing /work/assets" or "clip-search index /work/assets". */
	purpose: string;
}
type LockInfo = LockHolder;

export interface IndexLock {
	release(): Promise<void>;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === 'EPERM';
	}
}

async function readLock(file: string): Promise<LockInfo | undefined> {
	try {
		return JSON.parse(await fs.readFile(file, 'utf8')) as LockInfo;
	} catch {
		return undefined;
	}
}

/** The live holder of the lock in `dir`, or undefined when nobody (alive) holds it. */
export async function currentLockHolder(dir: string): Promise<LockHolder | undefined> {
	const holder = await readLock(path.join(dir, 'index.lock'));
	if (!holder || (holder.host === os.hostname() && !alive(holder.pid))) {
		return undefined;
	}
	return holder;
}

export async function acquireIndexLock(dir: string, options: { purpose?: string; waitMs?: number; signal?: AbortSignal } = {}): Promise<IndexLock> {
	await fs.mkdir(dir, { recursive: true });
	const file = path.join(dir, 'index.lock');
	const info: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), purpose: options.purpose ?? 'indexing' };
	const deadline = Date.now() + (options.waitMs ?? 0);
	for (;;) {
		try {
			await fs.writeFile(file, JSON.stringify(info), { flag: 'wx' });
			let released = false;
			return {
				release: async () => {
					if (!released) {
						released = true;
						const current = await readLock(file);
						if (current?.pid === process.pid) {
							await fs.rm(file, { force: true });
						}
					}
				},
			};
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
				throw err;
			}
		}
		const holder = await readLock(file);
		// [Note: stale locks] Only a lock from this host can be checked for liveness; one whose
		// file is unreadable (a crash between create and write) is stale too.
		if (!holder || (holder.host === os.hostname() && !alive(holder.pid))) {
			await fs.rm(file, { force: true });
			continue;
		}
		if (Date.now() >= deadline || options.signal?.aborted) {
			throw new ClipError(
				'IndexLocked',
				`The index in ${dir} is being written by process ${holder.pid} on ${holder.host} (${holder.purpose} since ${holder.since}). Wait for it to finish, or stop it.`,
				{ file },
			);
		}
		await new Promise(resolve => setTimeout(resolve, 200));
	}
}
