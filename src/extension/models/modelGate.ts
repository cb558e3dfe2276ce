/**
 * @file Whether the model is ready to index with, and the one offer to get it. No vscode import:
 * unit-tested with stubbed hooks.
 *
 * [Note: one offer] Every folder asks ready() before it indexes. When the model is missing, the
 * first ask makes the one offer (download, or choose a local folder) and every folder answers
 * "blocked" at once, without waiting on the person: no run hangs on a notification. The offer's
 * outcome applies to all folders: after a download, onReady() schedules every folder; declined,
 * every folder stays "model needed" until the model setting changes (reset()).
 */

export interface ModelState {
	id: string;
	needsDownload: boolean;
	downloadBytes: number;
	/** Why a local model folder cannot be used (missing, incomplete), when it cannot. */
	localMissing?: string;
}

export interface ModelGateHooks {
	status(): Promise<ModelState>;
	/** Asks the person; true when they chose to download (the download is then run by download()). */
	offer(state: ModelState): Promise<boolean>;
	/** Downloads the model; true when it is ready after. */
	download(): Promise<boolean>;
	/** Called once the model became ready through the offer. */
	onReady(): void;
	onError?(message: string): void;
}

export class ModelGate {
	private offering: Promise<void> | undefined;
	private declined = false;
	private generation = 0;
	/** How many times the person was asked (the end-to-end tests check it is one for many folders). */
	offers = 0;

	constructor(private readonly hooks: ModelGateHooks) {}

	/** True when the model is ready; otherwise makes (at most) one offer and returns false. */
	async ready(): Promise<boolean> {
		let state: ModelState;
		try {
			state = await this.hooks.status();
		} catch (err) {
			this.hooks.onError?.(err instanceof Error ? err.message : String(err));
			return false;
		}
		if (!state.needsDownload && !state.localMissing) {
			return true;
		}
		if (!this.offering && !this.declined) {
			this.offering = this.makeOffer(state);
		}
		return false;
	}

	/** The model setting changed: a new offer may be made, and the last answer is forgotten. */
	reset(): void {
		this.generation++;
		this.declined = false;
		this.offering = undefined;
	}

	/** Resolves when the offer in progress (if any) is answered and acted on. */
	async settled(): Promise<void> {
		await this.offering;
	}

	private async makeOffer(state: ModelState): Promise<void> {
		const generation = this.generation;
		this.offers++;
		let ready = false;
		try {
			if (await this.hooks.offer(state)) {
				ready = await this.hooks.download();
			}
		} catch (err) {
			this.hooks.onError?.(err instanceof Error ? err.message : String(err));
		}
		if (generation !== this.generation) {
			return; // the setting changed meanwhile: this answer is about another model
		}
		this.offering = undefined;
		if (ready) {
			this.hooks.onReady();
		} else {
			this.declined = true;
		}
	}
}
