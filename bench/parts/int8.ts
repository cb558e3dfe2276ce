/** @file Bench part `int8`: the int8 weight conversion (speed and parity) and int8 against fp32. */
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { type ModelSpec } from '../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import type { DecodedImage } from '../../src/core/model/inputs/preprocess';
import { dot } from '../../src/core/common/vectors';
import { median, rows, RUNS, say, timed } from '../common';

/**
 * int8 as downloaded (uint8 weights: MLAS's U8U8 kernels) against the same file converted once to
 * int8 weights (U8S8, VNNI where the CPU has it): inference only, alternating the two, and the
 * worst cosine between their embeddings (the conversion is exact up to float summation order).
 */
export async function figureInt8Conversion(spec: ModelSpec, images: DecodedImage[]): Promise<void> {
	const asDownloaded = new ClipEncoder(spec, { provider: 'cpu', int8Conversion: false });
	const converted = new ClipEncoder(spec, { provider: 'cpu', int8Conversion: true, log: m => /int8 conversion/.test(m) && say(m) });
	const sample = images.slice(0, 32); // four batches of 8 even with --quick: fewer are too noisy
	const a = await asDownloaded.encodeImages(sample.slice(0, 8));
	const b = await converted.encodeImages(sample.slice(0, 8));
	const worst = Math.min(...a.map((v, i) => dot(v, b[i])));
	const rates: { before: number[]; after: number[] } = { before: [], after: [] };
	for (let r = 0; r < Math.max(3, RUNS); r++) {
		for (const [which, enc] of [
			['before', asDownloaded],
			['after', converted],
		] as const) {
			const { ms } = await timed(async () => {
				for (let i = 0; i < sample.length; i += 8) {
					await enc.encodeImages(sample.slice(i, i + 8));
				}
			});
			rates[which].push(sample.length / (ms / 1000));
		}
	}
	// int8 against fp32 (what decides the CLI's default variant): mean cosine of image and text embeddings.
	const fp32 = new ClipEncoder(await loadModelSpec(spec.dir, { variant: 'fp32' }), { provider: 'cpu' });
	const imageCos: number[] = [];
	for (let i = 0; i < sample.length; i += 8) {
		const x = await fp32.encodeImages(sample.slice(i, i + 8));
		const y = await converted.encodeImages(sample.slice(i, i + 8));
		x.forEach((v, j) => imageCos.push(dot(v, y[j])));
	}
	const textCos: number[] = [];
	for (const t of ['a photo of a red circle', 'a blue star', 'a diagram with arrows', 'screenshot of a login form', 'yellow triangle', 'a dog on a beach']) {
		textCos.push(dot(await fp32.encodeText(t), await converted.encodeText(t)));
	}
	await fp32.dispose();
	await asDownloaded.dispose();
	await converted.dispose();
	const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
	rows.push({
		figure: '1c. int8 vs fp32: mean cosine of image / text embeddings',
		value: `${mean(imageCos).toFixed(5)} / ${mean(textCos).toFixed(5)}`,
		target: '≥ 0.999 both (CLI default → int8)',
		pass: mean(imageCos) >= 0.999 && mean(textCos) >= 0.999,
	});
	const before = median(rates.before);
	const after = median(rates.after);
	rows.push({
		figure: '1b. inference only, int8 vision at batch 8: uint8 weights as downloaded → converted to int8 (img/s)',
		value: `${before.toFixed(1)} → ${after.toFixed(1)} = ${(after / before).toFixed(2)}×`,
		target: '≥ 1.7× on x86 with VNNI',
		pass: after / before >= 1.7,
	});
	rows.push({ figure: '1b. parity: worst cosine, converted vs as downloaded', value: worst.toFixed(6), target: '≥ 0.99999', pass: worst >= 0.99999 });
}
