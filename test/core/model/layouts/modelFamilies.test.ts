/**
 * Model families (layouts/transformersLayout.ts [Note: model families]) against transformers.js on the same folders:
 * random-weight SigLIP 2, multilingual SigLIP and MobileCLIP models in the published layouts
 * (tools/make_family_models.py) and what transformers.js 4.x makes of them
 * (tools/make_family_reference.mjs → test/fixtures/<name>-reference.json).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { ClipError } from '../../../../src/core/common/errors';
import { FewShotClassifier } from '../../../../src/core/labels/fewShot';
import { LOGITS_SIDECAR, logitParamsFromGraph } from '../../../../src/core/model/layouts/logitParams';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage, toPixelBatch } from '../../../../src/core/model/inputs/preprocess';
import { onnx } from 'onnx-proto';
import { cosine, fixtureImagesDir, fixturesDir, tempDir } from '../../../helpers';

/** The Python reference of the image side (transformers' PIL processor + onnxruntime): tools/make_family_models.py. */
interface PythonReference {
	images: string[];
	pixels: number[][];
	image: number[][];
}

interface Reference {
	texts: string[];
	ids: number[][];
	images: string[];
	pixels: number[][];
	text: number[][];
	image: number[][];
	probabilities: number[][];
}

/** A scratch copy of a fixture model folder, to damage or change. */
async function fixtureCopy(name: string): Promise<string> {
	const dir = await tempDir();
	await fs.cp(path.join(fixturesDir, name), dir, { recursive: true });
	return dir;
}

/** Runs `fn` with an encoder of the folder in `dir`, released after. */
async function withEncoder(dir: string, fn: (enc: ClipEncoder) => Promise<void>): Promise<void> {
	const enc = new ClipEncoder(await loadModelSpec(dir), { provider: 'cpu', threads: 1 });
	try {
		await fn(enc);
	} finally {
		await enc.dispose();
	}
}

const FAMILIES = [
	{ name: 'tiny-siglip2', family: 'siglip', output: 'pooler_output' },
	{ name: 'tiny-siglip-multilingual', family: 'siglip', output: 'pooler_output' },
	{ name: 'tiny-mobileclip', family: 'clip', output: 'image_embeds' },
] as const;

/** The caption longer than any context: truncation is where Python and transformers.js differ. */
const LONG = 5;
/** A text with a curly apostrophe: CLIP follows OpenAI's ftfy cleaning (tokenizer.test.ts), transformers.js does not. */
const CURLY = 3;

for (const f of FAMILIES) {
	describe(`${f.name}: the same as transformers.js on the same folder`, () => {
		const dir = path.join(fixturesDir, f.name);
		let encoder: ClipEncoder;
		let ref: Reference;
		after(() => encoder?.dispose());

		it('reads the family and its rules from the folder', async () => {
			ref = JSON.parse(await fs.readFile(path.join(fixturesDir, `${f.name}-reference.json`), 'utf8')) as Reference;
			const spec = await loadModelSpec(dir);
			encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
			assert.equal(spec.family, f.family);
			assert.equal(spec.outputs.image, f.output);
			if (f.family === 'siglip') {
				assert.equal(spec.textPadLength, 64, 'every text padded to the model length');
				assert.equal(spec.link, 'sigmoid');
				assert.equal(spec.lowercase, true, 'tokenizer_config.json says do_lower_case');
				assert.deepEqual(spec.preprocess.resize, { height: 32, width: 32 }, 'squash resize');
				assert.equal(spec.preprocess.crop, undefined);
				assert.equal(spec.preprocess.kernel, 'linear');
				assert.deepEqual(spec.preprocess.mean, [0.5, 0.5, 0.5]);
			} else {
				assert.equal(spec.link, 'softmax');
				assert.equal(spec.preprocess.mean, undefined, 'MobileCLIP: no normalisation');
				assert.deepEqual(spec.preprocess.crop, { height: 32, width: 32 });
			}
		});

		it('token ids identical (the end token kept on long texts, as Python does)', async () => {
			const tok = await encoder.tokenizer();
			const fixed = f.family === 'clip' ? 77 : undefined; // MobileCLIP's text graph takes exactly 77
			const { data, length } = tok.encodeBatch(ref.texts, fixed);
			assert.equal(length, ref.ids[0].length);
			ref.texts.forEach((text, i) => {
				const ours = Array.from(data.slice(i * length, (i + 1) * length), Number);
				if (i === LONG) {
					assert.deepEqual(ours.slice(0, -1), ref.ids[i].slice(0, -1), text);
					assert.equal(ours.at(-1), tok.eosId, 'ours ends with the end token');
					assert.notEqual(ref.ids[i].at(-1), tok.eosId, 'transformers.js cut it off');
				} else if (!(f.family === 'clip' && i === CURLY)) {
					assert.deepEqual(ours, ref.ids[i], text);
				}
			});
		});

		it('pixel tensors match the Python reference (PIL); transformers.js shrinks without a low-pass filter', async () => {
			const py = JSON.parse(await fs.readFile(path.join(fixturesDir, `${f.name}-python.json`), 'utf8')) as PythonReference;
			const spec = encoder.spec;
			for (const [i, name] of ref.images.entries()) {
				const file = path.join(fixtureImagesDir, name);
				const ours = toPixelBatch([await decodeImage(file, await fs.readFile(file), spec.preprocess)], spec.preprocess);
				assert.equal(ours.length, py.pixels[i].length);
				let sum = 0;
				ours.forEach((v, k) => (sum += Math.abs(v - py.pixels[i][k])));
				// one 8-bit step is 1/255 (0.0039) unnormalised, 2/255 (0.0078) at mean/std 0.5
				assert.ok(sum / ours.length < 0.01, `${name}: mean |difference| to Python ${(sum / ours.length).toFixed(4)}`);
				assert.ok(cosine(ours, py.pixels[i]) > 0.9995, `${name}: pixel cosine to Python ${cosine(ours, py.pixels[i])}`);
				assert.ok(cosine(ours, ref.pixels[i]) > 0.95, `${name}: pixel cosine to transformers.js ${cosine(ours, ref.pixels[i])}`);
			}
		});

		it('text cosine ≥ 0.9999; image cosine ≥ 0.9999 on the same pixels, ≥ 0.99 end to end against Python', async () => {
			const texts = await encoder.encodeTexts(ref.texts);
			texts.forEach((v, i) => {
				if (i !== LONG && !(f.family === 'clip' && i === CURLY)) {
					assert.ok(cosine(v, ref.text[i]) >= 0.9999, `${ref.texts[i]}: ${cosine(v, ref.text[i])}`);
				}
			});
			const spec = encoder.spec;
			// transformers.js' own pixel tensors, back to the 8-bit image they came from: the model path alone.
			const { height, width, rescaleFactor = 1 } = spec.preprocess;
			const mean = spec.preprocess.mean ?? [0, 0, 0];
			const std = spec.preprocess.std ?? [1, 1, 1];
			const same = ref.pixels.map(p => {
				const rgb = Buffer.alloc(height * width * 3);
				for (let c = 0; c < 3; c++) {
					for (let k = 0; k < height * width; k++) {
						rgb[k * 3 + c] = Math.round((p[c * height * width + k] * std[c] + mean[c]) / rescaleFactor);
					}
				}
				return { rgb, width, height };
			});
			(await encoder.encodeImages(same)).forEach((v, i) => assert.ok(cosine(v, ref.image[i]) >= 0.9999, `${ref.images[i]} (same pixels): ${cosine(v, ref.image[i])}`));
			const py = JSON.parse(await fs.readFile(path.join(fixturesDir, `${f.name}-python.json`), 'utf8')) as PythonReference;
			const decoded = await Promise.all(ref.images.map(async n => decodeImage(n, await fs.readFile(path.join(fixtureImagesDir, n)), spec.preprocess)));
			const images = await encoder.encodeImages(decoded);
			images.forEach((v, i) => assert.ok(cosine(v, py.image[i]) >= 0.99, `${ref.images[i]} against Python: ${cosine(v, py.image[i])}`));
		});

		it('zero-shot probabilities within 1e-3 (sigmoid with the trained scale and bias for SigLIP)', () => {
			const spec = encoder.spec;
			const zeroShot = FewShotClassifier.fit(
				ref.text.map(t => ({ text: Float32Array.from(t), examples: [], negatives: [] })),
				{ scale: spec.logitScale, link: spec.link, bias: spec.logitBias ?? 0 },
			);
			ref.image.forEach((img, i) => {
				const ours = zeroShot.probabilities(Float32Array.from(img));
				ours.forEach((p, k) => assert.ok(Math.abs(p - ref.probabilities[i][k]) < 1e-3, `image ${i} text ${k}: ${p} vs ${ref.probabilities[i][k]}`));
			});
		});
	});
}

describe('SigLIP tokenizer templates', () => {
	it('a template with a start and an end token keeps both when the text is truncated', async () => {
		const dir = await fixtureCopy('tiny-siglip2');
		const tokFile = path.join(dir, 'tokenizer.json');
		const tok = JSON.parse(await fs.readFile(tokFile, 'utf8'));
		const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
		tok.post_processor.single = [special('<bos>'), { Sequence: { id: 'A', type_id: 0 } }, special('<eos>')];
		tok.post_processor.special_tokens['<bos>'] = { id: '<bos>', ids: [2], tokens: ['<bos>'] };
		await fs.writeFile(tokFile, JSON.stringify(tok));
		const enc = new ClipEncoder(await loadModelSpec(dir, { parts: 'tokenizer' }), { provider: 'cpu' });
		const t = await enc.tokenizer();
		const short = t.encode('a red circle');
		assert.equal(short[0], 2, '<bos> first');
		assert.equal(short.at(-1), 1, '<eos> last');
		const long = t.encode('a red circle '.repeat(40));
		assert.equal(long.length, 64);
		assert.deepEqual([long[0], long[63]], [2, 1], 'both template tokens survive truncation');
		const { data, length, lengths } = t.encodeBatch(['a red circle']);
		assert.equal(length, 64, 'padded to the model length');
		assert.equal(lengths[0], short.length);
		assert.ok(Array.from(data.slice(short.length), Number).every(id => id === 0), 'with <pad> (id 0), as tokenizer_config.json names it');
		await enc.dispose();
	});
});

/**
 * A text graph that reports the attention mask it was fed: pooler_output = [Σ mask, 1, 1, …] per row,
 * so the first component of the normalised vector gives the number of ones back.
 */
function maskReportingGraph(dim: number): Uint8Array {
	const T = onnx.TensorProto.DataType;
	const vi = (name: string, type: number, dims: (string | number)[]) =>
		onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: type, shape: { dim: dims.map(d => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
	const floats = (name: string, values: number[]) => onnx.TensorProto.create({ name, dataType: T.FLOAT, dims: [values.length], floatData: values });
	const graph = onnx.GraphProto.create({
		name: 'mask-report',
		input: [vi('input_ids', T.INT64, ['batch', 'seq']), vi('attention_mask', T.INT64, ['batch', 'seq'])],
		output: [vi('pooler_output', T.FLOAT, ['batch', dim])],
		initializer: [
			onnx.TensorProto.create({ name: 'axes', dataType: T.INT64, dims: [1], int64Data: [1] }),
			floats('first', [1, ...Array(dim - 1).fill(0)]),
			floats('rest', [0, ...Array(dim - 1).fill(1)]),
		],
		node: [
			onnx.NodeProto.create({ opType: 'ReduceSum', input: ['attention_mask', 'axes'], output: ['sum'], attribute: [onnx.AttributeProto.create({ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 })] }),
			onnx.NodeProto.create({ opType: 'Cast', input: ['sum'], output: ['sumf'], attribute: [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT })] }),
			onnx.NodeProto.create({ opType: 'Mul', input: ['sumf', 'first'], output: ['scaled'] }),
			onnx.NodeProto.create({ opType: 'Add', input: ['scaled', 'rest'], output: ['pooler_output'] }),
		],
	});
	return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

describe('the attention mask a SigLIP text graph gets', () => {
	for (const [fixture, expected, why] of [
		['tiny-siglip2', 'the real tokens', 'Gemma’s Python tokenizer returns a mask: padding hidden'],
		['tiny-siglip-multilingual', 'every position', 'Python’s SiglipTokenizer returns none: the model sees its padding'],
	] as const) {
		it(`${fixture}: ${expected} (${why})`, async () => {
			const dir = await fixtureCopy(fixture);
			await fs.writeFile(path.join(dir, 'onnx/text_model.onnx'), maskReportingGraph(32));
			await withEncoder(dir, async enc => {
				const tok = await enc.tokenizer();
				const v = await enc.encodeText('a red circle');
				const ones = Math.round(Math.sqrt((31 * v[0] ** 2) / (1 - v[0] ** 2)));
				assert.equal(ones, expected === 'every position' ? 64 : tok.encode('a red circle').length);
			});
		});
	}
});

describe('where SigLIP keeps its scale and bias', () => {
	it('reads them from the combined graph once (folded exp(scale) and an anonymous bias) and keeps a sidecar', async () => {
		const dir = await fixtureCopy('tiny-siglip2');
		await fs.rm(path.join(dir, LOGITS_SIDECAR), { force: true });
		const found = logitParamsFromGraph(await fs.readFile(path.join(dir, 'onnx/model.onnx')));
		assert.ok(found && Math.abs(found.logScale - 4.7244534) < 1e-5 && Math.abs(found.bias! + 1.5) < 1e-6, JSON.stringify(found));
		const spec = await loadModelSpec(dir);
		assert.match(spec.scoringSource, /onnx\/model\.onnx/);
		await fs.rm(path.join(dir, 'onnx/model.onnx'));
		const again = await loadModelSpec(dir);
		assert.equal(again.logitBias, spec.logitBias, 'from the sidecar, without the combined graph');
		assert.match(again.scoringSource, new RegExp(LOGITS_SIDECAR.replace('.', '\\.')));
	});

	it('reads them by name when the export kept the parameters (the scale as its log)', () => {
		const scalar = (name: string, v: number) => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [v] });
		const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ graph: { name: 'g', initializer: [scalar('logit_scale', 2.5), scalar('logit_bias', -3)] } })).finish();
		assert.deepEqual(logitParamsFromGraph(bytes), { logScale: 2.5, bias: -3 });
	});

	it('a damaged sidecar or combined graph is passed over, never fatal', async () => {
		const dir = await fixtureCopy('tiny-siglip2');
		await fs.writeFile(path.join(dir, LOGITS_SIDECAR), '{ "logit_scale": ');
		const spec = await loadModelSpec(dir);
		assert.equal(spec.link, 'sigmoid', 'derived again from the combined graph');
		assert.match(spec.scoringSource, /onnx\/model\.onnx/);
		await fs.rm(path.join(dir, LOGITS_SIDECAR));
		await fs.writeFile(path.join(dir, 'onnx/model.onnx'), 'not a protobuf, not even close to one');
		const fallback = await loadModelSpec(dir);
		assert.equal(fallback.link, 'softmax');
	});

	it('without them: a softmax that ranks as SigLIP does, and the log says why', async () => {
		const dir = await fixtureCopy('tiny-siglip2');
		await fs.rm(path.join(dir, LOGITS_SIDECAR), { force: true });
		await fs.rm(path.join(dir, 'onnx/model.onnx'));
		const spec = await loadModelSpec(dir);
		assert.equal(spec.link, 'softmax');
		assert.match(spec.scoringSource, /logit_bias/);
	});

	it('a graph that does not fit the config fails with the file named, not a bare runtime error', async () => {
		const dir = await fixtureCopy('tiny-siglip-multilingual');
		await fs.cp(path.join(fixturesDir, 'tiny-clip/onnx/text_model.onnx'), path.join(dir, 'onnx/text_model.onnx'));
		await withEncoder(dir, async enc => {
			await assert.rejects(enc.encodeText('a cat'), (e: unknown) => ClipError.is(e, 'ModelInvalid') && /text_model\.onnx: the model failed to run/.test((e as Error).message));
		});
	});
});

describe('folders of an unknown family or shape', () => {
	it('an unknown model_type names the key and the families read', async () => {
		const dir = await fixtureCopy('tiny-siglip2');
		const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
		await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'blip' }));
		await assert.rejects(loadModelSpec(dir), (e: unknown) => ClipError.is(e, 'ModelInvalid') && /model_type.*blip.*clip, siglip, siglip2/.test((e as Error).message));
	});

	it('a pad or end token the tokenizer does not have is named, with the config key', async () => {
		const dir = await fixtureCopy('tiny-siglip2');
		const file = path.join(dir, 'tokenizer_config.json');
		const config = JSON.parse(await fs.readFile(file, 'utf8'));
		await fs.writeFile(file, JSON.stringify({ ...config, pad_token: '<nope>' }));
		const enc = new ClipEncoder(await loadModelSpec(dir, { parts: 'tokenizer' }), { provider: 'cpu' });
		await assert.rejects(enc.tokenizer(), (e: unknown) => ClipError.is(e, 'ModelInvalid') && /"<nope>".*pad_token/.test((e as Error).message));
		await fs.writeFile(file, JSON.stringify({ ...config, eos_token: '<end?>' }));
		const enc2 = new ClipEncoder(await loadModelSpec(dir, { parts: 'tokenizer' }), { provider: 'cpu' });
		await assert.rejects(enc2.tokenizer(), (e: unknown) => ClipError.is(e, 'ModelInvalid') && /"<end\?>".*eos_token/.test((e as Error).message));
	});

	it('a SigLIP folder whose graph lacks pooler_output names the missing output', async () => {
		const dir = await fixtureCopy('tiny-siglip-multilingual');
		// A CLIP graph (32 positions) in a SigLIP folder: it outputs text_embeds, not pooler_output.
		await fs.cp(path.join(fixturesDir, 'tiny-clip/onnx/text_model.onnx'), path.join(dir, 'onnx/text_model.onnx'));
		const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
		config.text_config.max_position_embeddings = 32;
		await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
		await withEncoder(dir, async enc => {
			await assert.rejects(enc.encodeText('a cat'), (e: unknown) => ClipError.is(e, 'ModelInvalid') && /no "pooler_output" output \(it has: text_embeds\)/.test((e as Error).message));
		});
	});

	it('a graph that does not fit the config fails with the file named, not a bare runtime error', async () => {
		const dir = await fixtureCopy('tiny-siglip-multilingual');
		await fs.cp(path.join(fixturesDir, 'tiny-clip/onnx/text_model.onnx'), path.join(dir, 'onnx/text_model.onnx'));
		await withEncoder(dir, async enc => {
			await assert.rejects(enc.encodeText('a cat'), (e: unknown) => ClipError.is(e, 'ModelInvalid') && /text_model\.onnx: the model failed to run/.test((e as Error).message));
		});
	});
});
