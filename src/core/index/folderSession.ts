/**
 * @file One indexed folder as a process sees it: the committed index it reads, the lock it takes
 * when it writes, the controller of the run in progress. The worker keeps one per workspace folder;
 * every request names its folder, and the session is created on first use from what is on disk.
 *
 * [Note: readers and writers] Reading never takes the lock. A read checks the manifest's generation
 * (one small file) and reloads the index when another process (a second window, the CLI) has
 * committed a newer one; while this process is writing, reads see its store in memory, which is
 * ahead of the disk. Writing takes the lock without waiting: when another process holds it, the
 * write is not started and the holder is returned, so the caller can say who is indexing.
 */
import { ClipError } from '../common/errors';
import { IndexStore } from './indexStore';
import { acquireIndexLock, currentLockHolder, type LockHolder } from './lock';

export type WriteOutcome<T> = { ok: true; value: T } | { ok: false; holder: LockHolder };

export class FolderSession {
	private store: IndexStore | undefined;
	private loading: Promise<IndexStore | undefined> | undefined;
	private writer: { controller: AbortController; store?: IndexStore } | undefined;

	constructor(
		readonly root: string,
		readonly indexDir: string,
		private readonly log: (message: string) => void = () => undefined,
	) {}

	/** True while this process is writing the index. */
	get isWriting(): boolean {
		return this.writer !== undefined;
	}

	/**
	 * The index to read: the store being written here, else the committed one, loaded (or
	 * reloaded, when a newer generation was committed) from disk. undefined when nothing is committed.
	 */
	async read(): Promise<IndexStore | undefined> {
		if (this.writer?.store) {
			return this.writer.store;
		}
		const onDisk = await IndexStore.generationOnDisk(this.indexDir);
		if (onDisk === undefined) {
			this.store = undefined;
			return undefined;
		}
		if (this.store && this.store.committedGeneration === onDisk) {
			return this.store;
		}
		this.loading ??= (async () => {
			const started = performance.now();
			try {
				const store = await IndexStore.load(this.indexDir);
				const reloaded = this.store !== undefined;
				this.store = store;
				if (store.nativeProblem && !reloaded) {
					this.log(store.nativeProblem);
				}
				this.log(
					`${reloaded ? 'reloaded' : 'loaded'} the committed index of ${this.root} (generation ${store.committedGeneration}, ${store.files.size} files) in ${(performance.now() - started).toFixed(0)} ms`,
				);
				return store;
			} finally {
				this.loading = undefined;
			}
		})();
		return this.loading;
	}

	/**
	 * Runs `run` as the folder's one writer. `open` gives the store to write, from the committed
	 * one when it is current (undefined when it is not loaded or is older than the disk's). When
	 * another process holds the lock, nothing runs and the holder is returned.
	 */
	async write<T>(
		purpose: string,
		open: (current: IndexStore | undefined) => Promise<IndexStore>,
		run: (store: IndexStore, signal: AbortSignal) => Promise<T>,
	): Promise<WriteOutcome<T>> {
		if (this.writer) {
			throw new ClipError('IndexLocked', `${this.root} is already being indexed by this window.`);
		}
		const writer: { controller: AbortController; store?: IndexStore } = { controller: new AbortController() };
		this.writer = writer;
		try {
			let lock;
			try {
				lock = await acquireIndexLock(this.indexDir, { purpose });
			} catch (err) {
				if (ClipError.is(err, 'IndexLocked')) {
					const holder = await currentLockHolder(this.indexDir);
					if (holder) {
						return { ok: false, holder };
					}
					lock = await acquireIndexLock(this.indexDir, { purpose }); // the holder just finished
				} else {
					throw err;
				}
			}
			try {
				const onDisk = await IndexStore.generationOnDisk(this.indexDir);
				const current = this.store && !this.store.isDirty && this.store.committedGeneration === onDisk ? this.store : undefined;
				const store = await open(current);
				writer.store = store;
				const value = await run(store, writer.controller.signal);
				this.store = store;
				return { ok: true, value };
			} finally {
				await lock.release();
			}
		} finally {
			this.writer = undefined;
		}
	}

	/** Stops the run in progress in this process, if any (it commits what it has done). */
	cancel(): void {
		this.writer?.controller.abort();
	}

	/** Forgets the loaded index (it is read again from disk on the next request). */
	forget(): void {
		this.cancel();
		this.store = undefined;
	}
}
