import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { type IdleClock, idleLimits, IdleReleaser, type Releasable } from '../../../../src/core/model/runtime/idleRelease';
import { type ModelSpec } from '../../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { bundledOcrModels, OcrEngine } from '../../../../src/core/ocr/ocrEngine';
import { fixtureImagesDir, tinyModelDir } from '../../../helpers';
import { textImages } from '../../../textImages';

describe('models let go when idle (injected clock)', () => {
	let spec: ModelSpec;
	let now = 1_000_000;
	const clock = (): number => now;
	before(async () => {
		spec = await loadModelSpec(tinyModelDir);
	});

	it('the limits: the image model and text recognition after the setting, the text model after three times as long; 0 is never', () => {
		assert.deepEqual(idleLimits(5), { text: 900_000, vision: 300_000, ocr: 300_000 });
		assert.deepEqual(idleLimits(0), { text: 0, vision: 0, ocr: 0 });
	});

	it('releases a tower only once unused for its limit, loads it again on the next use, with the same vectors', async () => {
		const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1, now: clock });
		try {
			const image = await decodeImage('red-circle.png', await fs.readFile(path.join(fixtureImagesDir, 'red-circle.png')), spec.preprocess);
			const [v1] = await encoder.encodeImages([image]);
			const [t1] = await encoder.encodeTexts(['a red circle']);
			assert.deepEqual(encoder.loaded, { text: true, vision: true });
			const limits = { text: 3000, vision: 1000 };
			now += 999;
			assert.deepEqual(await encoder.releaseIdle(limits), [], 'not idle long enough');
			now += 1;
			assert.deepEqual(await encoder.releaseIdle(limits), ['vision']);
			assert.deepEqual(encoder.loaded, { text: true, vision: false });
			now += 2000;
			assert.deepEqual(await encoder.releaseIdle(limits), ['text']);
			assert.deepEqual(encoder.loaded, { text: false, vision: false });
			assert.deepEqual(await encoder.releaseIdle({ text: 0, vision: 0 }, now + 1e9), [], '0: never');
			const [v2] = await encoder.encodeImages([image]);
			assert.deepEqual(Array.from(v2), Array.from(v1), 'loaded again, the same vector');
			assert.deepEqual(encoder.loaded, { text: false, vision: true }, 'only what was needed came back');
			await encoder.warmText();
			assert.equal(encoder.loaded.text, true, 'a search box warms the text model before the query');
			const [t2] = await encoder.encodeTexts(['a red square']);
			assert.ok(t1 && t2);
		} finally {
			await encoder.dispose();
		}
	});

	it('never releases a tower under an inference in flight', async () => {
		const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1, now: clock });
		try {
			const image = await decodeImage('red-circle.png', await fs.readFile(path.join(fixtureImagesDir, 'red-circle.png')), spec.preprocess);
			await encoder.encodeImages([image]);
			const running = encoder.encodeImages(Array(64).fill(image));
			await new Promise(resolve => setImmediate(resolve));
			assert.deepEqual(await encoder.releaseIdle({ text: 1, vision: 1 }, now + 1e9), [], 'in flight');
			assert.equal((await running).length, 64);
			now += 10;
			assert.deepEqual(await encoder.releaseIdle({ text: 1, vision: 1 }), ['vision']);
		} finally {
			await encoder.dispose();
		}
	});

	it('text recognition lets go too, and reads the same text after', async () => {
		const ocr = new OcrEngine(bundledOcrModels(), { threads: 1, now: clock });
		try {
			const [img] = await textImages(1, 3);
			const first = (await ocr.recognize(img.name, img.bytes)).map(l => l.text);
			assert.deepEqual(await ocr.releaseIdle({ ocr: 5000 }, now + 4999), []);
			assert.deepEqual(await ocr.releaseIdle({ ocr: 5000 }, now + 5000), ['ocr']);
			assert.deepEqual((await ocr.recognize(img.name, img.bytes)).map(l => l.text), first);
		} finally {
			await ocr.dispose();
		}
	});

	it('the releaser checks on its clock, a quarter of the shortest limit apart, and stops when every limit is 0', async () => {
		const scheduled: number[] = [];
		let tick: (() => void) | undefined;
		const fake: IdleClock = { now: () => 42, every: (ms, fn) => (scheduled.push(ms), (tick = fn), () => (tick = undefined)) };
		const calls: { now: number; vision: number }[] = [];
		const target: Releasable = { releaseIdle: async (limits, t) => (calls.push({ now: t, vision: limits.vision }), ['vision']) };
		const heard: string[][] = [];
		const r = new IdleReleaser(() => [target], idleLimits(1), fake, parts => heard.push(parts));
		assert.deepEqual(scheduled, [15_000]);
		tick!();
		await new Promise(resolve => setImmediate(resolve));
		assert.deepEqual(calls, [{ now: 42, vision: 60_000 }]);
		assert.deepEqual(heard, [['vision']]);
		r.setLimits(idleLimits(0));
		assert.equal(tick, undefined, 'nothing scheduled for "never"');
		r.dispose();
	});
});

