/**
 * One request, one answer (issue 34, item 1): encodes fired at one encoder at the same time, of
 * different images, each get the vectors they get alone, for every layout and batch size. The pixel
 * block was shared by the calls of one batch size, so a second call refilled it before the first
 * run read it (a's answer was b's vector, cosine 1.0000).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { type ModelVariant } from '../../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage, type DecodedImage } from '../../../../src/core/model/inputs/preprocess';
import { cosine, ensureRclipMerges, fixtureImagesDir, fixturesDir } from '../../../helpers';

const MODELS: [string, ModelVariant][] = [
	['tiny-clip', 'fp32'],
	['tiny-clip', 'quantized'],
	['tiny-siglip2', 'fp32'],
	['tiny-mobileclip', 'fp32'],
	['tiny-immich-clip', 'fp32'],
	['tiny-immich-siglip2', 'fp32'],
	['tiny-rclip', 'fp32'],
];

/** Twelve different images, in a fixed order. */
async function imageFiles(): Promise<string[]> {
	const names = (await fs.readdir(fixtureImagesDir)).filter(n => n.endsWith('.png')).sort();
	assert.ok(names.length >= 12, `fixture images: ${names.length}`);
	return names.slice(0, 12).map(n => path.join(fixtureImagesDir, n));
}

function assertSame(got: Float32Array[], alone: Float32Array[], what: string): void {
	assert.equal(got.length, alone.length, what);
	got.forEach((v, i) => assert.ok(cosine(v, alone[i]) > 0.99999, `${what}: vector ${i} is not its own (cosine ${cosine(v, alone[i]).toFixed(5)})`));
}

for (const [name, variant] of MODELS) {
	describe(`concurrent encodes on ${name} (${variant})`, { skip: name === 'tiny-rclip' ? ensureRclipMerges() : false }, () => {
		it('each batch of images gets its own vectors, at batch sizes 1, 2 and 3', async () => {
			const spec = await loadModelSpec(path.join(fixturesDir, name), { variant });
			const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
			try {
				const files = await imageFiles();
				const images: DecodedImage[] = [];
				for (const f of files) {
					images.push(await decodeImage(f, { path: f }, spec.preprocess));
				}
				const alone: Float32Array[] = [];
				for (const image of images) {
					alone.push(...(await encoder.encodeImages([image])));
				}
				// The images differ: a swapped answer would be seen.
				for (let i = 1; i < alone.length; i++) {
					assert.ok(cosine(alone[i - 1], alone[i]) < 0.999, `fixture images ${i - 1} and ${i} embed apart`);
				}
				for (const size of [1, 2, 3]) {
					const batches: DecodedImage[][] = [];
					for (let i = 0; i + size <= images.length; i += size) {
						batches.push(images.slice(i, i + size));
					}
					// The same batches one after another: int8 graphs quantize a batch as a whole, so a batch's
					// answer is compared with that batch's answer alone.
					const sequential: Float32Array[][] = [];
					for (const b of batches) {
						sequential.push(await encoder.encodeImages(b));
					}
					// Twice round, so that a block kept for reuse is also in play.
					for (let round = 0; round < 2; round++) {
						const answers = await Promise.all(batches.map(b => encoder.encodeImages(b)));
						answers.forEach((got, b) => assertSame(got, sequential[b], `batch size ${size}, batch ${b}, round ${round}`));
					}
				}
			} finally {
				await encoder.dispose();
			}
		});

		it('texts encoded at the same time each get their own vector', async () => {
			const spec = await loadModelSpec(path.join(fixturesDir, name), { variant });
			const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
			try {
				const texts = ['a red circle', 'a blue star', 'a photo of a yellow triangle', 'green square', 'purple cross', 'orange'];
				// Alone: one at a time, on an encoder of their own (the other's text cache stays empty).
				const single = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
				const alone: Float32Array[] = [];
				for (const t of texts) {
					alone.push(...(await single.encodeTexts([t])));
				}
				await single.dispose();
				const answers = await Promise.all(texts.map(t => encoder.encodeTexts([t])));
				answers.forEach((got, i) => assertSame(got, [alone[i]], `text ${texts[i]}`));
			} finally {
				await encoder.dispose();
			}
		});
	});
}
