/**
 * @file When to try a team store again after it could not be reached. An editor indexes in many
 * small runs (one per batch of watcher events); a laptop offline would otherwise wait on a connect
 * timeout and log a warning on each. After a failure, small runs go without the store for a while;
 * full runs (start-up, resume, a setting changed) always try.
 */
export const STORE_RETRY_MS = 5 * 60_000;

export class RetryAfterFailure {
	private until = 0;
	constructor(
		private readonly waitMs = STORE_RETRY_MS,
		private readonly now: () => number = Date.now,
	) {}

	/** Whether a run should try the store: always for a full run, else once the wait is over. */
	shouldTry(fullRun: boolean): boolean {
		return fullRun || this.now() >= this.until;
	}

	failed(): void {
		this.until = this.now() + this.waitMs;
	}

	succeeded(): void {
		this.until = 0;
	}
}
