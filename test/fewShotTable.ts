/**
 * @file The few-shot table on the harder generated set (test/hardShapes.ts, model
 * test/fixtures/tiny-clip-varied): for k = 1, 2, 4 and 8 examples a class, the accuracy of prompts
 * alone, prompts + k examples, examples only (`"prompts": []`) and a plain nearest-prototype
 * baseline on the same vectors, on the images that are not examples, averaged over a few seeded
 * draws of the examples; the expected calibration error of prompts alone and with examples; and
 * one wrong example among eight. The labelling goes through the product's own Labeler, as
 * `clip-search label --classes-file` does. Printed by test/core/labels/fewShotHard.test.ts (which
 * asserts the targets) and by `npm run bench -- --only fewshot`.
 */
import * as path from 'node:path';
import { indexFolder } from '../src/core/index/indexer';
import { openIndexForWriting } from '../src/core/index/indexSession';
import type { IndexStore } from '../src/core/index/indexStore';
import { DEFAULT_TEMPLATES, Labeler, type LabelClass } from '../src/core/labels/labeler';
import { dot, l2normalize } from '../src/core/common/vectors';
import { ClipEncoder } from '../src/core/model/encoder';
import { loadModelSpec } from '../src/core/model/modelSpec';
import { HARD_SHAPES, type HardItem, isRoundish, isWarm, writeHardShapes } from './hardShapes';
import { fixturesDir, tempDir } from './helpers';
import { seeded } from './shapes';

export const K = [1, 2, 4, 8];
/** Draws of the examples averaged per cell: one draw is too noisy to compare methods on. */
const DRAWS = 5;
export const variedModelDir = path.join(fixturesDir, 'tiny-clip-varied');

interface Task {
	name: string;
	classes: string[];
	of: (item: HardItem) => string;
	/** Whether words name these classes (the prompts-alone columns are measured only then). */
	prompts: boolean;
}

export const TASKS: Task[] = [
	{ name: 'shapes (8)', classes: HARD_SHAPES, of: i => i.shape, prompts: true },
	{ name: 'warm vs cool', classes: ['warm', 'cool'], of: i => (isWarm(i) ? 'warm' : 'cool'), prompts: false },
	{ name: 'circle+star vs rest', classes: ['round-ish', 'angular'], of: i => (isRoundish(i) ? 'round-ish' : 'angular'), prompts: false },
];

export interface Cell {
	/** Accuracy on the images that are not examples, mean over draws. */
	accuracy: number;
	/** Expected calibration error (10 bins), over every prediction of every draw. */
	ece: number;
}

export interface TaskTable {
	task: string;
	promptsAlone?: Cell;
	/** Per k. */
	promptsAndExamples?: Cell[];
	examplesOnly: Cell[];
	prototype: Cell[];
}

export interface FewShotReport {
	tables: TaskTable[];
	/** Shapes, k = 8, one example of each class replaced by an image of another class. */
	mislabelled: { promptsAlone: number; withOneWrong: number; withoutWrong: number };
	images: number;
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

/** Generates the set, indexes it with the varied model, and measures every cell. */
export async function fewShotReport(count = 300): Promise<FewShotReport> {
	const root = await tempDir('clip-fewshot-hard-');
	const items = await writeHardShapes(root, count);
	const spec = await loadModelSpec(variedModelDir);
	const encoder = new ClipEncoder(spec, { provider: 'cpu' });
	try {
		const store = await openIndexForWriting(await tempDir('clip-fewshot-hard-index-'), root, spec);
		await indexFolder(store, encoder);
		const vectorOf = (item: HardItem): Float32Array => store.vectorOf(store.files.get(item.rel)!.hash!)!;
		const tables: TaskTable[] = [];
		for (const task of TASKS) {
			tables.push(await measureTask(task, items, store, encoder, vectorOf));
		}
		return { tables, mislabelled: await mislabelled(items, store, encoder), images: items.length };
	} finally {
		await encoder.dispose();
	}
}

/** The examples of one draw: the first k of each class in a seeded shuffle; the rest are scored. */
function draw(items: HardItem[], task: Task, k: number, seed: number): { examples: Map<string, HardItem[]>; test: HardItem[] } {
	const rand = seeded(seed);
	const order = items.map(item => ({ item, r: rand() })).sort((a, b) => a.r - b.r);
	const examples = new Map(task.classes.map(c => [c, [] as HardItem[]]));
	const test: HardItem[] = [];
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

async function measureTask(task: Task, items: HardItem[], store: IndexStore, encoder: ClipEncoder, vectorOf: (i: HardItem) => Float32Array): Promise<TaskTable> {
	const promptClasses: LabelClass[] = task.classes.map(name => ({ name, prompts: DEFAULT_TEMPLATES }));
	const score = async (classes: LabelClass[], test: HardItem[], cal: Calibration): Promise<number> => {
		const labeler = await Labeler.create(encoder, classes, { store });
		let right = 0;
		for (const item of test) {
			const r = labeler.classify(vectorOf(item));
			const ok = r.label === task.of(item);
			right += ok ? 1 : 0;
			cal.add(r.score, ok);
		}
		return right / test.length;
	};
	const table: TaskTable = { task: task.name, examplesOnly: [], prototype: [], ...(task.prompts ? { promptsAndExamples: [] } : {}) };
	if (task.prompts) {
		const cal = new Calibration();
		table.promptsAlone = { accuracy: await score(promptClasses, items, cal), ece: cal.ece };
	}
	for (const k of K) {
		const sums = { both: 0, only: 0, proto: 0 };
		const cal = { both: new Calibration(), only: new Calibration(), proto: new Calibration() };
		for (let d = 0; d < DRAWS; d++) {
			const { examples, test } = draw(items, task, k, 1000 * k + d);
			const rels = (c: string): string[] => examples.get(c)!.map(i => i.rel);
			if (task.prompts) {
				sums.both += await score(promptClasses.map(c => ({ ...c, examples: rels(c.name) })), test, cal.both);
			}
			sums.only += await score(task.classes.map(name => ({ name, prompts: [], examples: rels(name) })), test, cal.only);
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
		table.promptsAndExamples?.push({ accuracy: sums.both / DRAWS, ece: cal.both.ece });
		table.examplesOnly.push({ accuracy: sums.only / DRAWS, ece: cal.only.ece });
		table.prototype.push({ accuracy: sums.proto / DRAWS, ece: cal.proto.ece });
	}
	return table;
}

/** Shapes with 8 examples a class, where one example of every class is an image of another class. */
async function mislabelled(items: HardItem[], store: IndexStore, encoder: ClipEncoder): Promise<FewShotReport['mislabelled']> {
	const task = TASKS[0];
	const sums = { promptsAlone: 0, withOneWrong: 0, withoutWrong: 0 };
	for (let d = 0; d < DRAWS; d++) {
		const { examples, test } = draw(items, task, 8, 77 + d);
		const accuracy = async (classes: LabelClass[]): Promise<number> => {
			const labeler = await Labeler.create(encoder, classes, { store });
			return test.filter(i => labeler.classify(store.vectorOf(store.files.get(i.rel)!.hash!)!).label === i.shape).length / test.length;
		};
		const right = (c: string): string[] => examples.get(c)!.map(i => i.rel);
		// Each class's last example is swapped for the next class's first: wrong, and still an image of the set.
		const wrong = (c: string, i: number): string[] => [...right(c).slice(0, 7), examples.get(task.classes[(i + 1) % task.classes.length])![0].rel];
		sums.promptsAlone += await accuracy(task.classes.map(name => ({ name, prompts: DEFAULT_TEMPLATES })));
		sums.withoutWrong += await accuracy(task.classes.map(name => ({ name, prompts: DEFAULT_TEMPLATES, examples: right(name) })));
		sums.withOneWrong += await accuracy(task.classes.map((name, i) => ({ name, prompts: DEFAULT_TEMPLATES, examples: wrong(name, i) })));
	}
	return { promptsAlone: sums.promptsAlone / DRAWS, withOneWrong: sums.withOneWrong / DRAWS, withoutWrong: sums.withoutWrong / DRAWS };
}

/** The report as the README prints it. */
export function formatReport(r: FewShotReport): string {
	const pct = (c: Cell | undefined): string => (c ? `${(c.accuracy * 100).toFixed(1)}%` : '—');
	const lines = [`Few-shot labels on ${r.images} generated scenes (tiny-clip-varied; accuracy on the images that are not examples, mean of ${DRAWS} draws)`, ''];
	lines.push(`| task | method | ${K.map(k => `k=${k}`).join(' | ')} |`, `|---|---|${K.map(() => '---|').join('')}`);
	for (const t of r.tables) {
		if (t.promptsAlone) {
			lines.push(`| ${t.task} | prompts alone | ${K.map(() => pct(t.promptsAlone)).join(' | ')} |`);
			lines.push(`| | prompts + k examples | ${t.promptsAndExamples!.map(pct).join(' | ')} |`);
		}
		lines.push(`| ${t.promptsAlone ? '' : t.task} | examples only | ${t.examplesOnly.map(pct).join(' | ')} |`);
		lines.push(`| | prototype baseline | ${t.prototype.map(pct).join(' | ')} |`);
	}
	const shapes = r.tables[0];
	lines.push('', `Calibration (ECE, 10 bins), shapes: prompts alone ${shapes.promptsAlone!.ece.toFixed(3)}; prompts + k examples ${shapes.promptsAndExamples!.map((c, i) => `k=${K[i]} ${c.ece.toFixed(3)}`).join(', ')}`);
	lines.push(
		`One wrong example among 8 a class (shapes): ${(r.mislabelled.withOneWrong * 100).toFixed(1)}% (all right: ${(r.mislabelled.withoutWrong * 100).toFixed(1)}%, prompts alone: ${(r.mislabelled.promptsAlone * 100).toFixed(1)}%)`,
	);
	return lines.join('\n');
}
