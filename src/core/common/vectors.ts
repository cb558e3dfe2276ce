/**
 * @file Small vector helpers. Similarity is cosine everywhere: vectors are L2-normalised before they
 * enter the index and before any score, so a dot product is the cosine.
 */

export function l2normalize(v: Float32Array): Float32Array {
	let sum = 0;
	for (let i = 0; i < v.length; i++) {
		sum += v[i] * v[i];
	}
	const norm = Math.sqrt(sum);
	if (!Number.isFinite(norm) || norm < 1e-12) {
		throw new Error('cannot normalise an empty or non-finite vector');
	}
	const out = new Float32Array(v.length);
	for (let i = 0; i < v.length; i++) {
		out[i] = v[i] / norm;
	}
	return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let s = 0;
	for (let i = 0; i < a.length; i++) {
		s += a[i] * b[i];
	}
	return s;
}

/** The cosine of two vectors of any length (0 when either is zero, or their lengths differ). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
	if (a.length !== b.length) {
		return 0;
	}
	let d = 0;
	let na = 0;
	let nb = 0;
	for (let i = 0; i < a.length; i++) {
		d += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	return na && nb ? d / Math.sqrt(na * nb) : 0;
}

/** Splits a [n, dim] row-major buffer into n L2-normalised rows. */
export function normalizedRows(data: Float32Array, dim: number): Float32Array[] {
	const n = data.length / dim;
	const rows: Float32Array[] = [];
	for (let i = 0; i < n; i++) {
		rows.push(l2normalize(data.subarray(i * dim, (i + 1) * dim)));
	}
	return rows;
}

/** Weighted sum of vectors (weights may be negative), then normalised. */
export function combine(parts: { vector: Float32Array; weight: number }[]): Float32Array {
	const dim = parts[0].vector.length;
	const out = new Float32Array(dim);
	for (const { vector, weight } of parts) {
		for (let i = 0; i < dim; i++) {
			out[i] += weight * vector[i];
		}
	}
	return l2normalize(out);
}

export function softmax(logits: number[]): number[] {
	const max = Math.max(...logits);
	const exps = logits.map(l => Math.exp(l - max));
	const sum = exps.reduce((a, b) => a + b, 0);
	return exps.map(e => e / sum);
}

/** How far from 1 a stored vector's length may be (float32 rounding of a normalised 1,024-d vector is far below). */
export const UNIT_TOLERANCE = 1e-3;

/**
 * Why `v` cannot enter an index or a score, or undefined when it can: `dim` finite components and a
 * length of 1 within UNIT_TOLERANCE. [Note: vectors from elsewhere] A vector pulled from a team store
 * or read back from disk is data someone else could have written: one row of 1e30s ranked first for
 * every query (score 4e29), a zero vector scored NaN, a flipped byte in a graph scored 1e18. Each
 * vector is checked where it enters, never trusted because of where it came from.
 */
export function vectorProblem(v: ArrayLike<number>, dim: number): string | undefined {
	if (v.length !== dim) {
		return `${v.length} dimensions, not ${dim}`;
	}
	let sum = 0;
	for (let i = 0; i < v.length; i++) {
		if (!Number.isFinite(v[i])) {
			return 'a component that is not a finite number';
		}
		sum += v[i] * v[i];
	}
	const norm = Math.sqrt(sum);
	return Math.abs(norm - 1) <= UNIT_TOLERANCE ? undefined : `length ${norm.toPrecision(4)}, not 1`;
}
