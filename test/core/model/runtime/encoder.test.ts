import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { ClipError } from '../../../../src/core/common/errors';
import { type ModelSpec } from '../../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { providerCandidates } from '../../../../src/core/model/runtime/providers';
import { cosine, fixtureImagesDir, fixturesDir, tempDir, tinyModelDir } from '../../../helpers';

interface Reference {
	images: Record<string, number[]>;
	texts: Record<string, { ids: number[]; vector: number[] }>;
}

describe('model folder', () => {
	it('reads everything model-specific from the folder', async () => {
		const spec = await loadModelSpec(tinyModelDir);
		assert.equal(spec.preprocess.height, 64);
		assert.equal(spec.preprocess.kernel, 'cubic');
		assert.deepEqual(spec.preprocess.resize, { shortestEdge: 64 });
		assert.equal(spec.contextLength, 32);
		assert.equal(spec.dim, 32);
		assert.ok(spec.logitScale > 10 && spec.logitScale < 100, `trained logit scale ${spec.logitScale}`);
		assert.match(spec.revision, /^local-[0-9a-f]{16}$/);
	});

	it('names the missing or malformed file', async () => {
		const dir = await tempDir();
		await fs.cp(tinyModelDir, dir, { recursive: true });
		await fs.rm(path.join(dir, 'onnx', 'vision_model.onnx'));
		await assert.rejects(loadModelSpec(dir), (e: unknown) => ClipError.is(e, 'ModelNotFound') && /vision_model\.onnx/.test((e as Error).message));
		await fs.cp(tinyModelDir, dir, { recursive: true });
		await fs.writeFile(path.join(dir, 'preprocessor_config.json'), '{ "size": ');
		await assert.rejects(loadModelSpec(dir), (e: unknown) => ClipError.is(e, 'ModelInvalid') && /preprocessor_config\.json/.test((e as Error).message));
		await fs.cp(tinyModelDir, dir, { recursive: true });
		await fs.writeFile(path.join(dir, 'onnx', 'text_model.onnx'), 'this is not a protobuf at all, not even close');
		// Named when the folder is read: its graph is checked against the config ([Note: model folders that lie]).
		await assert.rejects(loadModelSpec(dir), (e: unknown) => ClipError.is(e, 'ModelInvalid') && /text_model\.onnx: not an ONNX model/.test((e as Error).message));
	});

	it('tries the platform GPU providers before the CPU', () => {
		assert.deepEqual(providerCandidates('auto', 'linux'), ['cuda', 'webgpu', 'cpu']);
		assert.deepEqual(providerCandidates('auto', 'win32'), ['cuda', 'dml', 'webgpu', 'cpu']);
		assert.deepEqual(providerCandidates('auto', 'darwin'), ['coreml', 'webgpu', 'cpu']);
		assert.deepEqual(providerCandidates('webgpu'), ['webgpu', 'cpu']);
		assert.deepEqual(providerCandidates('cpu'), ['cpu']);
	});
});

describe('ClipEncoder on the tiny model', () => {
	let spec: ModelSpec;
	let encoder: ClipEncoder;
	let reference: Reference;
	const logs: string[] = [];

	before(async () => {
		spec = await loadModelSpec(tinyModelDir);
		encoder = new ClipEncoder(spec, { provider: 'auto', threads: 2, log: m => logs.push(m) });
		reference = JSON.parse(await fs.readFile(path.join(fixturesDir, 'tiny-clip-reference.json'), 'utf8')) as Reference;
	});
	after(() => encoder.dispose());

	it('feeds the same token ids as the Python reference and matches its text embeddings', async () => {
		const tokenizer = await encoder.tokenizer();
		for (const [text, ref] of Object.entries(reference.texts)) {
			assert.deepEqual(tokenizer.encode(text), ref.ids, text);
			const v = await encoder.encodeText(text);
			assert.ok(cosine(v, ref.vector) > 0.9999, `${text}: cosine ${cosine(v, ref.vector)}`);
		}
	});

	it('matches the image embeddings of the Hugging Face pipeline (CLIPImageProcessor + onnxruntime)', async t => {
		let worst = 1;
		for (const [name, ref] of Object.entries(reference.images)) {
			const bytes = await fs.readFile(path.join(fixtureImagesDir, name));
			const [v] = await encoder.encodeImages([await decodeImage(name, bytes, spec.preprocess)]);
			worst = Math.min(worst, cosine(v, ref));
		}
		t.diagnostic(`worst image cosine to the reference: ${worst.toFixed(5)}`);
		assert.ok(worst > 0.995, `worst cosine ${worst}`);
	});

	it('returns L2-normalised vectors, the same batched or one by one', async () => {
		const names = ['red-circle.png', 'blue-square.png', 'green-star.png'];
		const images = await Promise.all(names.map(async n => decodeImage(n, await fs.readFile(path.join(fixtureImagesDir, n)), spec.preprocess)));
		const batch = await encoder.encodeImages(images);
		for (let i = 0; i < names.length; i++) {
			const [single] = await encoder.encodeImages([images[i]]);
			assert.ok(Math.abs(cosine(batch[i], batch[i]) - 1) < 1e-5);
			assert.ok(Math.abs(Math.hypot(...batch[i]) - 1) < 1e-5);
			assert.ok(cosine(batch[i], single) > 0.99999);
		}
		const texts = await encoder.encodeTexts(['red circle', 'a photo of a large blue square on a white background']);
		const alone = await encoder.encodeText('red circle');
		assert.ok(cosine(texts[0], alone) > 0.99999, 'padding to a longer row does not change the embedding');
	});

	it('remembers text embeddings: a text seen before costs no inference, and callers get their own copy', async () => {
		const fresh = new ClipEncoder(await loadModelSpec(tinyModelDir), { provider: 'cpu', threads: 1 });
		const [a] = await fresh.encodeTexts(['a red circle']);
		const session = await (fresh as unknown as { text: Promise<{ session: { run: (...x: unknown[]) => unknown } }> }).text;
		let runs = 0;
		const run = session.session.run.bind(session.session);
		session.session.run = (...x: unknown[]) => {
			runs++;
			return run(...x);
		};
		a[0] = 42;
		const [b, c] = await fresh.encodeTexts(['a red circle', 'a blue star']);
		assert.equal(runs, 1, 'only the new text ran the model');
		assert.notEqual(b[0], 42, 'the cached vector was not changed through a copy');
		assert.ok(cosine(b, (await fresh.encodeTexts(['a red circle']))[0]) > 0.999999);
		assert.equal(c.length, b.length);
		await fresh.dispose();
	});

	it('reports the provider it actually uses and why the others did not start', async () => {
		await encoder.encodeText('x');
		assert.ok(encoder.providersUsed.text, 'a provider is recorded');
		assert.ok(logs.some(l => l.includes(`${encoder.providersUsed.text} execution provider`)));
		if (encoder.providersUsed.text === 'cpu') {
			// auto says why the GPU providers were not used: skipped, failed to start, or measured slower.
			assert.match(encoder.providerChoice ?? '', /^auto: .*(→ cpu|cpu \()/);
		}
	});

	it('the quantized variant stays close to fp32 (int8 parity)', async t => {
		const q = new ClipEncoder(await loadModelSpec(tinyModelDir, { variant: 'quantized' }), { provider: 'cpu' });
		try {
			let worst = 1;
			for (const name of Object.keys(reference.images)) {
				const img = await decodeImage(name, await fs.readFile(path.join(fixtureImagesDir, name)), spec.preprocess);
				const [a] = await encoder.encodeImages([img]);
				const [b] = await q.encodeImages([img]);
				worst = Math.min(worst, cosine(a, b));
			}
			t.diagnostic(`worst fp32 vs int8 image cosine: ${worst.toFixed(4)}`);
			assert.ok(worst > 0.9, `worst ${worst}`);
		} finally {
			await q.dispose();
		}
	});
});
