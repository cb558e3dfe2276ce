/**
 * @file A linear probe on stored image vectors: logits W·x + b, started from a classifier the
 * caller gives (zero-shot prompts, prototypes), fitted by maximum likelihood (cross-entropy on
 * examples; −log(1 − p) on negatives) with an L2 pull back to that start, in units of the model's
 * logit scale. Adam on the full batch. One of the few-shot candidates (fewShot.ts), kept where
 * held-out evidence says it beats the closed-form ones: it can learn a class that no single mean
 * describes (warm colours: red, orange and yellow), and can also fit the few examples' backgrounds,
 * which is why it is never trusted without that evidence.
 */

export interface ProbeExample {
	vector: Float32Array;
	/** Index of the class. */
	cls: number;
}

export interface Probe {
	/** Per class: weights (logit units) and bias. */
	weights: Float32Array[];
	bias: Float64Array;
	/** A softmax over classes (CLIP) or a sigmoid per class (SigLIP). */
	link: Link;
}

export const PROBE_ITERATIONS = 150;

function logits(probe: { weights: Float32Array[]; bias: ArrayLike<number> }, x: Float32Array, out: Float64Array): void {
	for (let c = 0; c < probe.weights.length; c++) {
		const w = probe.weights[c];
		let s = probe.bias[c];
		for (let d = 0; d < x.length; d++) {
			s += w[d] * x[d];
		}
		out[c] = s;
	}
}

/** How class scores become probabilities: a softmax over the classes, or a sigmoid per class. */
export type Link = 'softmax' | 'sigmoid';

/** The link's probabilities, in place (and returned). */
export function applyLink(link: Link, z: Float64Array): Float64Array {
	if (link === 'sigmoid') {
		for (let i = 0; i < z.length; i++) {
			z[i] = 1 / (1 + Math.exp(-z[i]));
		}
		return z;
	}
	let max = -Infinity;
	for (const v of z) {
		max = Math.max(max, v);
	}
	let sum = 0;
	for (let i = 0; i < z.length; i++) {
		z[i] = Math.exp(z[i] - max);
		sum += z[i];
	}
	for (let i = 0; i < z.length; i++) {
		z[i] /= sum;
	}
	return z;
}

/** The probe's logits for one image vector. */
export function probeLogits(probe: Probe, x: Float32Array): Float64Array {
	const z = new Float64Array(probe.weights.length);
	logits(probe, x, z);
	return z;
}

/** Class probabilities of one image vector. */
export function probeProbabilities(probe: Probe, x: Float32Array): number[] {
	const z = new Float64Array(probe.weights.length);
	logits(probe, x, z);
	applyLink(probe.link, z);
	return Array.from(z);
}

/**
 * Fits the probe to the examples and negatives from `start`; `scale` is the model's logit scale
 * (the pull back to the start, `lambda`, is measured in its units, so it means the same for every model).
 */
export function trainProbe(start: Float32Array[], scale: number, examples: ProbeExample[], negatives: ProbeExample[], lambda: number, model: { link: Link; bias: number }): Probe {
	const C = start.length;
	const D = start[0]?.length ?? 0;
	const weights = start.map(w => Float32Array.from(w));
	const bias = new Float64Array(C).fill(model.bias);
	const link = model.link;
	if (!examples.length && !negatives.length) {
		return { weights, bias, link };
	}
	const lr = 0.05 * scale;
	const n = examples.length + negatives.length;
	const mW = start.map(() => new Float64Array(D));
	const vW = start.map(() => new Float64Array(D));
	const mB = new Float64Array(C);
	const vB = new Float64Array(C);
	const gW = start.map(() => new Float64Array(D));
	const gB = new Float64Array(C);
	const p = new Float64Array(C);
	const b1 = 0.9;
	const b2 = 0.999;
	for (let t = 1; t <= PROBE_ITERATIONS; t++) {
		for (let c = 0; c < C; c++) {
			// d/dW of (λ/2)·‖(W − W0)/scale‖²
			for (let d = 0; d < D; d++) {
				gW[c][d] = (lambda * (weights[c][d] - start[c][d])) / (scale * scale);
			}
			gB[c] = (lambda * (bias[c] - model.bias)) / (scale * scale);
		}
		const accumulate = (x: Float32Array, g: Float64Array): void => {
			for (let c = 0; c < C; c++) {
				const gc = g[c] / n;
				if (gc !== 0) {
					const row = gW[c];
					for (let d = 0; d < D; d++) {
						row[d] += gc * x[d];
					}
					gB[c] += gc;
				}
			}
		};
		for (const e of examples) {
			logits({ weights, bias }, e.vector, p);
			applyLink(link, p);
			p[e.cls] -= 1; // d(cross-entropy)/d(logit) = p − onehot, for both links
			accumulate(e.vector, p);
		}
		for (const e of negatives) {
			logits({ weights, bias }, e.vector, p);
			applyLink(link, p);
			const pk = Math.min(p[e.cls], 1 - 1e-9);
			for (let c = 0; c < C; c++) {
				// softmax: d(−log(1 − p_k))/d(logit_c) = p_c − [c ≠ k]·p_c/(1 − p_k); sigmoid: p_k for k only
				p[c] = c === e.cls ? pk : link === 'sigmoid' ? 0 : p[c] - p[c] / (1 - pk);
			}
			accumulate(e.vector, p);
		}
		const c1 = 1 - b1 ** t;
		const c2 = 1 - b2 ** t;
		for (let c = 0; c < C; c++) {
			for (let d = 0; d < D; d++) {
				const g = gW[c][d];
				mW[c][d] = b1 * mW[c][d] + (1 - b1) * g;
				vW[c][d] = b2 * vW[c][d] + (1 - b2) * g * g;
				weights[c][d] -= (lr * (mW[c][d] / c1)) / (Math.sqrt(vW[c][d] / c2) + 1e-8);
			}
			mB[c] = b1 * mB[c] + (1 - b1) * gB[c];
			vB[c] = b2 * vB[c] + (1 - b2) * gB[c] * gB[c];
			bias[c] -= (lr * (mB[c] / c1)) / (Math.sqrt(vB[c] / c2) + 1e-8);
		}
	}
	return { weights, bias, link };
}
