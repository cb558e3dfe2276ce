/**
 * Immich's batch-1 image graphs, batched (issue 38): the twin's batch of images gives each image's
 * vector alone; a rewrite that does not hold is refused and remembered; a changed twin is made again.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { batchedImageGraph, batchedShape } from '../../../../src/core/model/runtime/batchTwin';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { cosine, fixtureImagesDir, fixturesDir, tempDir } from '../../../helpers';

describe('batched twins of batch-1 graphs', () => {
	it('a Reshape carries the batch where MultiheadAttention and the patch flattening put it; other shapes have no safe guess', () => {
		assert.deepEqual(batchedShape([1, 12, 50, 64]), [-1, 12, 50, 64]);
		assert.deepEqual(batchedShape([50, 1, 768]), [50, -1, 768]);
		assert.deepEqual(batchedShape([1, 768, -1]), [0, 768, -1]);
		assert.deepEqual(batchedShape([50, 12, 64]), [50, -1, 64]);
		assert.deepEqual(batchedShape([50, 768]), [-1, 768]);
		assert.equal(batchedShape([2, 3, 4, 5]), undefined);
		assert.equal(batchedShape([3, -1]), undefined);
	});

	for (const model of ['tiny-immich-clip', 'tiny-immich-siglip2']) {
		it(`${model}: a batch of 12 through the twin gives each image's vector alone`, async () => {
			const spec = await loadModelSpec(path.join(fixturesDir, model), { variant: 'fp32' });
			assert.equal(spec.batchOne, true);
			const cacheDir = await tempDir('clip-batch-twin-');
			const logs: string[] = [];
			const twin = await batchedImageGraph(spec.visionModelPath, [1, 3, spec.preprocess.height, spec.preprocess.width], { cacheDir, log: m => logs.push(m) });
			assert.ok(twin && path.dirname(twin) === cacheDir, logs.join('\n'));
			assert.match(logs.join('\n'), /batched \(\d+ reshapes carry the batch; a batch of 3 gave each image's answer alone/);
			const names = (await fs.readdir(fixtureImagesDir)).filter(n => n.endsWith('.png')).sort().slice(0, 12);
			const images = await Promise.all(names.map(async n => decodeImage(n, await fs.readFile(path.join(fixtureImagesDir, n)), spec.preprocess)));
			const batched = new ClipEncoder({ ...spec, visionModelPath: twin, batchOne: false }, { provider: 'cpu', threads: 1 });
			const alone = new ClipEncoder(spec, { provider: 'cpu', threads: 1, batchTwin: false });
			try {
				const a = await batched.encodeImages(images);
				const b: Float32Array[] = [];
				for (const image of images) {
					b.push(...(await alone.encodeImages([image])));
				}
				a.forEach((v, i) => assert.ok(cosine(v, b[i]) > 0.99999, `${names[i]}: cosine ${cosine(v, b[i])}`));
			} finally {
				await batched.dispose();
				await alone.dispose();
			}
			// A changed twin is not loaded: it is made again from the model.
			const good = await fs.readFile(twin);
			const changed = Buffer.from(good);
			changed[changed.length - 100] ^= 0xff;
			await fs.writeFile(twin, changed);
			assert.equal(await batchedImageGraph(spec.visionModelPath, [1, 3, spec.preprocess.height, spec.preprocess.width], { cacheDir }), twin);
			assert.deepEqual(await fs.readFile(twin), good);
		});
	}

	it('a rewrite whose batch does not give each answer alone is refused, said, and not tried again', async () => {
		// image [1, 3, 2, 2] → Reshape [6, 2] → embedding: the guess ([−1, 2]) folds the batch into rows.
		const T = onnx.TensorProto.DataType;
		const shape = Buffer.alloc(16);
		shape.writeBigInt64LE(6n, 0);
		shape.writeBigInt64LE(2n, 8);
		const info = (name: string, dims: number[]): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map(d => ({ dimValue: d })) } } } });
		const model = onnx.ModelProto.create({
			irVersion: 8,
			opsetImport: [{ domain: '', version: 13 }],
			graph: {
				name: 'g',
				node: [{ opType: 'Reshape', input: ['image', 'shape'], output: ['embedding'] }],
				initializer: [{ name: 'shape', dataType: T.INT64, dims: [2], rawData: new Uint8Array(shape) }],
				input: [info('image', [1, 3, 2, 2])],
				output: [info('embedding', [6, 2])],
			},
		});
		const dir = await tempDir('clip-batch-refused-');
		const file = path.join(dir, 'model.onnx');
		await fs.writeFile(file, onnx.ModelProto.encode(model).finish());
		const cacheDir = await tempDir('clip-batch-twin-');
		const logs: string[] = [];
		assert.equal(await batchedImageGraph(file, [1, 3, 2, 2], { cacheDir, log: m => logs.push(m) }), undefined);
		assert.match(logs.join('\n'), /kept one image at a time/);
		const left = await fs.readdir(cacheDir);
		assert.ok(left.some(f => f.endsWith('.batch1')) && !left.some(f => f.endsWith('.onnx')), left.join());
		const again: string[] = [];
		assert.equal(await batchedImageGraph(file, [1, 3, 2, 2], { cacheDir, log: m => again.push(m) }), undefined);
		assert.deepEqual(again, [], 'remembered, not tried again');
	});
});
