/**
 * @file Every live vector of an index in one block, for exact answers while the index is small
 * enough to keep it.
 *
 * [Note: exact answers] HNSW is approximate: at ef 100 it missed the best image of a 20,032-image
 * folder (the 32 shapes far from 20,000 noise images, inserted first; which graph the indexer's
 * decode order built decided whether it was found, so the same folder passed in one window and
 * failed in the next). Scoring every vector is exact and, up to EXACT_BLOCK_MAX_BYTES (32,000
 * images of 512-d), costs a few milliseconds a query: the graph answers only past that. The block
 * is filled from the graph file as it is checked on load (no per-vector reads out of hnswlib,
 * ~90 µs each) and kept up to date as vectors are added and removed.
 */

/** The most the block may hold; past it the index is searched through its graph. */
export const EXACT_BLOCK_MAX_BYTES = 64 * 1024 * 1024;

export class ExactBlock {
	private vectors: Float32Array;
	private live: Uint8Array;

	private constructor(
		readonly dim: number,
		capacity: number,
	) {
		this.vectors = new Float32Array(capacity * dim);
		this.live = new Uint8Array(capacity);
	}

	/** A block for `labels` labels of `dim`, or undefined when that is past the budget. */
	static create(dim: number, labels: number, maxBytes = EXACT_BLOCK_MAX_BYTES): ExactBlock | undefined {
		return labels * dim * 4 > maxBytes ? undefined : new ExactBlock(dim, Math.max(16, labels));
	}

	/** Whether `labels` labels still fit the budget (the store drops the block when they do not). */
	static fits(dim: number, labels: number, maxBytes = EXACT_BLOCK_MAX_BYTES): boolean {
		return labels * dim * 4 <= maxBytes;
	}

	set(label: number, vector: ArrayLike<number>): void {
		if (label >= this.live.length) {
			const capacity = Math.max(label + 1, this.live.length * 2);
			const vectors = new Float32Array(capacity * this.dim);
			vectors.set(this.vectors);
			const live = new Uint8Array(capacity);
			live.set(this.live);
			this.vectors = vectors;
			this.live = live;
		}
		this.vectors.set(vector, label * this.dim);
		this.live[label] = 1;
	}

	delete(label: number): void {
		if (label < this.live.length) {
			this.live[label] = 0;
		}
	}

	/** The vector of a live label (a copy). */
	get(label: number): Float32Array | undefined {
		return label < this.live.length && this.live[label] ? this.vectors.slice(label * this.dim, (label + 1) * this.dim) : undefined;
	}

	/** The exact `k` best labels by dot product (cosine: vectors are unit length), among those `accept` takes; best first. */
	top(query: Float32Array, k: number, accept?: (label: number) => boolean): { label: number; score: number }[] {
		const { dim, vectors, live } = this;
		const top: { label: number; score: number }[] = [];
		if (k <= 0) {
			return top;
		}
		for (let label = 0; label < live.length; label++) {
			if (!live[label] || (accept && !accept(label))) {
				continue;
			}
			let score = 0;
			const at = label * dim;
			for (let d = 0; d < dim; d++) {
				score += query[d] * vectors[at + d];
			}
			keepTop(top, k, label, score);
		}
		return top.sort((a, b) => b.score - a.score);
	}
}

/** Keeps `top` the best `k` (label, score) pairs seen, sorted best first once it is full. */
export function keepTop(top: { label: number; score: number }[], k: number, label: number, score: number): void {
	if (top.length < k) {
		top.push({ label, score });
		if (top.length === k) {
			top.sort((a, b) => b.score - a.score);
		}
	} else if (score > top[k - 1].score) {
		let j = k - 1;
		while (j > 0 && top[j - 1].score < score) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = { label, score };
	}
}
