/** @file A Clock whose time moves only when a test advances it: timing logic tested without sleeping. */
import type { Clock, TimerHandle } from '../src/extension/shared/clock';

export class FakeClock implements Clock {
	private time = 0;
	private timers: { at: number; fn: () => void; id: number }[] = [];
	private nextId = 0;

	now(): number {
		return this.time;
	}

	setTimeout(fn: () => void, ms: number): TimerHandle {
		const timer = { at: this.time + Math.max(0, ms), fn, id: this.nextId++ };
		this.timers.push(timer);
		return { cancel: () => (this.timers = this.timers.filter(t => t !== timer)) };
	}

	/** Timers not fired yet. */
	get pending(): number {
		return this.timers.length;
	}

	/** Moves time forward, firing the timers that fall due, in order. */
	advance(ms: number): void {
		const end = this.time + ms;
		for (;;) {
			const due = this.timers.filter(t => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
			if (!due) {
				break;
			}
			this.timers = this.timers.filter(t => t !== due);
			this.time = due.at;
			due.fn();
		}
		this.time = end;
	}
}

/** Lets pending promise callbacks run (the scheduler's runs are async). */
export async function flushPromises(): Promise<void> {
	for (let i = 0; i < 10; i++) {
		await new Promise(resolve => setImmediate(resolve));
	}
}
