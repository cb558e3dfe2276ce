import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { fastInt8Model, shiftMatMulWeightsToInt8 } from '../../../../src/core/model/int8/int8Weights';
import { u8s8IsExact } from '../../../../src/core/model/int8/int8Kernels';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { cosine, fixtureImagesDir, tempDir, tinyModelDir } from '../../../helpers';

const visionQ = path.join(tinyModelDir, 'onnx', 'vision_model_quantized.onnx');
const textQ = path.join(tinyModelDir, 'onnx', 'text_model_quantized.onnx');

describe('int8 weights for MatMulInteger (U8U8 → U8S8)', () => {
	it('rewrites only the weights and zero points of MatMulInteger; every other tensor and node is unchanged', async () => {
		const before = await fs.readFile(visionQ);
		const { bytes, report } = shiftMatMulWeightsToInt8(before);
		assert.equal(report.nodes, 19, 'every MatMulInteger of the tiny vision tower (ConvInteger stays)');
		assert.equal(report.tensors, 38);
		const after = onnx.ModelProto.decode(bytes);
		const original = onnx.ModelProto.decode(Uint8Array.from(before));
		assert.deepEqual(after.graph!.node, original.graph!.node);
		const init = new Map(after.graph!.initializer!.map(t => [t.name!, t]));
		const old = new Map(original.graph!.initializer!.map(t => [t.name!, t]));
		const values = (t: onnx.ITensorProto): number[] => (t.rawData?.length ? Array.from(t.rawData) : (t.int32Data ?? []));
		let converted = 0;
		for (const node of after.graph!.node!) {
			if (node.opType === 'MatMulInteger') {
				for (const slot of [1, 3]) {
					const t = init.get(node.input![slot])!;
					const o = old.get(node.input![slot])!;
					assert.equal(t.dataType, onnx.TensorProto.DataType.INT8);
					// (w − 128) as int8: the raw byte is w XOR 0x80; products with the shifted zero point are unchanged.
					const signed = values(t).map(v => (t.rawData?.length ? (v << 24) >> 24 : v));
					assert.deepEqual(signed, values(o).map(v => v - 128));
					converted++;
				}
			}
			if (node.opType === 'ConvInteger') {
				assert.equal(init.get(node.input![1])!.dataType, onnx.TensorProto.DataType.UINT8, 'ConvInteger is left alone');
			}
		}
		assert.equal(converted, 38);
		for (const [name, t] of init) {
			if (t.dataType === old.get(name)!.dataType) {
				assert.deepEqual(t, old.get(name), `${name} is unchanged`);
			}
		}
		assert.ok(Math.abs(bytes.length - before.length) < 4096, 'the file keeps (about) its size');
	});

	it('leaves a model with int8 weights already (the text tower) as it is', async () => {
		const before = await fs.readFile(textQ);
		const { bytes, report } = shiftMatMulWeightsToInt8(before);
		assert.equal(report.nodes, 0);
		assert.equal(bytes, before);
	});

	it('embeds the fixture images the same with the converted file where U8S8 is exact (cosine ≥ 0.99999); where it saturates, keeps the original', async t => {
		const spec = await loadModelSpec(tinyModelDir, { variant: 'quantized' });
		const logs: string[] = [];
		const cacheDir = await tempDir('clip-int8-');
		const converted = await fastInt8Model(visionQ, { log: m => logs.push(m), arch: 'x64', cacheDir, exact: async () => true });
		assert.equal(path.dirname(converted), cacheDir, 'the twin is made in the cache, not beside the model');
		assert.match(path.basename(converted), /^vision_model_quantized\.u8s8-[0-9a-f]{16}-v1\.onnx$/);
		assert.match(logs.join('\n'), /19 MatMulInteger nodes now take int8 weights/);
		const plain = new ClipEncoder(spec, { provider: 'cpu', threads: 1, int8Conversion: false });
		const fast = new ClipEncoder({ ...spec, visionModelPath: converted }, { provider: 'cpu', threads: 1, int8Conversion: false });
		const names = (await fs.readdir(fixtureImagesDir)).filter(f => f.endsWith('.png'));
		assert.equal(names.length, 30);
		const images = await Promise.all(names.map(async n => decodeImage(n, await fs.readFile(path.join(fixtureImagesDir, n)), spec.preprocess)));
		const a = await plain.encodeImages(images);
		const b = await fast.encodeImages(images);
		const worst = Math.min(...a.map((v, i) => cosine(v, b[i])));
		await plain.dispose();
		await fast.dispose();
		const exact = await u8s8IsExact();
		t.diagnostic(`U8S8 exact on this CPU: ${exact}; worst cosine of the converted tower: ${worst.toFixed(6)}`);
		if (exact) {
			assert.ok(worst >= 0.99999, `worst cosine ${worst}`);
		} else {
			// The probe's reason, shown: the shifted weights saturate here, so the product must not use them.
			assert.ok(worst < 0.999, `worst cosine ${worst}: the probe says U8S8 saturates, yet the twin matched`);
			const why: string[] = [];
			assert.equal(await fastInt8Model(visionQ, { log: m => why.push(m), arch: 'x64', cacheDir: await tempDir('clip-int8-') }), visionQ);
			assert.match(why.join('\n'), /saturate/);
		}
	});

	it('converts once into the cache: later loads reuse the twin; a damaged or planted twin is made again; nothing to convert is remembered; other CPUs and broken files keep the original', async () => {
		const dir = await tempDir('clip-int8-model-');
		const cacheDir = await tempDir('clip-int8-cache-');
		const opts = { arch: 'x64', cacheDir, exact: async () => true };
		const vision = path.join(dir, 'vision_model_quantized.onnx');
		const text = path.join(dir, 'text_model_quantized.onnx');
		await fs.copyFile(visionQ, vision);
		await fs.copyFile(textQ, text);
		const first = await fastInt8Model(vision, opts);
		assert.equal(path.dirname(first), cacheDir);
		const good = await fs.readFile(first);
		const stamp = (await fs.stat(first)).mtimeMs;
		const logs: string[] = [];
		assert.equal(await fastInt8Model(vision, { ...opts, log: m => logs.push(m) }), first);
		assert.equal((await fs.stat(first)).mtimeMs, stamp, 'not written again');
		assert.deepEqual(logs, []);
		// A twin whose bytes changed (damaged, or planted under the expected name) is not loaded.
		await fs.writeFile(first, Buffer.concat([good.subarray(0, 100), Buffer.from('planted'), good.subarray(107)]));
		const again: string[] = [];
		assert.equal(await fastInt8Model(vision, { ...opts, log: m => again.push(m) }), first);
		assert.match(again.join('\n'), /does not match its digest/);
		assert.deepEqual(await fs.readFile(first), good, 'made again');
		assert.equal(await fastInt8Model(text, opts), text);
		assert.ok((await fs.readdir(cacheDir)).some(f => f.endsWith('.none')), 'a marker says there was nothing to convert');
		assert.deepEqual((await fs.readdir(dir)).sort(), ['text_model_quantized.onnx', 'vision_model_quantized.onnx'], 'nothing written beside the model');
		assert.equal(await fastInt8Model(vision, { ...opts, arch: 'arm64' }), vision);
		assert.equal(await fastInt8Model(vision, { ...opts, cacheDir: await tempDir('clip-int8-'), exact: async () => false }), vision, 'a saturating CPU keeps the original');
		const broken = path.join(dir, 'broken_quantized.onnx');
		await fs.writeFile(broken, Buffer.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
		const why: string[] = [];
		assert.equal(await fastInt8Model(broken, { ...opts, log: m => why.push(m) }), broken);
		assert.match(why.join('\n'), /failed, using the original file/);
	});
});
