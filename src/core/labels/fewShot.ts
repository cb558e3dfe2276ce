/**
 * @file Classes taught by example images: how much to trust the examples is decided from held-out
 * evidence (leave-one-out over the examples themselves), among a few closed-form classifiers on the
 * stored image vectors. Fitting is a few dot products per example and class: milliseconds for 20
 * classes × 50 examples.
 *
 * [Note: held-out evidence] Each class c has up to three parts, each a cosine with the image x:
 *   T_c = x·t_c   its prompts' mean text vector (zero-shot CLIP),
 *   P_c = x·p_c   the normalised mean of its examples (a prototype),
 *   N_c = x·n_c   the normalised mean of its negatives,
 * and the logit of a candidate (a, b, g) is scale × (a·T_c + b·(P_c − mean P) − g·(N_c − mean N)),
 * a class lacking a part getting the mean of the classes that have it (so the part neither helps nor
 * hurts it). (1, 0, 0) is the zero-shot classifier exactly: the examples not used at all. Blends
 * (a = 1, b > 0: Tip-Adapter's and LP++'s "zero-shot logits plus example logits"), the prototypes
 * alone (a = 0) and a temperature (a and b scaled together) are the other candidates. Every
 * candidate is scored by the mean log-likelihood of the examples (and negatives) left out one at a
 * time — each scored with prototypes made without it, exactly, from running sums — and the best
 * one is kept; zero-shot is kept unless a blend beats it by MIN_GAIN per example, since with a
 * handful of examples the estimate is noisy and prompts that work must not be traded for noise.
 *
 * The linear probe (probe.ts) is one more candidate, judged by leave-one-out too while its refits
 * are cheap, else by 3-fold cross-validation (a refit per example would cost too much): it learns classes no single mean describes (warm
 * vs cool colours: 86 % against the prototypes' 67 % with 8 examples on the harder set), but fitted
 * blindly it learned a few examples' backgrounds and fell below prompts alone (the defect this
 * replaces). Its folds are fitted only while the work stays under PROBE_BUDGET (a few hundred ms);
 * past that only the closed-form candidates are weighed, and the evidence says so.
 *
 * Measured on the harder generated set (test/hardShapes.ts; `npm run bench -- --only fewshot`
 * prints the table the README reports).
 *
 * [Note: calibration] The output keeps the model's form — a softmax over classes (CLIP) or one
 * sigmoid per class with the model's trained bias (SigLIP) — and the weights are chosen by
 * log-likelihood, a proper scoring rule, so a `threshold` is read as before; the test reports the
 * expected calibration error with and without examples.
 */

import { applyLink, type Link, PROBE_ITERATIONS, type Probe, type ProbeExample, probeLogits, probeProbabilities, trainProbe } from './probe';

export type { Link };

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

/** What decided the blend, for the log: the chosen candidate and its held-out score against zero-shot's. */
export interface Evidence {
	/** Held-out examples and negatives scored. */
	heldOut: number;
	/** Mean log-likelihood per held-out item of the chosen blend, and of prompts alone (undefined when some class has no prompts). */
	chosen: number;
	zeroShot?: number;
	/** Candidates compared. */
	candidates: number;
	/** The probe was not weighed because its cross-validation would have cost more than PROBE_BUDGET (it is not weighed either while some class has fewer examples than folds). */
	probeSkipped?: boolean;
	/** Held-out items scored, when fewer than all were (a subsample keeps the work bounded). */
	scored?: number;
}

/** What was chosen: prompts alone, a closed-form blend, or the probe with its pull λ. */
export type Choice = { kind: 'zero-shot' } | { kind: 'blend'; blend: Blend } | { kind: 'probe'; lambda: number };

/** A blend wins over zero-shot only when it is better by this much log-likelihood per held-out item. */
const MIN_GAIN = 0.02;
const EXAMPLE_WEIGHTS = [0.125, 0.25, 0.5, 1, 2, 4, 8];
const NEGATIVE_WEIGHTS = [0, 0.5, 1, 2];
const TEMPERATURES = [0.5, 0.75, 1, 1.5, 2];
const PROBE_LAMBDAS = [1];
const PROBE_FOLDS = 3;
const PROBE_TEMPERATURES = [0.5, 1, 2, 4, 8];
/**
 * The probe's work, iterations × items × classes × dimensions summed over its fits, may be this
 * much (about 0.2 s on a 2-core EPYC): with a 512-d model, about 200 held-out items × classes.
 */
const PROBE_BUDGET = 6e7;
/** Bounds on the closed-form leave-one-out: held-out items × classes × (candidates + dimensions). */
const LOO_BUDGET = 6e7;
/** An example-only class's probe starts at κ × its prototype: image-image cosines brought to the image-text scale. */
const PROTOTYPE_SCALE = 0.25;

function dot(a: Float32Array, b: ArrayLike<number>): number {
	let s = 0;
	for (let i = 0; i < a.length; i++) {
		s += a[i] * b[i];
	}
	return s;
}

function sumOf(vectors: Float32Array[], dim: number): Float64Array {
	const s = new Float64Array(dim);
	for (const v of vectors) {
		for (let d = 0; d < dim; d++) {
			s[d] += v[d];
		}
	}
	return s;
}

function normalised(v: Float64Array): Float32Array {
	const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
	return Float32Array.from(v, x => x / n);
}

/**
 * One image's three parts per class (T, P − mean P, N − mean N), a missing part filled as
 * [Note: held-out evidence] says. `p` and `n` hold NaN for classes without that part.
 */
function parts(t: (number | undefined)[], p: number[], n: number[]): { T: number[]; P: number[]; N: number[] } {
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

export class FewShotClassifier {
	private constructor(
		private readonly text: (Float32Array | undefined)[],
		private readonly prototypes: (Float32Array | undefined)[],
		private readonly negatives: (Float32Array | undefined)[],
		readonly blend: Blend,
		readonly form: ModelForm,
		readonly evidence: Evidence | undefined,
		/** Set when the probe won on the evidence: it then gives the probabilities. */
		private readonly probe?: { probe: Probe; lambda: number },
	) {}

	get choice(): Choice {
		if (this.probe) {
			return { kind: 'probe', lambda: this.probe.lambda };
		}
		return this.blend.examples === 0 && this.blend.negatives === 0 && this.blend.text === 1 ? { kind: 'zero-shot' } : { kind: 'blend', blend: this.blend };
	}

	/** One line for the log: what was chosen and on what evidence. */
	describe(): string {
		const c = this.choice;
		const what = c.kind === 'zero-shot' ? 'prompts alone' : c.kind === 'probe' ? `the probe (λ ${c.lambda})` : `prompts ×${c.blend.text}, examples ×${c.blend.examples}, negatives ×${c.blend.negatives}`;
		const e = this.evidence;
		if (!e) {
			return `${what} (no examples)`;
		}
		const vs = e.zeroShot !== undefined ? ` vs ${e.zeroShot.toFixed(3)} prompts alone` : '';
		return `${what}: held-out log-likelihood ${e.chosen.toFixed(3)}${vs} over ${e.scored ?? e.heldOut} example(s), ${e.candidates} candidates${e.probeSkipped ? '; the probe not weighed (too much work)' : ''}`;
	}

	/**
	 * Chooses the blend from held-out evidence (see [Note: held-out evidence]) and keeps the
	 * prototypes made from all the examples.
	 */
	static fit(classes: FewShotClass[], form: ModelForm): FewShotClassifier {
		const C = classes.length;
		const dim = classes.find(c => c.text)?.text?.length ?? classes.find(c => c.examples.length)?.examples[0].length ?? classes.find(c => c.negatives.length)?.negatives[0].length ?? 0;
		const text = classes.map(c => c.text);
		const exampleSums = classes.map(c => (c.examples.length ? sumOf(c.examples, dim) : undefined));
		const negativeSums = classes.map(c => (c.negatives.length ? sumOf(c.negatives, dim) : undefined));
		const prototypes = exampleSums.map(s => (s ? normalised(s) : undefined));
		const negatives = negativeSums.map(s => (s ? normalised(s) : undefined));
		const allText = text.every(Boolean);
		const zeroShot: Blend = { text: 1, examples: 0, negatives: 0 };
		const held = classes.reduce((n, c) => n + c.examples.length + c.negatives.length, 0);
		if (!held) {
			return new FewShotClassifier(text, prototypes, negatives, zeroShot, form, undefined);
		}
		const candidates: Blend[] = allText ? [zeroShot] : [];
		const anyText = text.some(Boolean);
		const anyExamples = prototypes.some(Boolean);
		for (const b of anyExamples ? EXAMPLE_WEIGHTS : [0]) {
			for (const g of negatives.some(Boolean) ? NEGATIVE_WEIGHTS : [0]) {
				if (b === 0 && g === 0) {
					continue; // zero-shot, above
				}
				// Blends at a few temperatures (a and b scaled together) ...
				for (const temperature of anyText ? TEMPERATURES : []) {
					candidates.push({ text: temperature, examples: temperature * b, negatives: temperature * g });
				}
				// ... and the prototypes alone, where b is the temperature.
				if (anyExamples) {
					candidates.push({ text: 0, examples: b, negatives: g });
				}
			}
		}
		// Each held-out item's parts, with the prototypes of its own class made without it.
		type Item = { cls: number; negative: boolean; T: number[]; P: number[]; N: number[] };
		const items: Item[] = [];
		const cosWithout = (x: Float32Array, sum: Float64Array | undefined, count: number, self: boolean): number => {
			if (!sum) {
				return NaN;
			}
			if (!self) {
				return dot(x, sum) / Math.sqrt(sum.reduce((a, v) => a + v * v, 0));
			}
			if (count <= 1) {
				return NaN; // its class has no other example: that part is missing for it
			}
			// ‖S − x‖² = ‖S‖² − 2 x·S + ‖x‖², x·(S − x) = x·S − ‖x‖².
			const xs = dot(x, sum);
			const xx = dot(x, x);
			const ss = sum.reduce((a, v) => a + v * v, 0);
			return (xs - xx) / Math.sqrt(Math.max(1e-12, ss - 2 * xs + xx));
		};
		// The leave-one-out scores at most `limit` items (every stride-th), so its work stays bounded.
		const limit = Math.max(C, Math.floor(LOO_BUDGET / (C * (candidates.length + dim))));
		const stride = Math.max(1, Math.ceil(held / limit));
		let index = 0;
		classes.forEach((c, k) => {
			for (const [list, negative] of [
				[c.examples, false],
				[c.negatives, true],
			] as const) {
				for (const x of list) {
					if (index++ % stride) {
						continue;
					}
					const t = text.map(v => (v ? dot(x, v) : undefined));
					const p = classes.map((o, j) => cosWithout(x, exampleSums[j], o.examples.length, !negative && j === k));
					const n = classes.map((o, j) => cosWithout(x, negativeSums[j], o.negatives.length, negative && j === k));
					items.push({ cls: k, negative, ...parts(t, p, n) });
				}
			}
		});
		const z = new Float64Array(C);
		const score = (blend: Blend): number => {
			let ll = 0;
			for (const it of items) {
				for (let j = 0; j < C; j++) {
					z[j] = form.scale * (blend.text * it.T[j] + blend.examples * it.P[j] - blend.negatives * it.N[j]) + form.bias;
				}
				applyLink(form.link, z);
				const pk = Math.min(1 - 1e-9, Math.max(1e-9, z[it.cls]));
				ll += it.negative ? Math.log(1 - pk) : Math.log(pk);
				if (form.link === 'sigmoid' && !it.negative) {
					// One sigmoid per class: an example is also a negative for every other class.
					for (let j = 0; j < C; j++) {
						if (j !== it.cls) {
							ll += Math.log(Math.max(1e-9, 1 - z[j]));
						}
					}
				}
			}
			return ll / items.length;
		};
		let best = candidates[0];
		let bestScore = -Infinity;
		const zeroShotScore = allText ? score(zeroShot) : undefined;
		for (const blend of candidates) {
			const s = blend === zeroShot ? zeroShotScore! : score(blend);
			if (s > bestScore) {
				best = blend;
				bestScore = s;
			}
		}
		// The probe, by cross-validation, where that is affordable.
		// Leave-one-out where it is affordable (the same yardstick as the blends'), else 3 folds.
		const costOf = (folds: number): number => PROBE_ITERATIONS * held * C * dim * (PROBE_LAMBDAS.length * folds + 1);
		const folds = costOf(held) <= PROBE_BUDGET ? held : Math.min(PROBE_FOLDS, held);
		const probeCost = costOf(folds);
		let probe: { probe: Probe; lambda: number } | undefined;
		// Each fold must leave every class most of its examples to learn from: at least three each.
		const probeWeighed = probeCost <= PROBE_BUDGET && classes.every(c => c.examples.length >= PROBE_FOLDS);
		if (probeWeighed) {
			// Like a blend against prompts alone, the probe must win by a margin: its folds are few.
			const scored = probeCandidate(classes, dim, text, form, folds);
			if (scored.score > bestScore + MIN_GAIN) {
				probe = { probe: scored.fit(), lambda: scored.lambda };
				bestScore = scored.score;
			}
		}
		if (zeroShotScore !== undefined && (probe || best !== zeroShot) && bestScore < zeroShotScore + MIN_GAIN) {
			best = zeroShot;
			bestScore = zeroShotScore;
			probe = undefined;
		}
		const evidence: Evidence = {
			heldOut: held,
			chosen: bestScore,
			zeroShot: zeroShotScore,
			candidates: candidates.length + (probeWeighed ? PROBE_LAMBDAS.length : 0),
			...(probeCost > PROBE_BUDGET ? { probeSkipped: true } : {}),
			...(stride > 1 ? { scored: items.length } : {}),
		};
		return new FewShotClassifier(text, prototypes, negatives, best, form, evidence, probe);
	}

	/** Class probabilities of one image vector. */
	probabilities(x: Float32Array): number[] {
		if (this.probe) {
			return probeProbabilities(this.probe.probe, x);
		}
		const t = this.text.map(v => (v ? dot(x, v) : undefined));
		const p = this.prototypes.map(v => (v ? dot(x, v) : NaN));
		const n = this.negatives.map(v => (v ? dot(x, v) : NaN));
		const { T, P, N } = parts(t, p, n);
		const z = new Float64Array(T.length);
		for (let j = 0; j < z.length; j++) {
			z[j] = this.form.scale * (this.blend.text * T[j] + this.blend.examples * P[j] - this.blend.negatives * N[j]) + this.form.bias;
		}
		return Array.from(applyLink(this.form.link, z));
	}
}

/**
 * The probe's best pull λ by stratified k-fold cross-validation (each fold's start made from the
 * other folds only), its mean held-out log-likelihood, and a fit on everything with that λ.
 */
function probeCandidate(classes: FewShotClass[], dim: number, text: (Float32Array | undefined)[], form: ModelForm, folds: number): { score: number; lambda: number; fit: () => Probe } {
	type Held = ProbeExample & { negative: boolean; fold: number };
	const all: Held[] = [];
	let n = 0;
	classes.forEach((c, cls) => {
		c.examples.forEach(vector => all.push({ vector, cls, negative: false, fold: n++ % folds }));
		c.negatives.forEach(vector => all.push({ vector, cls, negative: true, fold: n++ % folds }));
	});
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
	// Held-out logits per λ, then the temperature that scores them best: a probe that ranks right but
	// is unsure would otherwise lose on likelihood to a surer, worse classifier.
	let best = { score: -Infinity, lambda: PROBE_LAMBDAS[0], temperature: 1 };
	const z = new Float64Array(classes.length);
	for (const lambda of PROBE_LAMBDAS) {
		const heldLogits: { h: Held; logits: Float64Array }[] = [];
		for (let f = 0; f < folds; f++) {
			const probe = fitOn(
				all.filter(h => h.fold !== f),
				lambda,
			);
			for (const h of all.filter(x => x.fold === f)) {
				heldLogits.push({ h, logits: probeLogits(probe, h.vector) });
			}
		}
		for (const temperature of PROBE_TEMPERATURES) {
			let ll = 0;
			for (const { h, logits } of heldLogits) {
				for (let j = 0; j < z.length; j++) {
					z[j] = temperature * (logits[j] - form.bias) + form.bias;
				}
				applyLink(form.link, z);
				const pk = Math.min(1 - 1e-9, Math.max(1e-9, z[h.cls]));
				ll += h.negative ? Math.log(1 - pk) : Math.log(pk);
				if (form.link === 'sigmoid' && !h.negative) {
					z.forEach((q, j) => j !== h.cls && (ll += Math.log(Math.max(1e-9, 1 - q))));
				}
			}
			if (ll / all.length > best.score) {
				best = { score: ll / all.length, lambda, temperature };
			}
		}
	}
	const fit = (): Probe => {
		const probe = fitOn(all, best.lambda);
		return {
			...probe,
			weights: probe.weights.map(w => w.map(v => v * best.temperature)),
			bias: probe.bias.map(v => best.temperature * (v - form.bias) + form.bias),
		};
	};
	return { score: best.score, lambda: best.lambda, fit };
}
