/**
 * @file Time as a dependency: the batcher and the scheduler take a Clock, so their tests drive a
 * fake one instead of sleeping. No vscode import.
 */

export interface TimerHandle {
	cancel(): void;
}

export interface Clock {
	now(): number;
	setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
	now: () => Date.now(),
	setTimeout: (fn, ms) => {
		const t = setTimeout(fn, ms);
		return { cancel: () => clearTimeout(t) };
	},
};
