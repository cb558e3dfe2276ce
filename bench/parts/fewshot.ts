/**
 * @file Bench part `fewshot`: the few-shot tables on the harder and the held-back generated sets
 * (test/fewShotTable.ts, the same measurement test/core/labels/fewShotHard.test.ts asserts), and
 * the time to fit the few-shot classifier for 20 classes × 50 examples of 512-d vectors (auto-tag
 * fits it on every run).
 */
import { FewShotClassifier } from '../../src/core/labels/fewShot';
import { l2normalize } from '../../src/core/common/vectors';
import { seeded } from '../../test/shapes';
import { fewShotReport, formatReport } from '../../test/fewShotTable';
import { median, rows, RUNS, timed } from '../common';

export async function figureFewShot(): Promise<void> {
	const report = await fewShotReport();
	console.log(`\n${formatReport(report)}\n`);
	for (const s of report.sets) {
		const shapes = s.tables[0];
		const worst = Math.min(...shapes.promptsAndExamples!.map((c, i) => c.accuracy - shapes.promptsAloneOnTest![i].accuracy));
		rows.push({
			figure: `11. few-shot, ${s.set} set, shapes: prompts + k examples − prompts alone on the same images, worst k (table above)`,
			value: `${(worst * 100).toFixed(1)} points`,
			target: '≥ −1 point',
			pass: worst >= -0.01,
		});
		const belowPrototype = Math.min(...s.tables.flatMap(t => t.examplesOnly.map((c, i) => c.accuracy - t.prototype[i].accuracy)));
		rows.push({ figure: `11. few-shot, ${s.set} set: examples only − prototype baseline, worst task and k`, value: `${(belowPrototype * 100).toFixed(1)} points`, target: '≥ 0', pass: belowPrototype >= -1e-9 });
	}
	const rand = seeded(5);
	const dim = 512;
	const centres = Array.from({ length: 20 }, () => l2normalize(Float32Array.from({ length: dim }, () => rand() - 0.5)));
	const classes = centres.map(c => ({
		text: l2normalize(c.map(x => x + (rand() - 0.5) * 0.05)),
		examples: Array.from({ length: 50 }, () => l2normalize(c.map(x => x + (rand() - 0.5) * 0.1))),
		negatives: [],
	}));
	const ms: number[] = [];
	for (let r = 0; r < Math.max(3, RUNS); r++) {
		ms.push((await timed(async () => FewShotClassifier.fit(classes, { scale: 100, link: 'softmax', bias: 0 }))).ms);
	}
	rows.push({ figure: '11. few-shot fit, 20 classes × 50 examples, 512-d (leave-one-out over every candidate)', value: `${median(ms).toFixed(0)} ms`, target: '≤ 300 ms', pass: median(ms) <= 300 });
}
