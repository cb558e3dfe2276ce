/**
 * @file The candidate classifiers few-shot labelling weighs ([Note: held-out evidence] in fewShot.ts):
 * what a class is made of, the closed-form blends' parts, and the probe, fitted by cross-validation
 * over the held-out groups. fewShot.ts chooses among them on the held-out evidence (heldOut.ts).
 */
import { type Held, labelsRight, logLikelihood } from './heldOut';
import { applyLink, type Link, type Probe, probeLogits, trainProbe } from './probe';

/** What a class is made of: prompts (as their unit mean text vector), example and negative image vectors. */
export interface FewShotClass {
	text?: Float32Array;
	examples: Float32Array[];
	negatives: Float32Array[];
}

/** The weights of the parts, in units of the model's logit scale: see [Note: held-out evidence]. */
export interface Blend {
	text: number;
	examples: number;
	negatives: number;
}

export interface ModelForm {
	/** The model's logit scale (exp of the trained log scale). */
	scale: number;
	link: Link;
	/** SigLIP's trained logit bias (0 for CLIP). */
	bias: number;
}

export const PROBE_LAMBDAS = [1];
export const PROBE_FOLDS = 3;
export const PROBE_TEMPERATURES = [0.5, 1, 2, 4, 8];
/** An example-only class's probe starts at κ × its prototype: image-image cosines brought to the image-text scale. */
const PROTOTYPE_SCALE = 0.25;

export function dot(a: Float32Array, b: ArrayLike<number>): number {
	let s = 0;
	for (let i = 0; i < a.length; i++) {
		s += a[i] * b[i];
	}
	return s;
}

export function sumOf(vectors: Float32Array[], dim: number): Float64Array {
	const s = new Float64Array(dim);
	for (const v of vectors) {
		for (let d = 0; d < dim; d++) {
			s[d] += v[d];
		}
	}
	return s;
}

export function normalised(v: Float64Array): Float32Array {
	const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
	return Float32Array.from(v, x => x / n);
}

/**
 * One image's three parts per class (T, P − mean P, N − mean N), a missing part filled as
 * [Note: held-out evidence] says. `p` and `n` hold NaN for classes without that part.
 */
export function parts(t: (number | undefined)[], p: number[], n: number[]): { T: number[]; P: number[]; N: number[] } {
	const meanOf = (xs: (number | undefined)[]): number => {
		let s = 0;
		let k = 0;
		for (const x of xs) {
			if (x !== undefined && !Number.isNaN(x)) {
				s += x;
				k++;
			}
		}
		return k ? s / k : 0;
	};
	const mt = meanOf(t);
	const mp = meanOf(p);
	const mn = meanOf(n);
	return {
		T: t.map(x => x ?? mt),
		P: p.map(x => (Number.isNaN(x) ? 0 : x - mp)),
		N: n.map(x => (Number.isNaN(x) ? 0 : x - mn)),
	};
}

/**
 * The probe by cross-validation over the held-out items' groups (a group of near-duplicates is
 * always in one fold; `folds` = the number of groups is leave-one-group-out): per item, whether its
 * held-out logits label it right and its log-likelihood at the temperature that scores the held-out
 * logits best; and a fit on everything. The pull λ is fixed (PROBE_LAMBDAS has one), so nothing but
 * that temperature, which changes no label, is chosen on the folds that score it.
 */
export function probeCandidate(
	classes: FewShotClass[],
	dim: number,
	text: (Float32Array | undefined)[],
	form: ModelForm,
	all: Held[],
	folds: number,
): { right: Uint8Array; ll: Float64Array; lambda: number; fit: () => Probe } {
	const foldOf = (h: Held): number => h.group % folds;
	const model = { link: form.link, bias: form.bias };
	const startFrom = (train: Held[]): Float32Array[] =>
		classes.map((_, k) => {
			if (text[k]) {
				return text[k]!.map(v => v * form.scale);
			}
			const own = train.filter(h => h.cls === k && !h.negative).map(h => h.vector);
			return own.length ? normalised(sumOf(own, dim)).map(v => v * form.scale * PROTOTYPE_SCALE) : new Float32Array(dim);
		});
	const fitOn = (train: Held[], lambda: number): Probe =>
		trainProbe(
			startFrom(train),
			form.scale,
			train.filter(h => !h.negative),
			train.filter(h => h.negative),
			lambda,
			model,
		);
	// Held-out logits, then the temperature that scores them best: a probe that ranks right but is
	// unsure would otherwise lose on likelihood to a surer, worse classifier.
	const lambda = PROBE_LAMBDAS[0];
	const heldLogits: Float64Array[] = new Array(all.length);
	for (let f = 0; f < folds; f++) {
		const probe = fitOn(
			all.filter(h => foldOf(h) !== f),
			lambda,
		);
		all.forEach((h, i) => {
			if (foldOf(h) === f) {
				heldLogits[i] = probeLogits(probe, h.vector);
			}
		});
	}
	const z = new Float64Array(classes.length);
	const at = (temperature: number, out?: Float64Array): number => {
		let sum = 0;
		all.forEach((h, i) => {
			const logits = heldLogits[i];
			for (let j = 0; j < z.length; j++) {
				z[j] = temperature * (logits[j] - form.bias) + form.bias;
			}
			applyLink(form.link, z);
			const ll = logLikelihood(form.link, z, h.cls, h.negative);
			sum += ll;
			if (out) {
				out[i] = ll;
			}
		});
		return sum;
	};
	const temperature = PROBE_TEMPERATURES.reduce((best, t) => (at(t) > at(best) ? t : best));
	const ll = new Float64Array(all.length);
	at(temperature, ll);
	const right = Uint8Array.from(all, (h, i) => (labelsRight(heldLogits[i], h.cls, h.negative) ? 1 : 0));
	const fit = (): Probe => {
		const probe = fitOn(all, lambda);
		return {
			...probe,
			weights: probe.weights.map(w => w.map(v => v * temperature)),
			bias: probe.bias.map(v => temperature * (v - form.bias) + form.bias),
		};
	};
	return { right, ll, lambda, fit };
}
