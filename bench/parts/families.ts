/** @file Bench part `families`: each known model family's architecture, fp32 and int8, on the same machine. */
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { type ModelVariant } from '../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { dot } from '../../src/core/common/vectors';
import { decodeAll, median, QUICK, results, rows, RUNS, timed } from '../common';
import { benchModel, familyModel, layoutModel } from '../setup';

/**
 * One line per model family: images per second at batch 8 (inference only, fp32 and int8) and
 * the time of one text query (a text not seen before: tokenise + text tower), same machine, same
 * images. The time estimate Select Model shows before a switch comes from these figures.
 */
export async function figureFamilies(files: string[]): Promise<void> {
	const families: [string, string, ModelVariant[]][] = [
		['CLIP ViT-B/32 (Xenova/clip-vit-base-patch32)', benchModel(), ['fp32', 'quantized']],
		['MobileCLIP-S2 (Xenova/mobileclip_s2)', familyModel('mobileclip-s2'), ['fp32', 'quantized']],
		['SigLIP 2 base/16 224 (onnx-community/siglip2-base-patch16-224-ONNX)*', familyModel('siglip2'), ['fp32', 'quantized']],
		['SigLIP base/16 256 multilingual (pulsejet/…-multilingual-onnx)*', familyModel('siglip-multilingual'), ['fp32', 'quantized']],
		// Immich's and rclip's layouts: full precision only, as published; Immich's graphs take one image at a time.
		['ViT-B/32 in Immich’s layout (immich-app/ViT-B-32__openai, __laion2b-s34b-b79k), batch-1 graphs', layoutModel('immich-b32'), ['fp32']],
		['ViT-B/32 256 in rclip’s layout (rclip/ViT-B-32-256-datacomp_s34b_b86k)', layoutModel('rclip-b32-256'), ['fp32']],
		['SigLIP 2 base/32 256 in Immich’s layout (immich-app/ViT-B-32-SigLIP2-256__webli)*, batch-1 graphs', layoutModel('immich-siglip2-b32-256'), ['fp32']],
	];
	const queries = Array.from({ length: QUICK ? 6 : 12 }, (_, i) => `a photo of ${['a red', 'a blue', 'an old', 'a small'][i % 4]} ${['car', 'login form', 'diagram with arrows', 'error icon', 'beach', 'cat'][i % 6]} number ${i}`);
	for (const [name, dir, variants] of families) {
		const cells: string[] = [];
		const firstBatch: Partial<Record<ModelVariant, Float32Array[]>> = {};
		for (const variant of variants) {
			const spec = await loadModelSpec(dir, { variant });
			const images = await decodeAll(files.slice(0, QUICK ? 16 : 24), spec);
			const encoder = new ClipEncoder(spec, { provider: 'cpu' });
			await encoder.encodeImages(images.slice(0, 8)); // sessions (and the int8 conversion) outside the timing
			// The int8/fp32 agreement on the same 8 images in the same order (decodeAll's order is the completion order).
			firstBatch[variant] = await encoder.encodeImages(await decodeAll(files.slice(0, 8), spec, 1));
			const runs: number[] = [];
			for (let r = 0; r < RUNS; r++) {
				const { ms } = await timed(async () => {
					for (let i = 0; i + 8 <= images.length; i += 8) {
						await encoder.encodeImages(images.slice(i, i + 8));
					}
				});
				runs.push((Math.floor(images.length / 8) * 8) / (ms / 1000));
			}
			await encoder.encodeText('warm-up');
			const textMs: number[] = [];
			for (const q of queries) {
				textMs.push((await timed(() => encoder.encodeText(`${q} ${variant}`))).ms);
			}
			await encoder.dispose();
			const rate = median(runs);
			results[`family ${name} ${variant}`] = { imagesPerSecond: rate, textQueryMs: median(textMs) };
			cells.push(`${variant === 'fp32' ? 'fp32' : 'int8'} ${rate.toFixed(1)} img/s, ${median(textMs).toFixed(0)} ms a query`);
		}
		// On random weights: trained weights (with their outliers) may quantize better or worse.
		if (!firstBatch.quantized) {
			rows.push({ figure: `10. ${name}: inference at batch 8, text query`, value: cells.join(' · ') });
			continue;
		}
		const agreement = firstBatch.fp32!.map((v, i) => dot(v, firstBatch.quantized![i]));
		cells.push(`int8 vs fp32 image cosine mean ${(agreement.reduce((a, b) => a + b, 0) / agreement.length).toFixed(4)}, worst ${Math.min(...agreement).toFixed(4)}`);
		rows.push({ figure: `10. ${name}: inference at batch 8, text query`, value: cells.join(' · ') });
	}
	rows.push({ figure: '    * SigLIP text towers benched with a 32,000-token vocabulary (a lookup table: same time per query)', value: '' });
	rows.push({ figure: '    Batch-1 graphs run a batch of 8 as 8 runs in a row (the encoder loops; see the README on Immich models)', value: '' });
}
