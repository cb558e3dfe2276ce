/**
 * @file One writer per index folder. The lock is a file created exclusively (O_EXCL) that names its
 * holder; a lock whose process is gone (crash, SIGKILL) is stale and is taken over. Two indexers
 * on one folder (two CLI runs, two VS Code windows) therefore never write at once: the second
 * waits up to `waitMs`, then fails with IndexLocked naming the holder.
 *
 * [Note: stale locks] A lock is stale, and taken over, when its file is unreadable or not of our
 * shape (a crash between create and write, or a file someone planted: a pid of -1 or 0 would
 * otherwise match no process and never go stale), when it is from this host and its process is
 * gone, or when it is from another host (a shared or synced folder) and its holder stopped
 * refreshing it: a holder rewrites `updated` every LOCK_REFRESH_MS while it works, and a lock not
 * refreshed for LOCK_STALE_MS is stale. The clock is injected (tests).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClipError } from '../common/errors';
import { MAX_MANIFEST_BYTES, readIndexText } from './catalogFile';
import { claimIndexDir } from './indexDir';

/** Who holds an index's lock: what the lock file says. */
export interface LockHolder {
	pid: number;
	host: string;
	since: string;
	/** When the holder last said it is still working (ISO); absent in locks of earlier versions. */
	updated?: string;
	/** What the holder is doing, e.g. "VS Code: indexing /work/assets" or "clip-search index /work/assets". */
	purpose: string;
}

export interface IndexLock {
	release(): Promise<void>;
	/** Rewrites the lock's `updated` time (done every LOCK_REFRESH_MS while held). */
	refresh(): Promise<void>;
}

export const LOCK_REFRESH_MS = 30_000;
export const LOCK_STALE_MS = 5 * 60_000;

export interface LockClock {
	now(): number;
	/** Starts the refresh timer; returns its stop. Default: an unref'd setInterval. */
	every(ms: number, fn: () => void): () => void;
}

const systemClock: LockClock = {
	now: () => Date.now(),
	every: (ms, fn) => {
		const timer = setInterval(fn, ms);
		timer.unref();
		return () => clearInterval(timer);
	},
};

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** The lock file's holder when it is of our shape (a positive whole pid, a host, times that parse); else undefined. */
async function readLock(file: string): Promise<LockHolder | undefined> {
	try {
		const h = JSON.parse(await readIndexText(file, MAX_MANIFEST_BYTES)) as Partial<LockHolder>;
		const validTime = (t: unknown): boolean => typeof t === 'string' && Number.isFinite(Date.parse(t));
		if (
			!h ||
			!Number.isSafeInteger(h.pid) ||
			(h.pid as number) < 1 ||
			typeof h.host !== 'string' ||
			!h.host ||
			!validTime(h.since) ||
			(h.updated !== undefined && !validTime(h.updated)) ||
			typeof h.purpose !== 'string'
		) {
			return undefined;
		}
		return h as LockHolder;
	} catch {
		return undefined;
	}
}

/** How long ago the holder last refreshed the lock, in ms. */
function ageOf(holder: LockHolder, clock: LockClock): number {
	return clock.now() - Date.parse(holder.updated ?? holder.since);
}

/** [Note: stale locks] */
function isLive(holder: LockHolder | undefined, clock: LockClock): holder is LockHolder {
	if (!holder) {
		return false;
	}
	if (holder.host === os.hostname()) {
		return alive(holder.pid);
	}
	return ageOf(holder, clock) < LOCK_STALE_MS;
}

function describeAge(ms: number): string {
	const s = Math.max(0, Math.round(ms / 1000));
	return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** The live holder of the lock in `dir`, or undefined when nobody (alive) holds it. */
export async function currentLockHolder(dir: string, clock: LockClock = systemClock): Promise<LockHolder | undefined> {
	const holder = await readLock(path.join(dir, 'index.lock'));
	return isLive(holder, clock) ? holder : undefined;
}

export async function acquireIndexLock(dir: string, options: { purpose?: string; waitMs?: number; signal?: AbortSignal; clock?: LockClock } = {}): Promise<IndexLock> {
	const clock = options.clock ?? systemClock;
	await claimIndexDir(dir); // the lock is the first file written: the folder must be ours first
	const file = path.join(dir, 'index.lock');
	const since = new Date(clock.now()).toISOString();
	const info = (): LockHolder => ({ pid: process.pid, host: os.hostname(), since, updated: new Date(clock.now()).toISOString(), purpose: options.purpose ?? 'indexing' });
	const deadline = clock.now() + (options.waitMs ?? 0);
	for (;;) {
		try {
			await fs.writeFile(file, JSON.stringify(info()), { flag: 'wx' });
			let released = false;
			const ours = async (): Promise<boolean> => (await readLock(file))?.pid === process.pid;
			const refresh = async (): Promise<void> => {
				if (!released && (await ours())) {
					await fs.writeFile(file, JSON.stringify(info())).catch(() => undefined);
				}
			};
			const stop = clock.every(LOCK_REFRESH_MS, () => void refresh());
			return {
				refresh,
				release: async () => {
					if (!released) {
						released = true;
						stop();
						if (await ours()) {
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
		if (!isLive(holder, clock)) {
			await fs.rm(file, { force: true });
			continue;
		}
		if (clock.now() >= deadline || options.signal?.aborted) {
			const remote = holder.host !== os.hostname();
			throw new ClipError(
				'IndexLocked',
				`The index in ${dir} is being written by process ${holder.pid} on ${holder.host} (${holder.purpose} since ${holder.since}; last seen working ${describeAge(ageOf(holder, clock))} ago). Wait for it to finish, or stop it.${
					remote ? ` If nothing on ${holder.host} is indexing, the lock goes stale ${describeAge(LOCK_STALE_MS)} after its last sign of work, or delete ${file}.` : ''
				}`,
				{ file },
			);
		}
		await new Promise(resolve => setTimeout(resolve, 200));
	}
}
