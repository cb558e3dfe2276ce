/**
 * The Immich and rclip layouts (issue 30), on tiny random-weight models made the way each exporter
 * makes them (tools/make_layout_models.py), against references computed by each runtime's own rules
 * in Python (the *-python.json files): the layout is recognised, the token ids are the runtime's,
 * and text and image embeddings agree (text ≥ 0.9999; images mean ≥ 0.999, min ≥ 0.99), except
 * where the product differs on purpose: EXIF orientation applied and transparency on white
 * ([Note: where the product differs on purpose] in src/core/model/layouts/layoutFiles.ts).
 */
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClipError } from '../../../../src/core/common/errors';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { detectLayout } from '../../../../src/core/model/layouts/detectLayout';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { ClipTokenizer, tokenizerFilesOf } from '../../../../src/core/model/inputs/tokenizer';
import { cosine, ensureRclipMerges, fixturesDir } from '../../../helpers';

interface Reference {
	images: { file: string; embedding: number[]; source: { exif_orientation: number | null; has_transparency: boolean } }[];
	texts: { text: string; ids: number[]; embedding: number[] }[];
}

/** Where the product differs on purpose: an image it orients, or one whose transparency it puts on white. */
const deliberate = (i: Reference['images'][number]): boolean => (i.source.exif_orientation ?? 1) > 1 || i.source.has_transparency;

for (const [name, layout, dir] of [
	['tiny-immich-clip', 'immich', 'tiny-immich-clip'],
	['tiny-immich-siglip2', 'immich', 'tiny-immich-siglip2'],
	['tiny-rclip', 'rclip', 'tiny-rclip'],
	['tiny-rclip (its model folder given)', 'rclip', 'tiny-rclip/ViT-B-32-256-datacomp_s34b_b86k'],
] as const) {
	// rclip's merge file is cut from ../shared at test time (the tokenizer files are never committed).
	describe(`the ${layout} layout: ${name}`, { skip: layout === 'rclip' ? ensureRclipMerges() : false }, () => {
		const folder = path.join(fixturesDir, dir);
		const ref = JSON.parse(readFileSync(path.join(fixturesDir, `${name.split(' ')[0]}-python.json`), 'utf8')) as Reference;

		it('is recognised, with its inputs, outputs and preprocessing from its own files', async () => {
			assert.equal(await detectLayout(folder), layout === 'rclip' && dir.endsWith('k') ? 'rclip' : layout);
			const spec = await loadModelSpec(folder);
			assert.equal(spec.layout, layout);
			if (layout === 'immich') {
				assert.deepEqual(spec.inputs, { text: 'text', image: 'image', textType: 'int32' });
				assert.equal(spec.batchOne, true);
			} else {
				assert.deepEqual(spec.inputs, { text: 'input', image: 'input', textType: 'int64' });
				assert.equal(spec.preprocess.height, 256);
				assert.equal(spec.preprocess.cropRounding, 'halfEven');
			}
			assert.equal(spec.dim, ref.texts[0].embedding.length);
			assert.match(spec.revision, /^local-[0-9a-f]{16}$/);
			await assert.rejects(loadModelSpec(folder, { variant: 'quantized' }), (e: unknown) => ClipError.is(e, 'VariantUnavailable') && /full-precision \(fp32\) graphs only/.test((e as Error).message));
		});

		it("tokenises as the runtime does, every text, to the id", async () => {
			const spec = await loadModelSpec(folder);
			const tokenizer = await ClipTokenizer.load(tokenizerFilesOf(spec));
			for (const t of ref.texts) {
				const { data } = tokenizer.encodeBatch([t.text], t.ids.length);
				assert.deepEqual(Array.from(data, Number), t.ids, JSON.stringify(t.text));
			}
		});

		it('embeds texts (cosine ≥ 0.9999) and images (mean ≥ 0.999, min ≥ 0.99) as the runtime does, one at a time or in batches', async t => {
			const spec = await loadModelSpec(folder);
			const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
			try {
				const texts = await encoder.encodeTexts(ref.texts.map(x => x.text));
				const textCos = texts.map((v, i) => cosine(v, ref.texts[i].embedding));
				assert.ok(Math.min(...textCos) >= 0.9999, `texts: ${textCos.map(c => c.toFixed(5)).join(', ')}`);
				const decoded = await Promise.all(ref.images.map(async i => decodeImage(i.file, await fs.readFile(path.join(fixturesDir, i.file)), spec.preprocess)));
				const images = await encoder.encodeImages(decoded);
				const [alone] = await encoder.encodeImages([decoded[0]]);
				assert.ok(cosine(alone, images[0]) > 0.99999, 'a batch gives what one at a time gives');
				const same: number[] = [];
				const differ: string[] = [];
				ref.images.forEach((img, i) => {
					const c = cosine(images[i], img.embedding);
					if (deliberate(img)) {
						differ.push(`${img.file} ${c.toFixed(4)}`);
					} else {
						same.push(c);
					}
				});
				t.diagnostic(`images: mean ${(same.reduce((a, b) => a + b, 0) / same.length).toFixed(5)}, min ${Math.min(...same).toFixed(5)} over ${same.length}; on purpose (oriented, on white): ${differ.join(', ')}`);
				assert.equal(same.length, 4);
				assert.ok(same.reduce((a, b) => a + b, 0) / same.length >= 0.999 && Math.min(...same) >= 0.99, same.join(', '));
				assert.equal(differ.length, 4, 'the EXIF-rotated photo and the three images with transparency');
			} finally {
				await encoder.dispose();
			}
		});
	});
}
