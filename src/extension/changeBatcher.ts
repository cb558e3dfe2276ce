/**
 * @file Collects file-system events and hands them over in one batch once they stop coming for
 * `delayMs` (or `maxDelayMs` after the first, so a steady stream cannot postpone work forever).
 * No vscode import: unit-tested.
 */

export type ChangeKind = 'create' | 'change' | 'delete';

export class ChangeBatcher<K extends string = string> {
	private readonly changes = new Map<K, ChangeKind>();
	private timer: ReturnType<typeof setTimeout> | undefined;
	private firstAt = 0;

	constructor(
		private readonly flush: (changes: Map<K, ChangeKind>) => void,
		private readonly delayMs = 1000,
		private readonly maxDelayMs = 10_000,
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
			this.firstAt = Date.now();
		}
		clearTimeout(this.timer);
		const wait = Math.max(0, Math.min(this.delayMs, this.firstAt + this.maxDelayMs - Date.now()));
		this.timer = setTimeout(() => this.fire(), wait);
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
		clearTimeout(this.timer);
		this.timer = undefined;
		this.changes.clear();
	}
}
