import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { convertMatMulWeights } from '../../../../src/core/model/int8/int8Weights';
import { fastInt8Model, twinKindFor } from '../../../../src/core/model/int8/int8Twin';
import { hasUint8MatMulWeights } from '../../../../src/core/model/int8/onnxBytes';
import { forgetVerified } from '../../../../src/core/model/files/verifiedFiles';
import { u8s8IsExact } from '../../../../src/core/model/int8/int8Kernels';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { cosine, fixtureImagesDir, tempDir, tinyModelDir } from '../../../helpers';

const visionQ = path.join(tinyModelDir, 'onnx', 'vision_model_quantized.onnx');
const textQ = path.join(tinyModelDir, 'onnx', 'text_model_quantized.onnx');
/** Every test here forces its choice: CLIP_SEARCH_INT8_KERNELS from the shell must not steer them. */
const env = {};

/**
 * The tiny vision tower with full-range uint8 weights (as a quantizer without reduce_range writes
 * them): B·2 plus a low bit that varies, zero point·2, scale/2 — 8 bits of information, so the
 * reduced twin must round.
 */
async function fullRangeModel(dir: string): Promise<string> {
	const model = onnx.ModelProto.decode(await fs.readFile(visionQ));
	const init = new Map(model.graph!.initializer!.map(t => [t.name!, t]));
	for (const node of model.graph!.node!) {
		if (node.opType !== 'MatMulInteger') {
			continue;
		}
		const w = init.get(node.input![1])!;
		const zp = init.get(node.input![3])!;
		w.rawData = Uint8Array.from(w.rawData!, (v, j) => v * 2 + ((j * 7919) % 3 === 0 ? 1 : 0));
		zp.int32Data = zp.int32Data!.map(v => v * 2);
		const scaleName = node.input![1].replace(/_quantized$/, '_scale');
		const scale = init.get(scaleName)!;
		scale.floatData = scale.floatData!.map(v => v / 2);
	}
	const file = path.join(dir, 'vision_model_quantized.onnx');
	await fs.writeFile(file, onnx.ModelProto.encode(model).finish());
	return file;
}

async function embedFixtures(file: string, threads = 1): Promise<{ images: Float32Array[]; names: string[] }> {
	const spec = await loadModelSpec(tinyModelDir, { variant: 'quantized' });
	const encoder = new ClipEncoder({ ...spec, visionModelPath: file }, { provider: 'cpu', threads, int8Kernels: 'off', env });
	const names = (await fs.readdir(fixtureImagesDir)).filter(f => f.endsWith('.png')).sort();
	const decoded = await Promise.all(names.map(async n => decodeImage(n, await fs.readFile(path.join(fixtureImagesDir, n)), spec.preprocess)));
	try {
		return { images: await encoder.encodeImages(decoded), names };
	} finally {
		await encoder.dispose();
	}
}

const agreement = (a: Float32Array[], b: Float32Array[]): { mean: number; min: number } => {
	const c = a.map((v, i) => cosine(v, b[i]));
	return { mean: c.reduce((s, x) => s + x, 0) / c.length, min: Math.min(...c) };
};

describe('int8 weights for MatMulInteger (U8U8 → U8S8)', () => {
	it('rewrites only the weights and zero points of MatMulInteger; every other tensor and node is unchanged', async () => {
		const before = await fs.readFile(visionQ);
		const { bytes, report } = convertMatMulWeights(before, 'full');
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
		const { bytes, report } = convertMatMulWeights(before, 'full');
		assert.equal(report.nodes, 0);
		assert.equal(bytes, before);
	});

	it('embeds the fixture images the same with the converted file where U8S8 is exact (cosine ≥ 0.99999); where it saturates, keeps the original', async t => {
		const spec = await loadModelSpec(tinyModelDir, { variant: 'quantized' });
		const logs: string[] = [];
		const cacheDir = await tempDir('clip-int8-');
		const converted = await fastInt8Model(visionQ, { log: m => logs.push(m), arch: 'x64', cacheDir, exact: async () => true, env });
		assert.equal(path.dirname(converted), cacheDir, 'the twin is made in the cache, not beside the model');
		assert.match(path.basename(converted), /^vision_model_quantized\.u8s8-[0-9a-f]{16}-v2\.onnx$/);
		assert.match(logs.join('\n'), /19 MatMulInteger nodes take int8 weights/);
		const plain = new ClipEncoder(spec, { provider: 'cpu', threads: 1, int8Kernels: 'off', env });
		const fast = new ClipEncoder({ ...spec, visionModelPath: converted }, { provider: 'cpu', threads: 1, int8Kernels: 'off', env });
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
			const chosen = await fastInt8Model(visionQ, { log: m => why.push(m), arch: 'x64', cacheDir: await tempDir('clip-int8-'), env });
			assert.match(path.basename(chosen), /\.r7-/, 'where U8S8 saturates, auto makes the reduced twin');
		}
	});

	it('converts once into the cache: later loads reuse the twin; a damaged or planted twin is made again; nothing to convert is remembered; other CPUs and broken files keep the original', async () => {
		const dir = await tempDir('clip-int8-model-');
		const cacheDir = await tempDir('clip-int8-cache-');
		const opts = { arch: 'x64', cacheDir, exact: async () => true, env };
		const vision = path.join(dir, 'vision_model_quantized.onnx');
		const text = path.join(dir, 'text_model_quantized.onnx');
		await fs.copyFile(visionQ, vision);
		await fs.copyFile(textQ, text);
		const stages: (string | undefined)[] = [];
		const first = await fastInt8Model(vision, { ...opts, onStage: m => stages.push(m) });
		assert.equal(path.dirname(first), cacheDir);
		assert.deepEqual(stages, ['preparing the int8 image model for this CPU (once)…', undefined], 'said while it is made, cleared after');
		const good = await fs.readFile(first);
		const stamp = (await fs.stat(first)).mtimeMs;
		const logs: string[] = [];
		assert.equal(await fastInt8Model(vision, { ...opts, log: m => logs.push(m), onStage: m => stages.push(m) }), first);
		assert.equal(stages.length, 2, 'nothing said when the twin is there');
		assert.equal((await fs.stat(first)).mtimeMs, stamp, 'not written again');
		assert.deepEqual(logs, []);
		// A twin whose bytes changed (damaged, or planted under the expected name) is not loaded.
		await fs.writeFile(first, Buffer.concat([good.subarray(0, 100), Buffer.from('planted'), good.subarray(107)]));
		const again: string[] = [];
		assert.equal(await fastInt8Model(vision, { ...opts, log: m => again.push(m) }), first);
		assert.match(again.join('\n'), /not what the conversion makes/);
		assert.deepEqual(await fs.readFile(first), good, 'made again');
		// A later process (nothing checked yet in it) finds a twin planted under the expected name, with
		// its own size and times: it is checked against the model, not trusted for its name.
		const planted = Buffer.from(good);
		planted[planted.length >> 1] ^= 0x55;
		await fs.writeFile(first, planted);
		forgetVerified();
		const later: string[] = [];
		assert.equal(await fastInt8Model(vision, { ...opts, log: m => later.push(m) }), first);
		assert.match(later.join('\n'), /not what the conversion makes/);
		assert.deepEqual(await fs.readFile(first), good, 'made again from the model');
		assert.equal(await fastInt8Model(text, opts), text);
		assert.ok((await fs.readdir(cacheDir)).some(f => f.endsWith('.none')), 'a marker says there was nothing to convert');
		assert.deepEqual((await fs.readdir(dir)).sort(), ['text_model_quantized.onnx', 'vision_model_quantized.onnx'], 'nothing written beside the model');
		assert.equal(await fastInt8Model(vision, { ...opts, arch: 'arm64' }), vision);
		assert.match(await fastInt8Model(vision, { ...opts, cacheDir: await tempDir('clip-int8-'), exact: async () => false }), /\.r7-/, 'a saturating CPU gets the reduced twin');
		assert.equal(await fastInt8Model(vision, { ...opts, kernels: 'off' }), vision, 'off: the uint8 file as it is');
		const broken = path.join(dir, 'broken_quantized.onnx');
		await fs.writeFile(broken, Buffer.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
		const why: string[] = [];
		assert.equal(await fastInt8Model(broken, { ...opts, log: m => why.push(m) }), broken);
		assert.match(why.join('\n'), /failed, using the original file/);
	});

	it('whether there is anything to convert is read from the nodes and the tensors\' first bytes, not the weights', async () => {
		assert.equal(await hasUint8MatMulWeights(visionQ), true);
		assert.equal(await hasUint8MatMulWeights(textQ), false, 'int8 weights already');
		assert.equal(await hasUint8MatMulWeights(path.join(tinyModelDir, 'onnx', 'vision_model.onnx')), false, 'fp32');
	});

	it('the choice: auto follows the probe, the setting forces one, CLIP_SEARCH_INT8_KERNELS wins over the setting; other CPUs get none', async () => {
		const exact = async () => true;
		const saturating = async () => false;
		assert.equal(await twinKindFor({ arch: 'x64', exact, env }), 'full');
		assert.equal(await twinKindFor({ arch: 'x64', exact: saturating, env }), 'reduced');
		assert.equal(await twinKindFor({ arch: 'x64', exact, kernels: 'reduced', env }), 'reduced');
		assert.equal(await twinKindFor({ arch: 'x64', exact: saturating, kernels: 'full', env }), 'full');
		assert.equal(await twinKindFor({ arch: 'x64', exact, kernels: 'off', env }), undefined);
		assert.equal(await twinKindFor({ arch: 'x64', exact, kernels: 'full', env: { CLIP_SEARCH_INT8_KERNELS: 'reduced' } }), 'reduced');
		assert.equal(await twinKindFor({ arch: 'x64', exact, kernels: 'full', env: { CLIP_SEARCH_INT8_KERNELS: 'OFF' } }), undefined);
		assert.equal(await twinKindFor({ arch: 'x64', exact, env: { CLIP_SEARCH_INT8_KERNELS: 'fast' } }), 'full', 'an unknown value is ignored');
		assert.equal(await twinKindFor({ arch: 'arm64', exact, kernels: 'full', env }), undefined);
	});
});

describe('the reduced-range twin (int8 without VNNI)', () => {
	it('transformers.js\' 7-bit uint8 weights fit [−64, 63] as they are: the twin is lossless, on every CPU', async () => {
		const before = await fs.readFile(visionQ);
		const { bytes, report } = convertMatMulWeights(before, 'reduced');
		assert.equal(report.nodes, 19);
		assert.equal(report.tensors, 57, 'weights, zero points and scales');
		const model = onnx.ModelProto.decode(bytes);
		const init = new Map(model.graph!.initializer!.map(t => [t.name!, t]));
		const old = new Map(onnx.ModelProto.decode(Uint8Array.from(before)).graph!.initializer!.map(t => [t.name!, t]));
		for (const node of model.graph!.node!.filter(n => n.opType === 'MatMulInteger')) {
			const w = init.get(node.input![1])!;
			assert.equal(w.dataType, onnx.TensorProto.DataType.INT8);
			const signed = new Int8Array(w.rawData!.buffer, w.rawData!.byteOffset, w.rawData!.length);
			assert.ok(signed.every(v => v >= -64 && v <= 63), 'no pair of products can saturate: 2·255·64 < 32,768');
			// Every product (B − zp) is the original's: the weights moved, the scale did not.
			const zp = new Int8Array(init.get(node.input![3])!.rawData!.buffer, init.get(node.input![3])!.rawData!.byteOffset, init.get(node.input![3])!.rawData!.length);
			const ow = old.get(node.input![1])!.rawData!;
			const ozp = old.get(node.input![3])!.int32Data!;
			const n = Number(w.dims![1]);
			for (let j = 0; j < signed.length; j += 97) {
				assert.equal(signed[j] - zp[zp.length === 1 ? 0 : j % n], ow[j] - ozp[ozp.length === 1 ? 0 : j % n]);
			}
		}
		const plain = await embedFixtures(visionQ);
		const dir = await tempDir('clip-int8-r7-');
		const twin = path.join(dir, 'twin.onnx');
		await fs.writeFile(twin, bytes);
		const a = agreement(plain.images, (await embedFixtures(twin)).images);
		assert.ok(a.min >= 0.99999, `worst cosine ${a.min}`);
	});

	it('full-range uint8 weights are requantised to 7 bits: cosine to the uint8 model mean ≥ 0.995, worst ≥ 0.98 on the fixture images, and the same image found first for each query', async t => {
		const dir = await tempDir('clip-int8-wide-');
		const wide = await fullRangeModel(dir);
		const cacheDir = await tempDir('clip-int8-cache-');
		const logs: string[] = [];
		const twin = await fastInt8Model(wide, { arch: 'x64', cacheDir, kernels: 'reduced', log: m => logs.push(m), env });
		assert.match(path.basename(twin), /\.r7-[0-9a-f]{16}-v2\.onnx$/, logs.join('\n'));
		assert.match(logs.join('\n'), /7-bit/);
		assert.match(logs.join('\n'), /cosine to the uint8 model on 8 images mean/);
		const verdict = JSON.parse(await fs.readFile(`${twin}.parity.json`, 'utf8'));
		assert.equal(verdict.pass, true);
		const original = await embedFixtures(wide);
		const reduced = await embedFixtures(twin);
		const a = agreement(original.images, reduced.images);
		t.diagnostic(`reduced twin of full-range weights: cosine mean ${a.mean.toFixed(5)}, worst ${a.min.toFixed(5)}`);
		assert.ok(a.mean >= 0.995 && a.min >= 0.98, JSON.stringify(a));
		assert.ok(a.min < 0.99999, 'requantised: not bit-exact (else this test proves nothing)');
		// Retrieval: each image's nearest neighbour among the others is the same with both.
		const nearest = (vs: Float32Array[]) => vs.map((v, i) => vs.map((w, j) => (i === j ? -2 : cosine(v, w))).reduce((best, c, j, all) => (c > all[best] ? j : best), 0));
		const same = nearest(original.images).filter((n, i) => n === nearest(reduced.images)[i]).length;
		assert.ok(same >= original.images.length - 1, `${same} of ${original.images.length} nearest neighbours kept`);
	});

	it('a twin whose check fails is not used, and the verdict is kept (not checked again)', async () => {
		const dir = await tempDir('clip-int8-wide-');
		const wide = await fullRangeModel(dir);
		const cacheDir = await tempDir('clip-int8-cache-');
		let checks = 0;
		const parity = async () => (checks++, { images: 8, mean: 0.97, min: 0.9, pass: false });
		const logs: string[] = [];
		assert.equal(await fastInt8Model(wide, { arch: 'x64', cacheDir, kernels: 'reduced', parity, log: m => logs.push(m), env }), wide);
		assert.match(logs.join('\n'), /not used, its vectors drift/);
		assert.equal(await fastInt8Model(wide, { arch: 'x64', cacheDir, kernels: 'reduced', parity, env }), wide);
		assert.equal(checks, 1);
	});

	it('the conversion reads the file field by field: the model is never decoded whole, and in place it is not copied', async () => {
		const before = await fs.readFile(visionQ);
		const decode = onnx.ModelProto.decode;
		let decodes = 0;
		onnx.ModelProto.decode = ((...args: Parameters<typeof decode>) => (decodes++, decode.apply(onnx.ModelProto, args))) as typeof decode;
		try {
			const bytes = Buffer.from(before);
			const { bytes: out } = convertMatMulWeights(bytes, 'reduced', { inPlace: true });
			assert.equal(decodes, 0);
			assert.notDeepEqual(bytes, before, 'changed in place');
			assert.ok(out.length - before.length < 4096);
		} finally {
			onnx.ModelProto.decode = decode;
		}
	});

	it('where the scale is not where quantize_dynamic puts it, the node keeps its uint8 weights and says why', async () => {
		const model = onnx.ModelProto.decode(await fs.readFile(visionQ));
		const first = model.graph!.node!.find(n => n.opType === 'MatMulInteger')!;
		// Its output read by a second node too: the scale can no longer be changed for this product alone.
		model.graph!.node!.push(onnx.NodeProto.create({ opType: 'Identity', input: [first.output![0]], output: ['extra_reader'] }));
		const { report } = convertMatMulWeights(onnx.ModelProto.encode(model).finish(), 'reduced');
		assert.equal(report.nodes, 18);
		assert.match(report.skipped.join('\n'), /scale is not where quantize_dynamic puts it/);
	});
});
