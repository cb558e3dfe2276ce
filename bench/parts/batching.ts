/**
 * @file Bench part `batching`: Immich's batch-1 ViT-B/32 image graph one image at a time, its
 * batched twin (batchTwin.ts), and the batched graph of the same model in transformers.js' layout,
 * fp32 at batch 8, inference only, alternating; and what making the twin costs.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { batchedImageGraph } from '../../src/core/model/runtime/batchTwin';
import { forgetVerified } from '../../src/core/model/files/verifiedFiles';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { benchModel, layoutModel } from '../setup';
import { decodeAll, median, QUICK, rows, RUNS, timed } from '../common';

export async function figureBatching(files: string[]): Promise<void> {
	const immich = await loadModelSpec(layoutModel('immich-b32'), { variant: 'fp32' });
	const xenova = await loadModelSpec(benchModel(), { variant: 'fp32' });
	const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-batch-'));
	const shape = [1, 3, immich.preprocess.height, immich.preprocess.width];
	const first = await timed(() => batchedImageGraph(immich.visionModelPath, shape, { cacheDir }));
	const same = await timed(() => batchedImageGraph(immich.visionModelPath, shape, { cacheDir }));
	forgetVerified();
	const later = await timed(() => batchedImageGraph(immich.visionModelPath, shape, { cacheDir }));
	if (!first.value) {
		rows.push({ figure: '11. Immich ViT-B/32: batched twin', value: 'not made (see the log with CLIP_SEARCH_VERBOSE=1)' });
		return;
	}
	const images = await decodeAll(files.slice(0, QUICK ? 16 : 32), immich);
	const encoders = {
		'Immich, one at a time': new ClipEncoder(immich, { provider: 'cpu', batchTwin: false }),
		'Immich, batched twin': new ClipEncoder({ ...immich, visionModelPath: first.value, batchOne: false }, { provider: 'cpu' }),
		'transformers.js layout': new ClipEncoder(xenova, { provider: 'cpu' }),
	};
	const rates: Record<string, number[]> = {};
	for (const enc of Object.values(encoders)) {
		await enc.encodeImages(images.slice(0, 8));
	}
	for (let r = 0; r < Math.max(3, RUNS); r++) {
		for (const [name, enc] of Object.entries(encoders)) {
			const { ms } = await timed(async () => {
				for (let i = 0; i + 8 <= images.length; i += 8) {
					await enc.encodeImages(images.slice(i, i + 8));
				}
			});
			(rates[name] ??= []).push((Math.floor(images.length / 8) * 8) / (ms / 1000));
		}
	}
	for (const enc of Object.values(encoders)) {
		await enc.dispose();
	}
	await fs.rm(cacheDir, { recursive: true, force: true });
	const rate = (name: keyof typeof encoders): number => median(rates[name]);
	rows.push({
		figure: '11. ViT-B/32 fp32 at batch 8 (img/s): Immich one at a time / Immich batched twin / transformers.js layout',
		value: `${rate('Immich, one at a time').toFixed(1)} / ${rate('Immich, batched twin').toFixed(1)} / ${rate('transformers.js layout').toFixed(1)}`,
	});
	const ratio = rate('Immich, batched twin') / rate('transformers.js layout');
	rows.push({ figure: '11. Immich batched twin against the transformers.js layout', value: `${(ratio * 100).toFixed(0)} %`, target: 'within 5 %', pass: ratio >= 0.95 });
	rows.push({
		figure: '11. the batched twin (352 MB): first load (rewrite, write, check) / first load of a later process (rewrite, compare) / later loads in a process',
		value: `${(first.ms / 1000).toFixed(1)} s / ${(later.ms / 1000).toFixed(1)} s / ${same.ms.toFixed(0)} ms`,
	});
}
