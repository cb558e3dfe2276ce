/**
 * Classes taught by examples, measured on generated shapes with the tiny model: accuracy for 1, 2,
 * 4 and 8 examples per class, prompts only vs examples only vs both, the probe against a plain
 * prototype, in the same run; the table is printed (node --test shows it) and the choices the
 * README states are asserted.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClipEncoder } from '../../../src/core/model/encoder';
import { probeProbabilities, trainProbe } from '../../../src/core/labels/fewShot';
import { indexFolder } from '../../../src/core/index/indexer';
import { openIndexForWriting } from '../../../src/core/index/indexSession';
import type { IndexStore } from '../../../src/core/index/indexStore';
import { DEFAULT_TEMPLATES, Labeler, type LabelClass } from '../../../src/core/labels/labeler';
import { loadModelSpec, type ModelSpec } from '../../../src/core/model/modelSpec';
import { dot, l2normalize } from '../../../src/core/common/vectors';
import { tempDir, tinyModelDir } from '../../helpers';
import { COLOUR_RGB, SHAPE_NAMES, seeded, shapeImage } from '../../shapes';

const PER_CELL = 3; // images per colour × shape: 90 images
const K = [1, 2, 4, 8];

interface Item {
	rel: string;
	colour: string;
	shape: string;
	vector: Float32Array;
}

describe('classes taught by examples (probe vs prototype, prompts vs examples vs both)', () => {
	let spec: ModelSpec;
	let encoder: ClipEncoder;
	let store: IndexStore;
	const items: Item[] = [];
	before(async () => {
		spec = await loadModelSpec(tinyModelDir);
		encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 2 });
		const root = await tempDir('clip-fewshot-');
		const rand = seeded(7);
		for (let i = 0; i < PER_CELL; i++) {
			for (const colour of Object.keys(COLOUR_RGB)) {
				for (const shape of SHAPE_NAMES) {
					const rel = `${colour}-${shape}-${i}.png`;
					await fs.writeFile(path.join(root, rel), await shapeImage(colour, shape, rand));
					items.push({ rel, colour, shape, vector: new Float32Array() });
				}
			}
		}
		store = await openIndexForWriting(await tempDir('clip-fewshot-index-'), root, spec);
		await indexFolder(store, encoder);
		for (const item of items) {
			item.vector = store.vectorOf(store.files.get(item.rel)!.hash!)!;
		}
	});
	after(() => encoder.dispose());

	/** Examples: the first k items of each class in a fixed shuffled order; the rest are held out. */
	const split = (classOf: (i: Item) => string, names: string[], k: number): { train: Map<string, Item[]>; test: Item[] } => {
		const rand = seeded(11 + k);
		const order = [...items].sort(() => rand() - 0.5);
		const train = new Map(names.map(n => [n, [] as Item[]]));
		const test: Item[] = [];
		for (const item of order) {
			const list = train.get(classOf(item))!;
			if (list.length < k) {
				list.push(item);
			} else {
				test.push(item);
			}
		}
		return { train, test };
	};

	const accuracy = (test: Item[], classOf: (i: Item) => string, predict: (v: Float32Array) => string | null): number =>
		test.filter(i => predict(i.vector) === classOf(i)).length / test.length;

	/** A plain prototype: the class's mean example vector (and the prompts' vector, added). */
	const prototype = (classes: LabelClass[], train: Map<string, Item[]>, text: (Float32Array | undefined)[]): ((v: Float32Array) => string) => {
		const vecs = classes.map((c, i) => {
			const mean = new Float32Array(spec.dim);
			for (const it of train.get(c.name) ?? []) {
				it.vector.forEach((x, d) => (mean[d] += x));
			}
			const proto = l2normalize(mean);
			return text[i] ? l2normalize(text[i]!.map((x, d) => x + proto[d])) : proto;
		});
		return v => classes[vecs.map(w => dot(w, v)).reduce((b, s, i, all) => (s > all[b] ? i : b), 0)].name;
	};

	const run = async (task: string, names: string[], classOf: (i: Item) => string, prompts: LabelClass[] | undefined) => {
		const rows: string[] = [];
		const results: Record<string, number[]> = { prompts: [], probeExamples: [], probeBoth: [], protoExamples: [], protoBoth: [] };
		for (const k of K) {
			const { train, test } = split(classOf, names, k);
			const withExamples = (base: LabelClass[] | undefined): LabelClass[] =>
				names.map((n, i) => ({ ...(base ? base[i] : { name: n, prompts: [] }), name: n, examples: train.get(n)!.map(it => it.rel) }));
			const label = async (classes: LabelClass[]) => {
				const l = await Labeler.create(encoder, classes, { store });
				return (v: Float32Array) => l.classify(v).label;
			};
			const textVectors = prompts ? await Promise.all(prompts.map(async c => l2normalize((await encoder.encodeTexts((c.prompts ?? [`a photo of a ${c.name}.`]).map(p => p.replace(/\{\}/g, c.name)))).reduce((a, v) => a.map((x, d) => x + v[d]), new Float32Array(spec.dim))))) : names.map(() => undefined);
			if (prompts) {
				results.prompts.push(accuracy(test, classOf, await label(prompts)));
			}
			results.probeExamples.push(accuracy(test, classOf, await label(withExamples(undefined))));
			results.protoExamples.push(accuracy(test, classOf, prototype(withExamples(undefined), train, names.map(() => undefined))));
			if (prompts) {
				results.probeBoth.push(accuracy(test, classOf, await label(withExamples(prompts))));
				results.protoBoth.push(accuracy(test, classOf, prototype(withExamples(prompts), train, textVectors)));
			}
		}
		for (const [name, accs] of Object.entries(results)) {
			if (accs.length) {
				rows.push(`  ${task.padEnd(26)} ${name.padEnd(14)} ${accs.map((a, i) => `k=${K[i]} ${(a * 100).toFixed(1)}%`).join('  ')}`);
			}
		}
		console.log(rows.join('\n'));
		return results;
	};

	it('shapes (words work): both ≥ prompts alone for every k; probe both ≥ prototype both', async () => {
		const prompts = SHAPE_NAMES.map(name => ({ name, prompts: DEFAULT_TEMPLATES }));
		const r = await run('shapes', SHAPE_NAMES, i => i.shape, prompts);
		r.probeBoth.forEach((a, i) => assert.ok(a >= r.prompts[i] - 1e-9, `k=${K[i]}: prompts+examples ${a} < prompts ${r.prompts[i]}`));
		assert.ok(r.probeExamples[3] >= 0.8, `8 examples alone reach ${r.probeExamples[3]}`);
	});

	it('warm vs cool colours (words the tiny model does not know): examples alone learn them', async () => {
		const warm = ['red', 'orange', 'yellow'];
		const r = await run('warm vs cool', ['warm', 'cool'], i => (warm.includes(i.colour) ? 'warm' : 'cool'), undefined);
		assert.ok(r.probeExamples[3] >= 0.9, `8 examples: ${r.probeExamples[3]}`);
		assert.ok(r.probeExamples[3] > r.probeExamples[0] - 0.05, 'more examples do not hurt');
	});

	it('an arbitrary group of shapes (circle and star vs the rest): examples alone learn it', async () => {
		const r = await run('circle+star vs others', ['round-ish', 'angular'], i => (['circle', 'star'].includes(i.shape) ? 'round-ish' : 'angular'), undefined);
		assert.ok(r.probeExamples[3] >= 0.75, `8 examples: ${r.probeExamples[3]}`);
	});

	it("keeps a person's word: an example gets its class, a negative never gets that class", async () => {
		const classes: LabelClass[] = [
			{ name: 'circle', prompts: DEFAULT_TEMPLATES, negatives: ['red-circle-0.png'] },
			{ name: 'square', prompts: DEFAULT_TEMPLATES, examples: ['blue-circle-0.png'] },
			{ name: 'star', prompts: DEFAULT_TEMPLATES },
		];
		const l = await Labeler.create(encoder, classes, { store });
		const byPath = Object.fromEntries(l.labelIndex(store, { paths: ['red-circle-0.png', 'blue-circle-0.png', 'green-circle-0.png'] }).map(x => [x.path, x.label]));
		assert.notEqual(byPath['red-circle-0.png'], 'circle');
		assert.equal(byPath['blue-circle-0.png'], 'square');
		assert.equal(byPath['green-circle-0.png'], 'circle', 'other circles are still circles');
	});

	it('with no examples the probe is the zero-shot classifier exactly; negatives push a class down', () => {
		const w = [Float32Array.from([3, 0]), Float32Array.from([0, 3])];
		const x = Float32Array.from([0.8, 0.6]);
		const untouched = trainProbe(w, 10, [], []);
		assert.deepEqual(probeProbabilities(untouched, x), probeProbabilities({ weights: w, bias: new Float64Array(2), link: 'softmax' }, x));
		const before = probeProbabilities(untouched, x)[0];
		const after = probeProbabilities(trainProbe(w, 10, [], [{ vector: x, cls: 0 }]), x)[0];
		assert.ok(after < before - 0.1, `a negative lowers p(class 0) for that image: ${before} → ${after}`);
	});

	it('sigmoid models (SigLIP): zero-shot is sigmoid(scale·cos + bias) per class; examples and negatives move only what they should', () => {
		const w = [Float32Array.from([3, 0]), Float32Array.from([0, 3])];
		const x = Float32Array.from([0.8, 0.6]);
		const model = { link: 'sigmoid' as const, bias: -2 };
		const zero = probeProbabilities(trainProbe(w, 3, [], [], {}, model), x);
		const sig = (z: number): number => 1 / (1 + Math.exp(-z));
		assert.ok(Math.abs(zero[0] - sig(3 * 0.8 - 2)) < 1e-6 && Math.abs(zero[1] - sig(3 * 0.6 - 2)) < 1e-6, `${zero}`);
		assert.ok(zero[0] + zero[1] !== 1, 'independent probabilities, not a softmax');
		const negative = probeProbabilities(trainProbe(w, 3, [], [{ vector: x, cls: 0 }], {}, model), x);
		assert.ok(negative[0] < zero[0] - 0.05, `a negative lowers its class: ${zero[0]} → ${negative[0]}`);
		const example = probeProbabilities(trainProbe(w, 3, [{ vector: x, cls: 1 }], [], {}, model), x);
		assert.ok(example[1] > zero[1] + 0.05 && example[0] < zero[0], `an example raises its class and lowers the others: ${zero} → ${example}`);
	});

	it('keeps probabilities calibrated: expected calibration error with examples is no worse than prompts alone (+0.05)', async () => {
		const { train, test } = split(i => i.shape, SHAPE_NAMES, 4);
		const prompts = SHAPE_NAMES.map(name => ({ name, prompts: DEFAULT_TEMPLATES }));
		const ece = (l: Labeler): number => {
			const bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, right: 0 }));
			for (const item of test) {
				const r = l.classify(item.vector);
				const b = bins[Math.min(9, Math.floor(r.score * 10))];
				b.n++;
				b.conf += r.score;
				b.right += r.label === item.shape ? 1 : 0;
			}
			return bins.reduce((e, b) => e + (b.n ? (b.n / test.length) * Math.abs(b.conf / b.n - b.right / b.n) : 0), 0);
		};
		const zeroShot = ece(await Labeler.create(encoder, prompts, { store }));
		const taught = ece(await Labeler.create(encoder, prompts.map(c => ({ ...c, examples: train.get(c.name)!.map(i => i.rel) })), { store }));
		console.log(`  calibration (ECE, 10 bins, shapes, k=4): prompts ${zeroShot.toFixed(3)}, prompts+examples ${taught.toFixed(3)}`);
		assert.ok(taught <= zeroShot + 0.05, `ECE ${taught} vs ${zeroShot}`);
	});
});
