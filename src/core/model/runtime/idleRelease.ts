/**
 * @file Letting go of models when idle.
 *
 * [Note: light in the background] The extension runs in every window a person has open, all day,
 * and its worker kept both towers for the life of the window (410 MB with int8 ViT-B/32 after one
 * image needed the vision tower, nothing released when idle). Now each model part is released after
 * it has not been used for a while — the vision tower and text recognition after `minutes`, the text
 * tower (what every search needs) after three times that — and loaded again on the next use. An
 * in-flight inference is never released under it. The clock is injected (tests).
 *
 * Released sessions free their memory to the C allocator; whether the process gives it back to the
 * system depends on the allocator: glibc keeps heap pages it could reuse unless large blocks are
 * mapped apart (see lowMemoryEnv()), which is why the worker and the long-running commands start with it.
 */

export type ModelPart = 'text' | 'vision' | 'ocr';

export interface IdleLimits {
	/** Per part: release after this many ms without use (0: never). */
	text: number;
	vision: number;
	ocr: number;
}

/** The limits for a setting in minutes (0: never): the text tower waits three times as long. */
export function idleLimits(minutes: number): IdleLimits {
	const ms = Math.max(0, minutes) * 60_000;
	return { text: 3 * ms, vision: ms, ocr: ms };
}

const PART_NAMES: Record<ModelPart, string> = { text: 'the text model', vision: 'the image model', ocr: 'text recognition' };

/**
 * One log line for a release: the clock time it happened, and each part with its own limit (the text
 * model waits three times as long: "released after 5 min (text, vision)" said the wrong time of one).
 */
export function describeRelease(parts: readonly ModelPart[], limits: IdleLimits, now: number): string {
	const minutes = (ms: number): string => (ms >= 60_000 ? `${Number((ms / 60_000).toPrecision(3))} min` : `${Math.round(ms / 1000)} s`);
	const when = new Date(now).toTimeString().slice(0, 8);
	return `${when} released ${parts.map(p => `${PART_NAMES[p]} (unused for ${minutes(limits[p])})`).join(', ')}; loaded again when needed`;
}

/** Something that holds model parts and can release the idle ones. */
export interface Releasable {
	/** Releases the parts idle for at least their limit at `now`; returns what was released. */
	releaseIdle(limits: IdleLimits, now: number): Promise<ModelPart[]>;
}

export interface IdleClock {
	now(): number;
	/** Calls `fn` every `ms`; returns its stop. */
	every(ms: number, fn: () => void): () => void;
}

export const systemIdleClock: IdleClock = {
	now: () => Date.now(),
	every: (ms, fn) => {
		const timer = setInterval(fn, ms);
		timer.unref();
		return () => clearInterval(timer);
	},
};

/**
 * Checks `targets` every so often (a quarter of the shortest limit, between 5 s and 60 s) and
 * releases what has been idle long enough. `onRelease` hears what went (for the log).
 */
export class IdleReleaser {
	private stop?: () => void;
	private running = false;

	constructor(
		private readonly targets: () => Releasable[],
		private limits: IdleLimits,
		private readonly clock: IdleClock = systemIdleClock,
		private readonly onRelease: (parts: ModelPart[], idleMs: IdleLimits, now: number) => void = () => undefined,
	) {
		this.schedule();
	}

	/** New limits (a changed setting). */
	setLimits(limits: IdleLimits): void {
		this.limits = limits;
		this.schedule();
	}

	/** One check now (the timer calls it; tests call it with their clock). */
	async check(): Promise<ModelPart[]> {
		if (this.running) {
			return [];
		}
		this.running = true;
		try {
			const released: ModelPart[] = [];
			for (const t of this.targets()) {
				released.push(...(await t.releaseIdle(this.limits, this.clock.now())));
			}
			if (released.length) {
				this.onRelease(released, this.limits, this.clock.now());
			}
			return released;
		} finally {
			this.running = false;
		}
	}

	private schedule(): void {
		this.stop?.();
		this.stop = undefined;
		const active = [this.limits.text, this.limits.vision, this.limits.ocr].filter(ms => ms > 0);
		if (active.length) {
			const every = Math.min(60_000, Math.max(5_000, Math.min(...active) / 4));
			this.stop = this.clock.every(every, () => void this.check().catch(() => undefined));
		}
	}

	dispose(): void {
		this.stop?.();
		this.stop = undefined;
	}
}

/**
 * [Note: giving memory back] The environment a process that loads and releases models should start
 * with on glibc Linux: a fixed mmap threshold (glibc.malloc.mmap_threshold) keeps glibc from raising
 * it as big blocks are freed, so model weights and large activations stay in their own mappings
 * and go back to the system when released. Measured with the int8 ViT-B/32 (bench part `memory`).
 * Elsewhere (macOS, Windows, musl) it changes nothing.
 */
export function lowMemoryEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
	if (process.platform !== 'linux' || env.GLIBC_TUNABLES !== undefined) {
		return env;
	}
	return { ...env, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' };
}
