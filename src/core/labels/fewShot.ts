/**
 * @file Classes taught by example images: a linear probe on the stored image vectors, started from
 * the zero-shot classifier and trained in-process (milliseconds: a few dozen examples, a few
 * classes, one vector each).
 *
 * [Note: probe, not prototype] Measured on generated shapes with the tiny model
 * (test/core/fewShot.test.ts prints the table): a class prototype (the mean of its examples) and
 * this probe are close with examples only, but adding a prototype to the prompts' vector mixes two
 * similarity scales (image-image cosines near 0.8, image-text near 0.3) and fell below prompts
 * alone; the probe learns how much each example counts against the prompts, and stayed at or above
 * prompts alone for every k.
 *
 * [Note: calibration] The probe keeps the zero-shot model's form — a softmax over classes of
 * logits = W·x + b, W starting at logitScale × the prompts' mean vector (classes with prompts) or
 * logitScale × κ × the examples' mean (classes with examples only; κ = 0.25 brings image-image
 * cosines to the image-text scale), b at 0 — and is fitted by maximum likelihood (cross-entropy
 * on the examples; −log(1 − p) on negatives) with an L2 pull back to that start. With no examples
 * it is the zero-shot classifier exactly; with examples its outputs are still probabilities of the
 * same softmax, fitted to the examples, so a `threshold` is read the same way. The test reports the
 * expected calibration error of both on held-out images. For a sigmoid model (SigLIP) the form is
 * its own: one sigmoid per class, biases starting at the model's trained bias, fitted with binary
 * cross-entropy (an example is positive for its class and negative for the others; a negative only
 * for the class it was given against).
 */

export interface ProbeExample {
	vector: Float32Array;
	/** Index of the class. */
	cls: number;
}

export type Link = 'softmax' | 'sigmoid';

export interface Probe {
	/** Per class: weights (logit units) and bias. */
	weights: Float32Array[];
	bias: Float64Array;
	/** A softmax over classes (CLIP) or a sigmoid per class (SigLIP). */
	link: Link;
}

export interface ProbeOptions {
	/** Pull back to the starting weights (per unit of logit scale). Default 1. */
	lambda?: number;
	iterations?: number;
	learningRate?: number;
}

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

function softmaxInPlace(z: Float64Array): void {
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
}

function sigmoidInPlace(z: Float64Array): void {
	for (let i = 0; i < z.length; i++) {
		z[i] = 1 / (1 + Math.exp(-z[i]));
	}
}

function activate(link: Link, z: Float64Array): void {
	if (link === 'sigmoid') {
		sigmoidInPlace(z);
	} else {
		softmaxInPlace(z);
	}
}

/** Class probabilities of one image vector. */
export function probeProbabilities(probe: Probe, x: Float32Array): number[] {
	const z = new Float64Array(probe.weights.length);
	logits(probe, x, z);
	activate(probe.link, z);
	return Array.from(z);
}

/**
 * Fits the probe to the examples (and negatives: images that are not of a class), from `start`.
 * Adam on the full batch; `scale` is the model's logit scale (the regularisation is measured in
 * its units, so it means the same for every model).
 */
export function trainProbe(
	start: Float32Array[],
	scale: number,
	examples: ProbeExample[],
	negatives: ProbeExample[],
	options: ProbeOptions = {},
	model: { link: Link; bias: number } = { link: 'softmax', bias: 0 },
): Probe {
	const C = start.length;
	const D = start[0]?.length ?? 0;
	const weights = start.map(w => Float32Array.from(w));
	const bias = new Float64Array(C).fill(model.bias);
	const link = model.link;
	if (!examples.length && !negatives.length) {
		return { weights, bias, link };
	}
	const lambda = options.lambda ?? 1;
	const iterations = options.iterations ?? 150;
	const lr = options.learningRate ?? 0.05 * scale;
	const n = examples.length + negatives.length;
	// Adam state.
	const mW = start.map(() => new Float64Array(D));
	const vW = start.map(() => new Float64Array(D));
	const mB = new Float64Array(C);
	const vB = new Float64Array(C);
	const gW = start.map(() => new Float64Array(D));
	const gB = new Float64Array(C);
	const p = new Float64Array(C);
	const b1 = 0.9;
	const b2 = 0.999;
	for (let t = 1; t <= iterations; t++) {
		for (let c = 0; c < C; c++) {
			gW[c].fill(0);
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
			activate(link, p);
			p[e.cls] -= 1; // d(cross-entropy)/d(logit) = p − onehot, for both links
			accumulate(e.vector, p);
		}
		for (const e of negatives) {
			logits({ weights, bias }, e.vector, p);
			activate(link, p);
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
