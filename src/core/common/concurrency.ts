/**
 * @file Two small primitives for the indexing pipeline: a weighted semaphore (bounds the decoded
 * pixels in flight) and a bounded queue (bounds the decoded images waiting for inference).
 */

export class WeightedSemaphore {
	private used = 0;
	private readonly waiters: { weight: number; resolve: () => void }[] = [];

	constructor(private readonly capacity: number) {}

	/** Waits until `weight` fits (a weight above capacity is clamped, so it runs alone). */
	async acquire(weight: number): Promise<() => void> {
		const w = Math.min(Math.max(1, weight), this.capacity);
		if (this.used + w <= this.capacity && this.waiters.length === 0) {
			this.used += w;
		} else {
			await new Promise<void>(resolve => this.waiters.push({ weight: w, resolve }));
		}
		let released = false;
		return () => {
			if (!released) {
				released = true;
				this.used -= w;
				this.wake();
			}
		};
	}

	private wake(): void {
		while (this.waiters.length && this.used + this.waiters[0].weight <= this.capacity) {
			const next = this.waiters.shift()!;
			this.used += next.weight;
			next.resolve();
		}
	}
}

/** A FIFO whose producers wait while it holds `capacity` items. */
export class BoundedQueue<T> {
	private readonly items: T[] = [];
	private closed = false;
	private spaceWaiters: (() => void)[] = [];
	private itemWaiters: (() => void)[] = [];

	constructor(private readonly capacity: number) {}

	get length(): number {
		return this.items.length;
	}

	/** Adds an item, waiting for space; after close() items are dropped. */
	async push(item: T): Promise<void> {
		while (this.items.length >= this.capacity && !this.closed) {
			await new Promise<void>(resolve => this.spaceWaiters.push(resolve));
		}
		if (this.closed) {
			return;
		}
		this.items.push(item);
		this.notify(this.itemWaiters);
		this.itemWaiters = [];
	}

	close(): void {
		this.closed = true;
		this.notify(this.itemWaiters);
		this.notify(this.spaceWaiters);
		this.itemWaiters = [];
		this.spaceWaiters = [];
	}

	/**
	 * Up to `max` items once `min` are there (or the queue is closed); an empty array when closed
	 * and drained. `min` must not exceed the capacity.
	 */
	async take(max: number, min = 1): Promise<T[]> {
		while (this.items.length < Math.max(1, min) && !this.closed) {
			await new Promise<void>(resolve => this.itemWaiters.push(resolve));
		}
		const out = this.items.splice(0, max);
		this.notify(this.spaceWaiters);
		this.spaceWaiters = [];
		return out;
	}

	private notify(waiters: (() => void)[]): void {
		for (const w of waiters) {
			w();
		}
	}
}

/**
 * A door that work waits at while it is shut: decoding waits while inference runs on every core
 * (see [Note: pipeline] in indexer.ts). Opening lets every waiter through.
 */
export class Gate {
	private waiters: (() => void)[] = [];
	private shut = false;

	close(): void {
		this.shut = true;
	}

	open(): void {
		this.shut = false;
		const waiting = this.waiters;
		this.waiters = [];
		waiting.forEach(w => w());
	}

	async pass(): Promise<void> {
		if (this.shut) {
			await new Promise<void>(resolve => this.waiters.push(resolve));
		}
	}
}
