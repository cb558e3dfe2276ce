#!/usr/bin/env node
/**
 * Reference values for the model-family parity tests, made by transformers.js on the same folders.
 *
 *   node tools/make_family_reference.mjs --peer <folder with node_modules/@huggingface/transformers>
 *
 * (`npm run bench` installs transformers.js 4.x into ~/.cache/clip-image-search/bench/peer.)
 * For each fixture folder made by tools/make_family_models.py it records: the padded token ids of
 * some texts, the pixel tensor of some images, both towers' embeddings (L2-normalised), and the
 * zero-shot probabilities (SigLIP: the combined model's logits_per_image through a sigmoid, as
 * transformers.js' zero-shot pipeline does; MobileCLIP: softmax of 100 × cosine, as its model card
 * does). Writes test/fixtures/<name>-reference.json.
 *
 * [Note: where transformers.js differs from Python] transformers.js ignores tokenizer_config.json's
 * do_lower_case and Python SiglipTokenizer's canonicalisation (punctuation removed): the texts are
 * given to it already lowercased/canonicalised, as Python's tokenizers would see them. Long texts:
 * transformers.js cuts after adding the end token; Python (and this product) keeps it — the test
 * checks that one difference explicitly.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const peer = process.argv[process.argv.indexOf('--peer') + 1];
if (!peer || process.argv.indexOf('--peer') < 0) {
	console.error('usage: node tools/make_family_reference.mjs --peer <folder with node_modules/@huggingface/transformers>');
	process.exit(2);
}
const require = createRequire(path.join(path.resolve(peer), 'package.json'));
const tf = await import(require.resolve('@huggingface/transformers'));
tf.env.allowRemoteModels = false;
tf.env.localModelPath = path.join(ROOT, 'test/fixtures') + path.sep;

export const TEXTS = [
	'a photo of a red circle',
	'A Blue Square on the LEFT!',
	'ein großer gelber Stern',
	'une photo d’un cercle rouge, à gauche.',
	'naïve café',
	`${'a very long caption about shapes and colours '.repeat(12)}end`,
];
const IMAGES = ['blue-circle.png', 'blue-star.png', 'copies/green-triangle-big.png', 'copies/red-circle-copy.jpg'];

const canonical = t => t.replace(/[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '').replace(/\s+/g, ' ').trim();
const norm = v => {
	const n = Math.hypot(...v);
	return v.map(x => Math.round((x / n) * 1e6) / 1e6);
};
const rows = (t) => {
	const [n, d] = t.dims;
	return Array.from({ length: n }, (_, i) => Array.from(t.data.slice(i * d, (i + 1) * d)));
};

async function family(name, kind) {
	const dir = path.join(ROOT, 'test/fixtures', name);
	const tokConfig = JSON.parse(await fs.readFile(path.join(dir, 'tokenizer_config.json'), 'utf8'));
	const prepared = TEXTS.map(t => {
		let s = tokConfig.tokenizer_class === 'SiglipTokenizer' ? canonical(t) : t;
		return kind === 'siglip' && tokConfig.do_lower_case ? s.toLowerCase() : s;
	});
	const tokenizer = await tf.AutoTokenizer.from_pretrained(name);
	const inputs = tokenizer(prepared, { padding: 'max_length', truncation: true, max_length: kind === 'siglip' ? 64 : 77 });
	const ids = inputs.input_ids.tolist().map(r => r.map(Number));
	const processor = await tf.AutoProcessor.from_pretrained(name);
	const images = await Promise.all(IMAGES.map(f => tf.RawImage.read(path.join(ROOT, 'test/fixtures/images', f))));
	const { pixel_values } = await processor(images);
	const [n, c, h, w] = pixel_values.dims;
	const pixels = rows({ dims: [n, c * h * w], data: pixel_values.data }).map(r => r.map(x => Math.round(x * 1e5) / 1e5));
	let text;
	let image;
	let probabilities;
	if (kind === 'siglip') {
		const t = await tf.SiglipTextModel.from_pretrained(name, { dtype: 'fp32' });
		text = rows((await t({ input_ids: inputs.input_ids })).pooler_output).map(norm);
		const v = await tf.SiglipVisionModel.from_pretrained(name, { dtype: 'fp32' });
		image = rows((await v({ pixel_values })).pooler_output).map(norm);
		const joint = await tf.SiglipModel.from_pretrained(name, { dtype: 'fp32' });
		const out = await joint({ input_ids: inputs.input_ids, pixel_values });
		probabilities = rows(out.logits_per_image.sigmoid()).map(r => r.map(x => Math.round(x * 1e6) / 1e6));
	} else {
		const t = await tf.CLIPTextModelWithProjection.from_pretrained(name, { dtype: 'fp32' });
		text = rows((await t(inputs)).text_embeds).map(norm);
		const v = await tf.CLIPVisionModelWithProjection.from_pretrained(name, { dtype: 'fp32' });
		image = rows((await v({ pixel_values })).image_embeds).map(norm);
		probabilities = image.map(iv => {
			const z = text.map(tv => 100 * tv.reduce((s, x, k) => s + x * iv[k], 0));
			const m = Math.max(...z);
			const e = z.map(x => Math.exp(x - m));
			const sum = e.reduce((a, b) => a + b, 0);
			return e.map(x => Math.round((x / sum) * 1e6) / 1e6);
		});
	}
	const out = { texts: TEXTS, prepared, ids, images: IMAGES, pixelShape: [c, h, w], pixels, text, image, probabilities };
	await fs.writeFile(path.join(ROOT, 'test/fixtures', `${name}-reference.json`), `${JSON.stringify(out)}\n`);
	console.log(name, `${ids.length} texts, ${IMAGES.length} images, pixels ${c}×${h}×${w}`);
}

await family('tiny-siglip2', 'siglip');
await family('tiny-siglip-multilingual', 'siglip');
await family('tiny-mobileclip', 'clip');
