/**
 * Classes taught by example on the harder generated set (test/fewShotTable.ts: eight shapes over
 * varied backgrounds, near-miss colours, distracting shapes; the tiny-clip-varied model): the table
 * is printed, and the targets of issue 16 are asserted on it. `npm run bench -- --only fewshot`
 * prints the same table.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type FewShotReport, fewShotReport, formatReport, K } from '../../fewShotTable';

describe('few-shot labels on the harder set', () => {
	let report: FewShotReport;
	before(async () => {
		report = await fewShotReport();
		console.log(formatReport(report));
	});

	it('prompts + k examples stay within a point of prompts alone, for every k', () => {
		const shapes = report.tables[0];
		assert.equal(shapes.promptsAndExamples?.length, K.length);
		shapes.promptsAndExamples!.forEach((cell, i) =>
			assert.ok(cell.accuracy >= shapes.promptsAlone!.accuracy - 0.01, `k=${K[i]}: ${cell.accuracy} < ${shapes.promptsAlone!.accuracy} − 0.01`),
		);
		assert.ok(shapes.promptsAlone!.accuracy > 0.8, `the model reads the shapes (${shapes.promptsAlone!.accuracy})`);
	});

	it('examples only are never below the nearest-prototype baseline, and beat it on classes no mean describes', () => {
		assert.equal(report.tables.length, 3);
		for (const t of report.tables) {
			assert.equal(t.examplesOnly.length, K.length);
			t.examplesOnly.forEach((cell, i) => assert.ok(cell.accuracy >= t.prototype[i].accuracy - 1e-9, `${t.task} k=${K[i]}: ${cell.accuracy} < ${t.prototype[i].accuracy}`));
		}
		const warm = report.tables[1];
		assert.ok(warm.examplesOnly[3].accuracy > warm.prototype[3].accuracy + 0.05, `warm vs cool, 8 examples: ${warm.examplesOnly[3].accuracy} vs ${warm.prototype[3].accuracy}`);
	});

	it('calibration with examples is no worse than without (expected calibration error)', () => {
		const shapes = report.tables[0];
		shapes.promptsAndExamples!.forEach((cell, i) => assert.ok(cell.ece <= shapes.promptsAlone!.ece + 1e-9, `k=${K[i]}: ECE ${cell.ece} > ${shapes.promptsAlone!.ece}`));
	});

	it('one wrong example among eight does not wreck a class', () => {
		const m = report.mislabelled;
		assert.ok(m.withOneWrong >= m.promptsAlone - 0.01, `${m.withOneWrong} vs prompts alone ${m.promptsAlone}`);
	});
});
