/**
 * @file The held-out evidence few-shot labelling decides by ([Note: held-out evidence] in fewShot.ts):
 * the items held out (examples and negatives, in their groups of near-duplicates), how a candidate
 * scores on them, and the one-sided sign test that says when its wins are more than chance.
 */
import { dot } from '../common/vectors';
import type { Link } from './probe';

/** Examples (or negatives) of a class this alike are near-duplicates, held out together: the product's duplicate threshold. */
const GROUP_COSINE = 0.95;

/**
 * Groups of near-duplicates among one class's examples (or negatives): single linkage at
 * GROUP_COSINE. Returns a group index (0-based, in order of first member) per vector.
 */
export function nearDuplicateGroups(vectors: Float32Array[], linkAll: boolean): number[] {
	const parent = vectors.map((_, i) => i);
	const find = (i: number): number => {
		while (parent[i] !== i) {
			parent[i] = parent[parent[i]];
			i = parent[i];
		}
		return i;
	};
	if (linkAll) {
		const norms = vectors.map(v => Math.sqrt(dot(v, v)) || 1);
		for (let i = 0; i < vectors.length; i++) {
			for (let j = i + 1; j < vectors.length; j++) {
				if (dot(vectors[i], vectors[j]) >= GROUP_COSINE * norms[i] * norms[j]) {
					parent[find(j)] = find(i);
				}
			}
		}
	}
	const ids = new Map<number, number>();
	const groups = vectors.map((_, i) => {
		const root = find(i);
		if (!ids.has(root)) {
			ids.set(root, ids.size);
		}
		return ids.get(root)!;
	});
	// All of them one group: left out whole, the class could not be scored at all; one at a time, as
	// before grouping, it can (the near-duplicates then speak for one another).
	return ids.size === 1 ? vectors.map((_, i) => i) : groups;
}

/** One held-out item: an example (or negative) of a class, in its group of near-duplicates. */
export interface Held {
	vector: Float32Array;
	cls: number;
	negative: boolean;
	/** Its group, numbered over all classes. */
	group: number;
}

/** A candidate's record on the held-out items: which it labels right, and its mean log-likelihood. */
export interface HeldRecord {
	right: Uint8Array;
	correct: number;
	ll: number;
}

/** Whether a class's probabilities label a held-out item right: its class first for an example, not first for a negative. */
export function labelsRight(z: ArrayLike<number>, cls: number, negative: boolean): boolean {
	let first = true;
	for (let j = 0; j < z.length; j++) {
		if (j !== cls && z[j] >= z[cls]) {
			first = false;
			break;
		}
	}
	return negative ? !first : first;
}

/** The log-likelihood of one held-out item under the link's probabilities `z` (see [Note: calibration]). */
export function logLikelihood(link: Link, z: ArrayLike<number>, cls: number, negative: boolean): number {
	const pk = Math.min(1 - 1e-9, Math.max(1e-9, z[cls]));
	let ll = negative ? Math.log(1 - pk) : Math.log(pk);
	if (link === 'sigmoid' && !negative) {
		// One sigmoid per class: an example is also a negative for every other class.
		for (let j = 0; j < z.length; j++) {
			if (j !== cls) {
				ll += Math.log(Math.max(1e-9, 1 - z[j]));
			}
		}
	}
	return ll;
}

/** Paired comparison on the same held-out items: wins and losses of `a` against `b`. */
export function compare(a: HeldRecord, b: HeldRecord): { better: number; worse: number } {
	let better = 0;
	let worse = 0;
	for (let i = 0; i < a.right.length; i++) {
		better += a.right[i] > b.right[i] ? 1 : 0;
		worse += a.right[i] < b.right[i] ? 1 : 0;
	}
	return { better, worse };
}

/** P(X ≥ wins) for X ~ Binomial(wins + losses, 1/2): the one-sided sign test's p-value (1 when wins ≤ losses). */
export function signTestP(wins: number, losses: number): number {
	const n = wins + losses;
	if (wins <= losses) {
		return 1;
	}
	// log pmf(i) = log C(n, i) − n log 2, built up term by term; summed from i = wins to n.
	let logPmf = -n * Math.LN2;
	for (let i = 1; i <= wins; i++) {
		logPmf += Math.log((n - i + 1) / i);
	}
	let p = 0;
	for (let i = wins; i <= n; i++) {
		p += Math.exp(logPmf);
		logPmf += Math.log((n - i) / (i + 1));
	}
	return Math.min(1, p);
}
