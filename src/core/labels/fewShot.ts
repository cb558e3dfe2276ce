/**
 * @file Classes taught by example images: how much to trust the examples is decided from held-out
 * evidence (the examples themselves, left out a group of near-duplicates at a time), among a few
 * closed-form classifiers on the stored image vectors and a linear probe. Fitting is a few dot
 * products per example and class: milliseconds for 20 classes × 50 examples.
 *
 * [Note: held-out evidence] Each class c has up to three parts, each a cosine with the image x:
 *   T_c = x·t_c   its prompts' mean text vector (zero-shot CLIP),
 *   P_c = x·p_c   the normalised mean of its examples (a prototype),
 *   N_c = x·n_c   the normalised mean of its negatives,
 * and the logit of a candidate (a, b, g) is scale × (a·T_c + b·(P_c − mean P) − g·(N_c − mean N)),
 * a class lacking a part getting the mean of the classes that have it (so the part neither helps nor
 * hurts it). (1, 0, 0) is the zero-shot classifier exactly: the examples not used at all, and (a, 0, 0)
 * the same labels at another temperature. Blends (a > 0, b > 0: Tip-Adapter's and LP++'s "zero-shot
 * logits plus example logits"), the prototypes alone (a = 0) and a temperature (a and b scaled
 * together) are the other closed-form candidates; the linear probe (probe.ts) is one more.
 *
 * The evidence: each example (and negative) is scored by every candidate made without it — the
 * prototypes exactly, from running sums; the probe by cross-validation, left-out refits while they
 * are cheap, else 3 folds. Examples a person picks are often alike (one shoot, one background), and
 * leaving one out of such a set predicts its twins, not the folder: examples of a class at cosine
 * GROUP_COSINE or more (the product's duplicate threshold) are linked, and a linked group is left out
 * whole (unless it is the whole class, which could then not be scored at all).
 *
 * The comparison, like for like: held-out accuracy first, log-likelihood after. When every class
 * has prompts, prompts alone are the baseline, scored at the model's temperature and at fitted ones
 * (PROMPT_TEMPERATURES: same labels; a fitted one is kept when it is MIN_GAIN more likely per item).
 * A blend or the probe replaces them only when it labels clearly more held-out items right: of the
 * items the two disagree on, its wins over prompts alone must pass a one-sided sign test at
 * SIGN_ALPHA (3 wins and no loss do not; 5 and none do). Log-likelihood alone once chose the probe at
 * 3–4 examples a class by a wide margin (−0.085 against −0.305) that came from prompts alone being
 * scored at the model's own, overconfident temperature while the probe had a fitted one, and the
 * probe then labelled the other images 6–12 points worse than the prompts it replaced (issue 28).
 * Among candidates that pass, the most accurate, then the most likely. Without prompts for every
 * class the baseline is the closed-form candidate of best log-likelihood (for classes taught by
 * examples only: the prototypes), and the probe replaces it when it passes the sign test, or labels
 * more held-out items right and is MIN_GAIN more likely: both are fitted to the same examples, so
 * neither has the prompts' outside knowledge to protect. The probe learns classes no single mean
 * describes (warm vs cool colours: 82 % against the prototypes' 68 % with 8 examples on the harder
 * set). Its pull λ is fixed, so only its temperature, which changes no label, is chosen on the
 * folds that score it. Its folds are fitted only while the work stays under PROBE_BUDGET (a few
 * hundred ms); past that only the closed-form candidates are weighed, and the evidence says so.
 *
 * Tuned on the harder generated set (test/hardShapes.ts, including examples drawn alike: an image
 * and its nearest neighbours in its class, where log-likelihood alone lost 6 points against prompts
 * alone) and checked on a held-back one that no choice here looked at (test/heldBackShapes.ts);
 * `npm run bench -- --only fewshot` prints both tables.
 *
 * [Note: calibration] The output keeps the model's form — a softmax over classes (CLIP) or one
 * sigmoid per class with the model's trained bias (SigLIP) — and temperatures are chosen by
 * log-likelihood, a proper scoring rule, so a `threshold` is read as before; the test reports the
 * expected calibration error with and without examples.
 */

import { type Blend, dot, type FewShotClass, type ModelForm, normalised, parts, PROBE_FOLDS, PROBE_LAMBDAS, probeCandidate, sumOf } from './fewShotCandidates';
import { compare, type Held, type HeldRecord, labelsRight, logLikelihood, nearDuplicateGroups, signTestP } from './heldOut';
import { applyLink, type Link, PROBE_ITERATIONS, type Probe, probeProbabilities } from './probe';

export type { Link };

/** What decided the choice, for the log: see [Note: held-out evidence]. */
export interface Evidence {
	/** Held-out examples and negatives. */
	heldOut: number;
	/** The groups of near-duplicates they were held out in (each group left out whole). */
	groups: number;
	/** Held-out items scored, when fewer than all were (a subsample keeps the work bounded). */
	scored?: number;
	/** Mean log-likelihood per scored item of the choice, and of prompts alone at the model's temperature (undefined when some class has no prompts). */
	chosen: number;
	zeroShot?: number;
	/** Scored items the choice labels right, and the baseline (prompts alone, or the closed-form classifier of best log-likelihood when some class has no prompts). */
	right: number;
	baselineRight: number;
	/** Where the choice is not the baseline: items it labels right that the baseline labels wrong, and the reverse, and the sign test's p-value. */
	better: number;
	worse: number;
	p?: number;
	/** Where the baseline was kept: the most accurate other candidate, which did not beat it. */
	runnerUp?: { what: string; right: number; better: number; worse: number; p: number };
	/** Candidates compared. */
	candidates: number;
	/** The probe was not weighed because its cross-validation would have cost more than PROBE_BUDGET. */
	probeSkipped?: boolean;
}

/** What was chosen: prompts alone (at a fitted temperature), a closed-form blend, or the probe with its pull λ. */
export type Choice = { kind: 'zero-shot'; temperature: number } | { kind: 'blend'; blend: Blend } | { kind: 'probe'; lambda: number };

/** Prompts alone are scored at a fitted temperature only when it is better than the model's own by this much log-likelihood per held-out item (and the probe, without prompts, must be this much more likely: see [Note: held-out evidence]). */
const MIN_GAIN = 0.02;
/** The one-sided sign test's level: a candidate replaces prompts alone only when its held-out wins over them are this unlikely by chance. */
const SIGN_ALPHA = 0.05;
const EXAMPLE_WEIGHTS = [0.125, 0.25, 0.5, 1, 2, 4, 8];
const NEGATIVE_WEIGHTS = [0, 0.5, 1, 2];
const TEMPERATURES = [0.5, 0.75, 1, 1.5, 2];
/**
 * Prompts alone are also scored at these multiples of the model's logit scale (√2 apart): the
 * same labels, other confidences. Wider than the blends' range, since a model can be far more sure
 * of itself than it is right on a folder unlike its training data (the harder set with the scale
 * doubled or tripled fitted the edge of [0.5, 2]).
 */
const PROMPT_TEMPERATURES = [0.25, 0.35, 0.5, 0.7, 1, 1.4, 2];
/**
 * The probe's work, iterations × items × classes × dimensions summed over its fits, may be this
 * much (about 0.2 s on a 2-core EPYC): with a 512-d model, about 200 held-out items × classes.
 */
const PROBE_BUDGET = 6e7;
/** Bounds on the closed-form leave-one-out: held-out items × classes × (candidates + dimensions). */
const LOO_BUDGET = 6e7;
/** Bounds on finding the groups: pairs × dimensions within the classes (past it, each item is its own group). */
const GROUP_BUDGET = 3e7;

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
		return this.blend.examples === 0 && this.blend.negatives === 0 && this.text.every(Boolean) ? { kind: 'zero-shot', temperature: this.blend.text } : { kind: 'blend', blend: this.blend };
	}

	/** One line for the log: what was chosen and on what evidence. */
	describe(): string {
		const e = this.evidence;
		const what = describeChoice(this.choice);
		if (!e) {
			return `${what} (no examples)`;
		}
		const n = e.scored ?? e.heldOut;
		const baseline = this.text.every(Boolean) ? 'prompts alone' : 'the best closed-form classifier by log-likelihood';
		const test = (r: { better: number; worse: number; p?: number }): string => `${r.better} better, ${r.worse} worse, sign test p ${(r.p ?? 1).toPrecision(2)}`;
		const why =
			e.p !== undefined
				? `held-out accuracy ${e.right}/${n} vs ${e.baselineRight}/${n} ${baseline} (${test(e)}${e.p > SIGN_ALPHA ? '; more right and more likely' : ''})`
				: `held-out accuracy ${e.right}/${n}; kept${this.text.every(Boolean) ? '' : ` (${baseline})`}, no other candidate clearly more accurate${e.runnerUp ? ` (the best other, ${e.runnerUp.what}: ${e.runnerUp.right}/${n}, ${test(e.runnerUp)})` : ''}`;
		const ll = `log-likelihood ${e.chosen.toFixed(3)}${e.zeroShot !== undefined ? ` (prompts alone at the model's temperature ${e.zeroShot.toFixed(3)})` : ''}`;
		const groups = e.groups < e.heldOut ? ` in ${e.groups} group(s) of near-duplicates` : '';
		return `${what}: ${why}; ${ll}; over ${n} example(s)${groups}, ${e.candidates} candidates${e.probeSkipped ? '; the probe not weighed (too much work)' : ''}`;
	}

	/**
	 * Chooses from held-out evidence (see [Note: held-out evidence]) and keeps the prototypes made
	 * from all the examples.
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
		// Prompts alone at the model's temperature and at the others (the same labels, other confidences) ...
		const promptsAlone: Blend[] = allText ? [zeroShot, ...PROMPT_TEMPERATURES.filter(t => t !== 1).map(t => ({ text: t, examples: 0, negatives: 0 }))] : [];
		const candidates: Blend[] = [...promptsAlone];
		const anyText = text.some(Boolean);
		const anyExamples = prototypes.some(Boolean);
		for (const b of anyExamples ? EXAMPLE_WEIGHTS : [0]) {
			for (const g of negatives.some(Boolean) ? NEGATIVE_WEIGHTS : [0]) {
				if (b === 0 && g === 0) {
					continue; // prompts alone, above
				}
				// ... blends at a few temperatures (a and b scaled together) ...
				for (const temperature of anyText ? TEMPERATURES : []) {
					candidates.push({ text: temperature, examples: temperature * b, negatives: temperature * g });
				}
				// ... and the prototypes alone, where b is the temperature.
				if (anyExamples) {
					candidates.push({ text: 0, examples: b, negatives: g });
				}
			}
		}
		// The held-out items, each class's examples and negatives in groups of near-duplicates.
		const all: Held[] = [];
		const groupSums: Float64Array[] = [];
		const groupSize: number[] = [];
		const pairs = classes.reduce((n, c) => n + (c.examples.length * (c.examples.length - 1) + c.negatives.length * (c.negatives.length - 1)) / 2, 0);
		classes.forEach((c, cls) => {
			for (const [list, negative] of [
				[c.examples, false],
				[c.negatives, true],
			] as const) {
				const local = nearDuplicateGroups(list, pairs * dim <= GROUP_BUDGET);
				const base = groupSums.length;
				list.forEach((vector, i) => {
					const group = base + local[i];
					if (group === groupSums.length) {
						groupSums.push(new Float64Array(dim));
						groupSize.push(0);
					}
					for (let d = 0; d < dim; d++) {
						groupSums[group][d] += vector[d];
					}
					groupSize[group]++;
					all.push({ vector, cls, negative, group });
				});
			}
		});
		const groups = groupSums.length;
		const dot64 = (a: Float64Array, b: Float64Array): number => {
			let acc = 0;
			for (let d = 0; d < a.length; d++) {
				acc += a[d] * b[d];
			}
			return acc;
		};
		// ‖S‖² per sum; per group, S·G with its class's sum S and ‖G‖² (computed once, when first needed).
		const squares = new Map<Float64Array, number>([...exampleSums, ...negativeSums].filter((v): v is Float64Array => !!v).map(v => [v, dot64(v, v)]));
		const groupDots = new Map<number, { sg: number; gg: number }>();
		/** The cosine of x with a class's prototype (or negatives' mean) made without x's group, NaN when nothing is left. */
		const cosWithout = (x: Float32Array, sum: Float64Array | undefined, count: number, group: number | undefined): number => {
			if (!sum) {
				return NaN;
			}
			const ss = squares.get(sum)!;
			if (group === undefined) {
				return dot(x, sum) / Math.sqrt(ss);
			}
			if (count <= groupSize[group]) {
				return NaN; // its class has nothing else: that part is missing for it
			}
			// ‖S − G‖² = ‖S‖² − 2 S·G + ‖G‖², x·(S − G) = x·S − x·G.
			const g = groupSums[group];
			let dots = groupDots.get(group);
			if (!dots) {
				dots = { sg: dot64(sum, g), gg: dot64(g, g) };
				groupDots.set(group, dots);
			}
			return (dot(x, sum) - dot(x, g)) / Math.sqrt(Math.max(1e-12, ss - 2 * dots.sg + dots.gg));
		};
		// The leave-one-out scores at most `limit` items (every stride-th), so its work stays bounded.
		const limit = Math.max(C, Math.floor(LOO_BUDGET / (C * (candidates.length + dim))));
		const stride = Math.max(1, Math.ceil(held / limit));
		const scoredIndex: number[] = [];
		const items: { cls: number; negative: boolean; T: number[]; P: number[]; N: number[] }[] = [];
		all.forEach((h, index) => {
			if (index % stride) {
				return;
			}
			const x = h.vector;
			const t = text.map(v => (v ? dot(x, v) : undefined));
			const p = classes.map((o, j) => cosWithout(x, exampleSums[j], o.examples.length, !h.negative && j === h.cls ? h.group : undefined));
			const n = classes.map((o, j) => cosWithout(x, negativeSums[j], o.negatives.length, h.negative && j === h.cls ? h.group : undefined));
			scoredIndex.push(index);
			items.push({ cls: h.cls, negative: h.negative, ...parts(t, p, n) });
		});
		const z = new Float64Array(C);
		const evaluate = (blend: Blend): HeldRecord => {
			const right = new Uint8Array(items.length);
			let ll = 0;
			let correct = 0;
			items.forEach((it, i) => {
				for (let j = 0; j < C; j++) {
					z[j] = form.scale * (blend.text * it.T[j] + blend.examples * it.P[j] - blend.negatives * it.N[j]) + form.bias;
				}
				applyLink(form.link, z);
				right[i] = labelsRight(z, it.cls, it.negative) ? 1 : 0;
				correct += right[i];
				ll += logLikelihood(form.link, z, it.cls, it.negative);
			});
			return { right, correct, ll: ll / items.length };
		};
		const records = new Map(candidates.map(b => [b, evaluate(b)]));
		const bestByLikelihood = (list: Blend[]): Blend => list.reduce((best, b) => (records.get(b)!.ll > records.get(best)!.ll ? b : best));
		// The baseline: prompts alone (at a fitted temperature only when that is clearly better), else
		// the closed-form classifier of best log-likelihood.
		let baseline: Blend;
		if (allText) {
			const fitted = bestByLikelihood(promptsAlone);
			baseline = records.get(fitted)!.ll >= records.get(zeroShot)!.ll + MIN_GAIN ? fitted : zeroShot;
		} else {
			baseline = bestByLikelihood(candidates);
		}
		const base = records.get(baseline)!;
		// The contenders: every other closed-form candidate (when the baseline is prompts alone), and the probe.
		type Contender = { what: string; record: HeldRecord; blend?: Blend; probe?: ReturnType<typeof probeCandidate> };
		const contenders: Contender[] = allText ? candidates.filter(b => !promptsAlone.includes(b)).map(b => ({ what: describeChoice({ kind: 'blend', blend: b }), record: records.get(b)!, blend: b })) : [];
		// The probe, by cross-validation over the groups, where that is affordable: left-out groups
		// while their refits are cheap, else 3 folds.
		const costOf = (folds: number): number => PROBE_ITERATIONS * held * C * dim * (PROBE_LAMBDAS.length * folds + 1);
		const folds = costOf(groups) <= PROBE_BUDGET ? groups : Math.min(PROBE_FOLDS, groups);
		const probeCost = costOf(folds);
		// Each fold must leave every class most of its examples to learn from: at least three each.
		const probeWeighed = probeCost <= PROBE_BUDGET && classes.every(c => c.examples.length >= PROBE_FOLDS);
		if (probeWeighed) {
			const scored = probeCandidate(classes, dim, text, form, all, folds);
			const right = new Uint8Array(items.length);
			let correct = 0;
			let ll = 0;
			scoredIndex.forEach((index, i) => {
				right[i] = scored.right[index];
				correct += right[i];
				ll += scored.ll[index];
			});
			contenders.push({ what: describeChoice({ kind: 'probe', lambda: scored.lambda }), record: { right, correct, ll: ll / items.length }, probe: scored });
		}
		// [Note: held-out evidence] A contender replaces the baseline when it labels clearly more
		// held-out items right (the sign test); without prompts, also when it labels more of them right
		// and is more likely by MIN_GAIN. Among those that do, the most accurate, then the most likely.
		const beats = (c: Contender): boolean => {
			const { better, worse } = compare(c.record, base);
			return signTestP(better, worse) <= SIGN_ALPHA || (!allText && better > worse && c.record.ll >= base.ll + MIN_GAIN);
		};
		const ahead = (a: Contender, b: Contender | undefined): boolean => !b || a.record.correct > b.record.correct || (a.record.correct === b.record.correct && a.record.ll > b.record.ll);
		let winner: Contender | undefined;
		let runnerUp: Contender | undefined;
		for (const c of contenders) {
			if (beats(c)) {
				winner = ahead(c, winner) ? c : winner;
			} else {
				runnerUp = ahead(c, runnerUp) ? c : runnerUp;
			}
		}
		const chosen = winner?.record ?? base;
		const against = (c: Contender): { better: number; worse: number; p: number } => {
			const v = compare(c.record, base);
			return { ...v, p: signTestP(v.better, v.worse) };
		};
		const evidence: Evidence = {
			heldOut: held,
			groups,
			...(stride > 1 ? { scored: items.length } : {}),
			chosen: chosen.ll,
			zeroShot: allText ? records.get(zeroShot)!.ll : undefined,
			right: chosen.correct,
			baselineRight: base.correct,
			...(winner ? against(winner) : { better: 0, worse: 0 }),
			...(!winner && runnerUp ? { runnerUp: { what: runnerUp.what, right: runnerUp.record.correct, ...against(runnerUp) } } : {}),
			candidates: candidates.length + (probeWeighed ? PROBE_LAMBDAS.length : 0),
			...(probeCost > PROBE_BUDGET ? { probeSkipped: true } : {}),
		};
		const probe = winner?.probe ? { probe: winner.probe.fit(), lambda: winner.probe.lambda } : undefined;
		return new FewShotClassifier(text, prototypes, negatives, winner?.blend ?? baseline, form, evidence, probe);
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

/** A choice in words, for the log. */
function describeChoice(c: Choice): string {
	if (c.kind === 'zero-shot') {
		return c.temperature === 1 ? 'prompts alone' : `prompts alone, logits ×${c.temperature}`;
	}
	if (c.kind === 'probe') {
		return `the probe (λ ${c.lambda})`;
	}
	return `prompts ×${c.blend.text}, examples ×${c.blend.examples}, negatives ×${c.blend.negatives}`;
}

