/**
 * @file Bench part `decode`: on the big photos of the photo corpus, decoding + preprocessing with
 * shrink-on-load (libjpeg's DCT scaling, WebP's scaled decoding; the default for photos) against a
 * full decode + resize, and how close the embeddings stay (random-weight ViT-B/32 and the tiny model).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { dot } from '../../src/core/common/vectors';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../src/core/model/inputs/preprocess';
import { median, QUICK, repo, rows, RUNS, timed } from '../common';

export async function figureShrinkOnLoad(photosDir: string, modelDir: string): Promise<void> {
	const photos = (await fs.readdir(photosDir)).filter(f => /^p\d+-.*\.(jpe?g|webp)$/i.test(f)).slice(0, QUICK ? 16 : 60);
	const bytes = await Promise.all(photos.map(f => fs.readFile(path.join(photosDir, f))));
	for (const [name, dir] of [
		['ViT-B/32 (random weights)', modelDir],
		['tiny model', path.join(repo, 'test', 'fixtures', 'tiny-clip')],
	] as const) {
		const spec = await loadModelSpec(dir, { variant: 'fp32' });
		const rate = async (fast: boolean): Promise<number> => {
			const runs: number[] = [];
			for (let r = 0; r < RUNS; r++) {
				const { ms } = await timed(async () => {
					for (let i = 0; i < photos.length; i++) {
						await decodeImage(photos[i], bytes[i], spec.preprocess, { fastShrinkOnLoad: fast });
					}
				});
				runs.push(ms / photos.length);
			}
			return median(runs);
		};
		const full = await rate(false);
		const shrunk = await rate(true);
		const encoder = new ClipEncoder(spec, { provider: 'cpu' });
		const cos: number[] = [];
		for (let i = 0; i < photos.length; i += 8) {
			const slice = photos.slice(i, i + 8);
			const a = await encoder.encodeImages(await Promise.all(slice.map((f, j) => decodeImage(f, bytes[i + j], spec.preprocess, { fastShrinkOnLoad: false }))));
			const b = await encoder.encodeImages(await Promise.all(slice.map((f, j) => decodeImage(f, bytes[i + j], spec.preprocess, { fastShrinkOnLoad: true }))));
			a.forEach((v, k) => cos.push(dot(v, b[k])));
		}
		await encoder.dispose();
		const mean = cos.reduce((x, y) => x + y, 0) / cos.length;
		const min = Math.min(...cos);
		rows.push({
			figure: `12. decode ${photos.length} photos for the ${name}: full decode → shrink-on-load (ms/image), embedding cosine mean / min`,
			value: `${full.toFixed(1)} → ${shrunk.toFixed(1)} ms (${((1 - shrunk / full) * 100).toFixed(0)}% less); ${mean.toFixed(5)} / ${min.toFixed(5)}`,
			target: 'mean ≥ 0.999, min ≥ 0.99',
			pass: mean >= 0.999 && min >= 0.99,
		});
	}
}
