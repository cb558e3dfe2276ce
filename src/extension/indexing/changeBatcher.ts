/**
 * @file Collects file-system events and hands them over in one batch once they stop coming for
 * `delayMs` (or `maxDelayMs` after the first, so a steady stream cannot postpone work forever).
 * No vscode import: unit-tested with a fake clock.
 */
import { type Clock, systemClock, type TimerHandle } from '../shared/clock';

export type ChangeKind = 'create' | 'change' | 'delete';

export class ChangeBatcher<K extends string = string> {
	private readonly changes = new Map<K, ChangeKind>();
	private timer: TimerHandle | undefined;
	private firstAt = 0;

	constructor(
		private readonly flush: (changes: Map<K, ChangeKind>) => void,
		private readonly delayMs = 1000,
		private readonly maxDelayMs = 10_000,
		private readonly clock: Clock = systemClock,
	) {}

	add(key: K, kind: ChangeKind): void {
		const previous = this.changes.get(key);
		// create then delete = nothing happened; delete then create = a change
		if (previous === 'create' && kind === 'delete') {
			this.changes.delete(key);
		} else if (previous === 'delete' && kind === 'create') {
			this.changes.set(key, 'change');
		} else if (!(previous === 'create' && kind === 'change')) {
			this.changes.set(key, kind);
		}
		if (!this.timer) {
			this.firstAt = this.clock.now();
		}
		this.timer?.cancel();
		const wait = Math.max(0, Math.min(this.delayMs, this.firstAt + this.maxDelayMs - this.clock.now()));
		this.timer = this.clock.setTimeout(() => this.fire(), wait);
	}

	get size(): number {
		return this.changes.size;
	}

	private fire(): void {
		this.timer = undefined;
		if (this.changes.size === 0) {
			return;
		}
		const batch = new Map(this.changes);
		this.changes.clear();
		this.flush(batch);
	}

	dispose(): void {
		this.timer?.cancel();
		this.timer = undefined;
		this.changes.clear();
	}
}
