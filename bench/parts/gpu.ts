/**
 * @file Bench part `gpu`: images per second on every execution provider that starts here, inference
 * alone (batch 8 and 32) and end to end, beside the decode-only bound, and what `auto` chose. On a
 * machine without a GPU, WebGPU can still start on a software Vulkan driver (SwiftShader, with
 * VK_ICD_FILENAMES): its figure then says how slow that is, which is why `auto` measures.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { describeError } from '../../src/core/common/errors';
import { indexFolder } from '../../src/core/index/indexer';
import { openIndexForWriting } from '../../src/core/index/indexSession';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import type { ConcreteProvider } from '../../src/core/model/runtime/providers';
import { decodeAll, median, QUICK, rows, timed } from '../common';

export async function figureGpu(modelDir: string, files: string[], decodeRate: number): Promise<void> {
	const spec = await loadModelSpec(modelDir, { variant: 'fp32' });
	const images = await decodeAll(files.slice(0, 32), spec);
	const subsetDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-gpu-'));
	for (const f of files.slice(0, QUICK ? 24 : 64)) {
		await fs.copyFile(f, path.join(subsetDir, path.basename(f)));
	}
	for (const provider of ['cpu', 'webgpu', 'cuda'] as ConcreteProvider[]) {
		const encoder = new ClipEncoder(spec, { provider });
		try {
			await encoder.encodeImages(images.slice(0, 1));
			if (encoder.providersUsed.vision !== provider) {
				rows.push({ figure: `13. ${provider}: fp32 ViT-B/32`, value: `did not start (${encoder.providerFailures.join('; ')})` });
				continue;
			}
			const rates: string[] = [];
			for (const batch of [8, 32]) {
				const sample = images.slice(0, batch);
				const runs: number[] = [];
				for (let r = 0; r < 2; r++) {
					runs.push(sample.length / ((await timed(() => encoder.encodeImages(sample))).ms / 1000));
				}
				rates.push(`batch ${batch} ${median(runs).toFixed(1)}`);
			}
			const store = await openIndexForWriting(await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-gpu-index-')), subsetDir, spec);
			const result = await indexFolder(store, encoder, { batchSize: provider === 'cpu' ? 16 : 32 });
			rows.push({
				figure: `13. ${provider}: fp32 ViT-B/32 inference only (img/s) · end to end · decode-only bound`,
				value: `${rates.join(', ')} · ${(result.embedded / result.seconds).toFixed(1)} img/s · ${decodeRate.toFixed(1)} img/s`,
			});
		} catch (err) {
			rows.push({ figure: `13. ${provider}: fp32 ViT-B/32`, value: `failed: ${describeError(err)}` });
		} finally {
			await encoder.dispose();
		}
	}
	const auto = new ClipEncoder(spec, { provider: 'auto' });
	await auto.encodeImages(images.slice(0, 1));
	rows.push({ figure: '13. auto on this machine', value: auto.providerChoice ?? '?' });
	await auto.dispose();
	await fs.rm(subsetDir, { recursive: true, force: true });
}
