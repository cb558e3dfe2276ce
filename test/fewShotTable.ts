/**
 * @file The few-shot tables, on two generated sets and the model test/fixtures/tiny-clip-varied:
 * the harder set (test/hardShapes.ts, the one the method in src/core/labels/fewShot.ts is tuned
 * on) and the held-back set (test/heldBackShapes.ts: another generator, other colours, fills,
 * photo-like backgrounds and every image kind, classes named opaquely; never tuned on). For
 * k = 1 … 8 examples a class: the accuracy of prompts alone, prompts + k examples, examples only
 * (`"prompts": []`) and a plain nearest-prototype baseline on the same vectors, on the images that
 * are not examples, averaged over a few seeded draws of the examples; the expected calibration
 * error of prompts alone and with examples; prompts + k examples picked alike (an image and its
 * nearest neighbours in its class, as a person often picks them); and, on the harder set, one wrong
 * example among eight.
 * The labelling goes through the product's own Labeler, as `clip-search label --classes-file`
 * does. Printed by test/core/labels/fewShotHard.test.ts (which asserts the targets) and by
 * `npm run bench -- --only fewshot`.
 */
import * as path from 'node:path';
import { indexFolder } from '../src/core/index/indexer';
import { openIndexForWriting } from '../src/core/index/indexSession';
import type { IndexStore } from '../src/core/index/indexStore';
import { DEFAULT_TEMPLATES, Labeler, type LabelClass } from '../src/core/labels/labeler';
import { dot, l2normalize } from '../src/core/common/vectors';
import { ClipEncoder } from '../src/core/model/runtime/encoder';
import { loadModelSpec } from '../src/core/model/layouts/loadModelSpec';
import { HARD_SHAPES, type HardItem, isRoundish, isWarm, writeHardShapes } from './hardShapes';
import { HELD_BACK_CLASSES, type HeldBackItem, isWarmish, writeHeldBackShapes } from './heldBackShapes';
import { fixturesDir, tempDir } from './helpers';
import { seeded } from './shapes';

export const K = [1, 2, 3, 4, 5, 6, 7, 8];
/** Draws of the examples averaged per cell: one draw is too noisy to compare methods on. */
export const DRAWS = 4;
export const variedModelDir = path.join(fixturesDir, 'tiny-clip-varied');

interface Item {
	rel: string;
}

interface Task<I extends Item> {
	name: string;
	classes: string[];
	of: (item: I) => string;
	/** The prompts of each class, when words name these classes (the prompts-alone columns are measured only then). */
	prompts?: (cls: string) => string[];
}

interface LabelledSet<I extends Item> {
	/** A short name ('harder', 'held-back'). */
	name: string;
	/** What the set is, for the table's heading. */
	description: string;
	write: (root: string, count: number) => Promise<I[]>;
	tasks: Task<I>[];
	/** Whether to measure one wrong example among eight (the first task). */
	mislabelled: boolean;
}

const HARDER: LabelledSet<HardItem> = {
	name: 'harder',
	description: 'eight shapes in near-miss colours on plain, gradient, noise and striped backgrounds, often with a second shape; PNG; classes named by their shape',
	write: writeHardShapes,
	tasks: [
		{ name: 'shapes (8)', classes: HARD_SHAPES, of: i => i.shape, prompts: () => DEFAULT_TEMPLATES },
		{ name: 'warm vs cool', classes: ['warm', 'cool'], of: i => (isWarm(i) ? 'warm' : 'cool') },
		{ name: 'circle+star vs rest', classes: ['round-ish', 'angular'], of: i => (isRoundish(i) ? 'round-ish' : 'angular') },
	],
	mislabelled: true,
};

const shapeOf = new Map(HELD_BACK_CLASSES.map(c => [c.name, c.shape]));

const HELD_BACK: LabelledSet<HeldBackItem> = {
	name: 'held-back',
	description:
		'another generator, never tuned on: the eight shapes hatched, dotted, graded or outlined, in colours the model never saw, on bokeh, smooth-noise, sky-and-ground and grainy backgrounds; JPEG, EXIF-rotated JPEG, RGBA, grey and palette PNG; classes named class-a … class-h, prompts "a photo of a <shape>"',
	write: writeHeldBackShapes,
	tasks: [
		{ name: 'shapes (8, opaque names)', classes: HELD_BACK_CLASSES.map(c => c.name), of: i => i.cls, prompts: cls => [`a photo of a ${shapeOf.get(cls)}`] },
		{ name: 'pink+brown+maroon vs teal+navy+olive', classes: ['warm-ish', 'cool-ish'], of: i => (isWarmish(i) ? 'warm-ish' : 'cool-ish') },
	],
	mislabelled: false,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SETS: LabelledSet<any>[] = [HARDER, HELD_BACK];

export interface Cell {
	/** Accuracy on the images that are not examples, mean over draws. */
	accuracy: number;
	/** Expected calibration error (10 bins), over every prediction of every draw. */
	ece: number;
}

export interface TaskTable {
	task: string;
	/** Prompts alone on every image of the set. */
	promptsAlone?: Cell;
	/** Per k: prompts alone on the same images as the other cells (those that are not examples), mean over the same draws. */
	promptsAloneOnTest?: Cell[];
	/** Per k. */
	promptsAndExamples?: Cell[];
	examplesOnly: Cell[];
	prototype: Cell[];
	/**
	 * Per k, examples as a person often picks them, alike: an image of the class and its k − 1 nearest
	 * images of the class (by the stored vectors); prompts alone and prompts + those examples on the
	 * other images.
	 */
	alike?: { promptsAlone: Cell[]; promptsAndExamples: Cell[] };
	/** Per k, what the few-shot classifier chose for prompts + k examples (most frequent over the draws, e.g. "prompts alone 3/4"). */
	chosen?: string[];
}

export interface SetReport {
	set: string;
	description: string;
	tables: TaskTable[];
	/** Shapes, k = 8, one example of each class replaced by an image of another class (the harder set only). */
	mislabelled?: { promptsAlone: number; withOneWrong: number; withoutWrong: number };
	images: number;
}

export interface FewShotReport {
	sets: SetReport[];
}

class Calibration {
	private readonly bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, right: 0 }));
	private total = 0;
	add(confidence: number, right: boolean): void {
		const b = this.bins[Math.min(9, Math.floor(confidence * 10))];
		b.n++;
		b.conf += confidence;
		b.right += right ? 1 : 0;
		this.total++;
	}
	get ece(): number {
		return this.bins.reduce((e, b) => e + (b.n ? (b.n / this.total) * Math.abs(b.conf / b.n - b.right / b.n) : 0), 0);
	}
}

/** Generates each set, indexes it with the varied model, and measures every cell. */
export async function fewShotReport(count = 300, sets: string[] = SETS.map(s => s.name)): Promise<FewShotReport> {
	const spec = await loadModelSpec(variedModelDir);
	const encoder = new ClipEncoder(spec, { provider: 'cpu' });
	try {
		const out: SetReport[] = [];
		for (const set of SETS.filter(s => sets.includes(s.name))) {
			out.push(await measureSet(set, count, encoder));
		}
		return { sets: out };
	} finally {
		await encoder.dispose();
	}
}

async function measureSet<I extends Item>(set: LabelledSet<I>, count: number, encoder: ClipEncoder): Promise<SetReport> {
	const root = await tempDir(`clip-fewshot-${set.name}-`);
	const items = await set.write(root, count);
	const store = await openIndexForWriting(await tempDir(`clip-fewshot-${set.name}-index-`), root, encoder.spec);
	await indexFolder(store, encoder);
	const vectors = new Map(items.map(i => [i.rel, store.vectorOf(store.files.get(i.rel)!.hash!)!]));
	const vectorOf = (item: I): Float32Array => vectors.get(item.rel)!;
	const tables: TaskTable[] = [];
	for (const task of set.tasks) {
		tables.push(await measureTask(task, items, store, encoder, vectorOf));
	}
	return {
		set: set.name,
		description: set.description,
		tables,
		...(set.mislabelled ? { mislabelled: await mislabelled(set.tasks[0], items, store, encoder, vectorOf) } : {}),
		images: items.length,
	};
}

/** The examples of one draw: the first k of each class in a seeded shuffle; the rest are scored. */
function draw<I extends Item>(items: I[], task: Task<I>, k: number, seed: number): { examples: Map<string, I[]>; test: I[] } {
	const rand = seeded(seed);
	const order = items.map(item => ({ item, r: rand() })).sort((a, b) => a.r - b.r);
	const examples = new Map(task.classes.map(c => [c, [] as I[]]));
	const test: I[] = [];
	for (const { item } of order) {
		const list = examples.get(task.of(item))!;
		if (list.length < k) {
			list.push(item);
		} else {
			test.push(item);
		}
	}
	return { examples, test };
}

/** Alike examples (see TaskTable.alike): per class a seeded random image and its k − 1 nearest images of the class. */
function drawAlike<I extends Item>(items: I[], task: Task<I>, k: number, seed: number, vectorOf: (i: I) => Float32Array): { examples: Map<string, I[]>; test: I[] } {
	const rand = seeded(seed);
	const examples = new Map<string, I[]>();
	for (const c of task.classes) {
		const mine = items.filter(i => task.of(i) === c);
		const anchor = vectorOf(mine[Math.floor(rand() * mine.length)]);
		examples.set(
			c,
			mine
				.map(i => ({ i, s: dot(anchor, vectorOf(i)) }))
				.sort((a, b) => b.s - a.s)
				.slice(0, k)
				.map(x => x.i),
		);
	}
	const chosen = new Set([...examples.values()].flat());
	return { examples, test: items.filter(i => !chosen.has(i)) };
}

/** "prompts alone 3/4": the most frequent of what the classifier chose over the draws. */
function mostFrequent(choices: string[]): string {
	const counts = new Map<string, number>();
	for (const c of choices) {
		counts.set(c, (counts.get(c) ?? 0) + 1);
	}
	const [what, n] = [...counts].sort((a, b) => b[1] - a[1])[0];
	return `${what} ${n}/${choices.length}`;
}

/** What a Labeler's classifier chose, in a word or two (the first words of its describe()). */
const choiceOf = (labeler: Labeler): string => labeler.describeChoice().split(/[:(]/)[0].trim();

async function measureTask<I extends Item>(task: Task<I>, items: I[], store: IndexStore, encoder: ClipEncoder, vectorOf: (i: I) => Float32Array): Promise<TaskTable> {
	const promptClasses: LabelClass[] | undefined = task.prompts && task.classes.map(name => ({ name, prompts: task.prompts!(name) }));
	const score = async (classes: LabelClass[], test: I[], cal: Calibration, chosen?: string[]): Promise<number> => {
		const labeler = await Labeler.create(encoder, classes, { store });
		chosen?.push(choiceOf(labeler));
		let right = 0;
		for (const item of test) {
			const r = labeler.classify(vectorOf(item));
			const ok = r.label === task.of(item);
			right += ok ? 1 : 0;
			cal.add(r.score, ok);
		}
		return right / test.length;
	};
	const table: TaskTable = {
		task: task.name,
		examplesOnly: [],
		prototype: [],
		...(promptClasses ? { promptsAloneOnTest: [], promptsAndExamples: [], chosen: [], alike: { promptsAlone: [], promptsAndExamples: [] } } : {}),
	};
	if (promptClasses) {
		const cal = new Calibration();
		table.promptsAlone = { accuracy: await score(promptClasses, items, cal), ece: cal.ece };
	}
	for (const k of K) {
		const sums = { alone: 0, both: 0, only: 0, proto: 0 };
		const cal = { alone: new Calibration(), both: new Calibration(), only: new Calibration(), proto: new Calibration() };
		const chosen: string[] = [];
		for (let d = 0; d < DRAWS; d++) {
			const { examples, test } = draw(items, task, k, 1000 * k + d);
			const rels = (c: string): string[] => examples.get(c)!.map(i => i.rel);
			if (promptClasses) {
				sums.alone += await score(promptClasses, test, cal.alone);
				sums.both += await score(
					promptClasses.map(c => ({ ...c, examples: rels(c.name) })),
					test,
					cal.both,
					chosen,
				);
			}
			sums.only += await score(
				task.classes.map(name => ({ name, prompts: [], examples: rels(name) })),
				test,
				cal.only,
			);
			// The baseline: nearest normalised mean of the examples, with softmax confidences for its ECE.
			const protos = task.classes.map(c => l2normalize(examples.get(c)!.reduce((m, i) => m.map((x, j) => x + vectorOf(i)[j]), new Float32Array(encoder.dim))));
			let right = 0;
			for (const item of test) {
				const sims = protos.map(p => dot(p, vectorOf(item)));
				const best = sims.indexOf(Math.max(...sims));
				const exps = sims.map(s => Math.exp(encoder.spec.logitScale * (s - sims[best])));
				const ok = task.classes[best] === task.of(item);
				right += ok ? 1 : 0;
				cal.proto.add(1 / exps.reduce((a, b) => a + b, 0), ok);
			}
			sums.proto += right / test.length;
		}
		if (promptClasses) {
			const alike = { alone: 0, both: 0 };
			const alikeCal = { alone: new Calibration(), both: new Calibration() };
			for (let d = 0; d < DRAWS; d++) {
				const { examples, test } = drawAlike(items, task, k, 5000 + 1000 * k + d, vectorOf);
				alike.alone += await score(promptClasses, test, alikeCal.alone);
				alike.both += await score(
					promptClasses.map(c => ({ ...c, examples: examples.get(c.name)!.map(i => i.rel) })),
					test,
					alikeCal.both,
				);
			}
			table.alike!.promptsAlone.push({ accuracy: alike.alone / DRAWS, ece: alikeCal.alone.ece });
			table.alike!.promptsAndExamples.push({ accuracy: alike.both / DRAWS, ece: alikeCal.both.ece });
		}
		table.promptsAloneOnTest?.push({ accuracy: sums.alone / DRAWS, ece: cal.alone.ece });
		table.promptsAndExamples?.push({ accuracy: sums.both / DRAWS, ece: cal.both.ece });
		table.chosen?.push(mostFrequent(chosen));
		table.examplesOnly.push({ accuracy: sums.only / DRAWS, ece: cal.only.ece });
		table.prototype.push({ accuracy: sums.proto / DRAWS, ece: cal.proto.ece });
	}
	return table;
}

/** The first task with 8 examples a class, where one example of every class is an image of another class. */
async function mislabelled<I extends Item>(task: Task<I>, items: I[], store: IndexStore, encoder: ClipEncoder, vectorOf: (i: I) => Float32Array): Promise<SetReport['mislabelled']> {
	const sums = { promptsAlone: 0, withOneWrong: 0, withoutWrong: 0 };
	const prompts = (name: string): string[] => task.prompts!(name);
	for (let d = 0; d < DRAWS; d++) {
		const { examples, test } = draw(items, task, 8, 77 + d);
		const accuracy = async (classes: LabelClass[]): Promise<number> => {
			const labeler = await Labeler.create(encoder, classes, { store });
			return test.filter(i => labeler.classify(vectorOf(i)).label === task.of(i)).length / test.length;
		};
		const right = (c: string): string[] => examples.get(c)!.map(i => i.rel);
		// Each class's last example is swapped for the next class's first: wrong, and still an image of the set.
		const wrong = (c: string, i: number): string[] => [...right(c).slice(0, 7), examples.get(task.classes[(i + 1) % task.classes.length])![0].rel];
		sums.promptsAlone += await accuracy(task.classes.map(name => ({ name, prompts: prompts(name) })));
		sums.withoutWrong += await accuracy(task.classes.map(name => ({ name, prompts: prompts(name), examples: right(name) })));
		sums.withOneWrong += await accuracy(task.classes.map((name, i) => ({ name, prompts: prompts(name), examples: wrong(name, i) })));
	}
	return { promptsAlone: sums.promptsAlone / DRAWS, withOneWrong: sums.withOneWrong / DRAWS, withoutWrong: sums.withoutWrong / DRAWS };
}

/** The report as the README prints it: one table a set. */
export function formatReport(r: FewShotReport): string {
	const pct = (c: Cell | undefined): string => (c ? `${(c.accuracy * 100).toFixed(1)}%` : '—');
	const lines: string[] = [];
	for (const s of r.sets) {
		lines.push(`Few-shot labels, the ${s.set} set: ${s.images} generated scenes (${s.description}); tiny-clip-varied; accuracy on the images that are not examples (prompts alone too: on the same images), mean of ${DRAWS} draws`, '');
		lines.push(`| task | method | ${K.map(k => `k=${k}`).join(' | ')} |`, `|---|---|${K.map(() => '---|').join('')}`);
		for (const t of s.tables) {
			if (t.promptsAlone) {
				lines.push(`| ${t.task} | prompts alone | ${t.promptsAloneOnTest!.map(pct).join(' | ')} |`);
				lines.push(`| | prompts + k examples | ${t.promptsAndExamples!.map(pct).join(' | ')} |`);
			}
			if (t.alike) {
				lines.push(`| | prompts alone (other images than alike examples) | ${t.alike.promptsAlone.map(pct).join(' | ')} |`);
				lines.push(`| | prompts + k alike examples | ${t.alike.promptsAndExamples.map(pct).join(' | ')} |`);
			}
			lines.push(`| ${t.promptsAlone ? '' : t.task} | examples only | ${t.examplesOnly.map(pct).join(' | ')} |`);
			lines.push(`| | prototype baseline | ${t.prototype.map(pct).join(' | ')} |`);
		}
		for (const t of s.tables.filter(x => x.promptsAlone)) {
			lines.push('', `${t.task}: prompts alone on all ${s.images} images ${pct(t.promptsAlone)}`);
			lines.push(`Calibration (ECE, 10 bins), ${t.task}: prompts alone ${t.promptsAlone!.ece.toFixed(3)}; prompts + k examples ${t.promptsAndExamples!.map((c, i) => `k=${K[i]} ${c.ece.toFixed(3)}`).join(', ')}`);
			lines.push(`Chosen for prompts + k examples, ${t.task}: ${t.chosen!.map((c, i) => `k=${K[i]} ${c}`).join('; ')}`);
		}
		if (s.mislabelled) {
			lines.push(
				`One wrong example among 8 a class (${s.tables[0].task}): ${(s.mislabelled.withOneWrong * 100).toFixed(1)}% (all right: ${(s.mislabelled.withoutWrong * 100).toFixed(1)}%, prompts alone: ${(s.mislabelled.promptsAlone * 100).toFixed(1)}%)`,
			);
		}
		lines.push('');
	}
	return lines.join('\n').trimEnd();
}
