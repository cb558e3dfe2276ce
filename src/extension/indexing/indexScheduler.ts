/**
 * @file When each workspace folder is indexed, and with what: a walk of the whole folder, or only
 * the paths a batch of watcher events named. No vscode import: unit-tested with a fake clock.
 *
 * [Note: scheduling] One run per folder at a time. Work asked for during a run is merged and runs
 * right after it (a walk absorbs any paths). A run that did not finish keeps its work: 'blocked'
 * (no model yet) waits for kick(); 'cancelled' (pause, rebuild, settings) runs again at once if the
 * folder may run; 'busy' (another window or a CLI run holds the index's lock) is retried after
 * `retryMs`, one timer per folder. A run that failed drops its work: the
 * error is shown, and the next walk (resume, rebuild, restart) covers it.
 */
import { type Clock, systemClock, type TimerHandle } from '../shared/clock';

export interface Work {
	/** Walk the whole folder (else: only `paths`). */
	full: boolean;
	/** Start from an empty index (Rebuild); implies full. */
	rebuild: boolean;
	/** Paths relative to the folder, '/'-separated. */
	paths: string[];
}

export type RunOutcome = 'done' | 'busy' | 'blocked' | 'cancelled' | 'failed';

interface Pending {
	full: boolean;
	rebuild: boolean;
	paths: Set<string>;
}

export class IndexScheduler {
	private readonly pending = new Map<string, Pending>();
	private readonly running = new Map<string, Promise<void>>();
	private readonly retries = new Map<string, TimerHandle>();
	private disposed = false;

	constructor(
		private readonly run: (root: string, work: Work) => Promise<RunOutcome>,
		private readonly canRun: (root: string) => boolean = () => true,
		private readonly clock: Clock = systemClock,
		readonly retryMs = 30_000,
	) {}

	/** Walk the folder (or rebuild it from empty) as soon as it can run. */
	requestFull(root: string, options: { rebuild?: boolean } = {}): void {
		const p = this.pendingOf(root);
		p.full = true;
		p.rebuild ||= options.rebuild ?? false;
		p.paths.clear();
		this.kick(root);
	}

	/** Compare these paths (relative, '/'-separated) with the index as soon as the folder can run. */
	requestPaths(root: string, paths: Iterable<string>): void {
		const p = this.pendingOf(root);
		if (!p.full) {
			for (const rel of paths) {
				p.paths.add(rel);
			}
		}
		this.kick(root);
	}

	/** Starts the folder's pending work if it can run now and nothing runs for it. */
	kick(root: string): void {
		if (this.disposed || this.running.has(root) || !this.hasWork(root) || !this.canRun(root)) {
			return;
		}
		this.retries.get(root)?.cancel();
		this.retries.delete(root);
		const p = this.pending.get(root)!;
		this.pending.delete(root);
		const work: Work = { full: p.full || p.rebuild, rebuild: p.rebuild, paths: [...p.paths].sort() };
		const done = (async () => {
			let outcome: RunOutcome;
			try {
				outcome = await this.run(root, work);
			} catch {
				outcome = 'failed';
			}
			this.running.delete(root);
			if (outcome === 'busy' || outcome === 'blocked' || outcome === 'cancelled') {
				this.putBack(root, work);
			}
			if (outcome === 'busy' && !this.disposed) {
				this.retries.get(root)?.cancel();
				this.retries.set(
					root,
					this.clock.setTimeout(() => {
						this.retries.delete(root);
						this.kick(root);
					}, this.retryMs),
				);
			} else if (outcome !== 'blocked') {
				this.kick(root); // work asked for meanwhile; after a cancel, only if the folder may run (not paused)
			}
		})();
		this.running.set(root, done);
	}

	kickAll(): void {
		for (const root of [...this.pending.keys()]) {
			this.kick(root);
		}
	}

	hasWork(root: string): boolean {
		const p = this.pending.get(root);
		return !!p && (p.full || p.rebuild || p.paths.size > 0);
	}

	isRunning(root: string): boolean {
		return this.running.has(root);
	}

	/** True while a retry after a lock held elsewhere is waiting. */
	isWaitingForRetry(root: string): boolean {
		return this.retries.has(root);
	}

	/** Resolves when no folder is being indexed. */
	async idle(): Promise<void> {
		while (this.running.size) {
			await Promise.all([...this.running.values()]);
		}
	}

	/** Forgets a folder's pending work and retry (the folder left the workspace). */
	drop(root: string): void {
		this.pending.delete(root);
		this.retries.get(root)?.cancel();
		this.retries.delete(root);
	}

	dispose(): void {
		this.disposed = true;
		for (const t of this.retries.values()) {
			t.cancel();
		}
		this.retries.clear();
		this.pending.clear();
	}

	private pendingOf(root: string): Pending {
		let p = this.pending.get(root);
		if (!p) {
			p = { full: false, rebuild: false, paths: new Set() };
			this.pending.set(root, p);
		}
		return p;
	}

	private putBack(root: string, work: Work): void {
		const p = this.pendingOf(root);
		p.rebuild ||= work.rebuild;
		if (work.full) {
			p.full = true;
			p.paths.clear();
		} else if (!p.full) {
			for (const rel of work.paths) {
				p.paths.add(rel);
			}
		}
	}
}
