/** @file Bench part `gflops`: how much of the machine's matrix speed ViT-B/32 inference reaches. */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { median, rows } from '../common';

const GFLOP_PER_IMAGE = 8.82;

export async function figureGflops(modelDir: string, fp32Rate: number): Promise<void> {
	const file = path.join(modelDir, 'onnx', 'matmul.onnx');
	if (!existsSync(file)) {
		rows.push({ figure: '8. GFLOP/s', value: `inference ${(fp32Rate * GFLOP_PER_IMAGE).toFixed(0)} GFLOP/s (no matmul.onnx in this model folder)` });
		return;
	}
	const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: os.availableParallelism() });
	const n = 2048;
	const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => (i % 13) / 13), [n, n]);
	await session.run({ a, b: a });
	const times: number[] = [];
	for (let r = 0; r < 5; r++) {
		const t = performance.now();
		await session.run({ a, b: a });
		times.push((performance.now() - t) / 1000);
	}
	const matmul = (2 * n ** 3) / median(times) / 1e9;
	await session.release();
	rows.push({
		figure: `8. GFLOP/s: ViT-B/32 fp32 inference (${GFLOP_PER_IMAGE} GFLOP/image, batch 16) vs a 2048³ fp32 MatMul`,
		value: `${(fp32Rate * GFLOP_PER_IMAGE).toFixed(0)} vs ${matmul.toFixed(0)} GFLOP/s (${((fp32Rate * GFLOP_PER_IMAGE * 100) / matmul).toFixed(0)}%)`,
	});
}
