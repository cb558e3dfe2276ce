/**
 * Classes taught by example on two generated sets (test/fewShotTable.ts): the harder set (eight
 * shapes over varied backgrounds, near-miss colours, distracting shapes; the one the method is tuned
 * on) and the held-back set (another generator, never tuned on: other fills, colours, photo-like
 * backgrounds, every image kind, opaque class names), both with the tiny-clip-varied model. The
 * tables are printed, and the targets of issues 16 and 28 are asserted on both, for every k from 1
 * to 8. `npm run bench -- --only fewshot` prints the same tables.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type FewShotReport, fewShotReport, formatReport, K } from '../../fewShotTable';

describe('few-shot labels on the harder and the held-back generated sets', () => {
	let report: FewShotReport;
	before(async () => {
		report = await fewShotReport();
		console.log(formatReport(report));
	});

	it('measures both sets, every k from 1 to 8', () => {
		assert.deepEqual(
			report.sets.map(s => s.set),
			['harder', 'held-back'],
		);
		assert.deepEqual(K, [1, 2, 3, 4, 5, 6, 7, 8]);
	});

	it('prompts + k examples stay within a point of prompts alone on the same images, for every k, on both sets', () => {
		for (const s of report.sets) {
			const shapes = s.tables[0];
			assert.equal(shapes.promptsAndExamples?.length, K.length);
			shapes.promptsAndExamples!.forEach((cell, i) => {
				const alone = shapes.promptsAloneOnTest![i].accuracy;
				assert.ok(cell.accuracy >= alone - 0.01, `${s.set} k=${K[i]}: ${cell.accuracy} < ${alone} − 0.01`);
			});
		}
		const harder = report.sets[0].tables[0];
		assert.ok(harder.promptsAlone!.accuracy > 0.8, `the model reads the harder set's shapes (${harder.promptsAlone!.accuracy})`);
		// The held-back set is harder for the model (colours, fills and grey images it never saw), but its words still mean something.
		const heldBack = report.sets[1].tables[0];
		assert.ok(heldBack.promptsAlone!.accuracy > 0.3, `the model reads some of the held-back set's shapes (${heldBack.promptsAlone!.accuracy}; chance is 0.125)`);
	});

	it('on the harder set, alike examples (an image and its nearest neighbours in its class) do not pull prompts + k examples below prompts alone either', () => {
		// Leave-one-out over such examples predicts the examples, not the folder: judged by
		// log-likelihood alone, the method lost 6 points here. (On the held-back set the table shows
		// alike examples still cost points: see the report of issue 28; not asserted there.)
		const alike = report.sets[0].tables[0].alike!;
		alike.promptsAndExamples.forEach((cell, i) => assert.ok(cell.accuracy >= alike.promptsAlone[i].accuracy - 0.01, `k=${K[i]}: ${cell.accuracy} < ${alike.promptsAlone[i].accuracy} − 0.01`));
	});

	it('examples only are never below the nearest-prototype baseline, on both sets, and beat it on classes no mean describes', () => {
		for (const s of report.sets) {
			for (const t of s.tables) {
				assert.equal(t.examplesOnly.length, K.length);
				t.examplesOnly.forEach((cell, i) => assert.ok(cell.accuracy >= t.prototype[i].accuracy - 1e-9, `${s.set}, ${t.task} k=${K[i]}: ${cell.accuracy} < ${t.prototype[i].accuracy}`));
			}
		}
		const warm = report.sets[0].tables[1];
		const k8 = K.indexOf(8);
		assert.ok(warm.examplesOnly[k8].accuracy > warm.prototype[k8].accuracy + 0.05, `warm vs cool, 8 examples: ${warm.examplesOnly[k8].accuracy} vs ${warm.prototype[k8].accuracy}`);
	});

	it('calibration with examples is no worse than without (expected calibration error), on both sets', () => {
		for (const s of report.sets) {
			const shapes = s.tables[0];
			shapes.promptsAndExamples!.forEach((cell, i) => assert.ok(cell.ece <= shapes.promptsAlone!.ece + 1e-9, `${s.set} k=${K[i]}: ECE ${cell.ece} > ${shapes.promptsAlone!.ece}`));
		}
	});

	it('one wrong example among eight does not wreck a class', () => {
		const m = report.sets[0].mislabelled!;
		assert.ok(m.withOneWrong >= m.promptsAlone - 0.01, `${m.withOneWrong} vs prompts alone ${m.promptsAlone}`);
	});
});
