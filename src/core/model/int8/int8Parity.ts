/**
 * @file The check a lossy int8 twin passes before it is used: the original file and the twin
 * embed the same generated images, and the vectors must agree (cosine mean ≥ 0.995, worst ≥ 0.98).
 *
 * The images are made here (gradients, stripes and blocks of colour at the graph's input size,
 * normalised as CLIP's preprocessing does), so the check needs no files and gives the same answer
 * on every machine for the same model.
 */
import * as ort from 'onnxruntime-node';
import { cosine } from '../../common/vectors';

const PARITY_MEAN = 0.995;
const PARITY_MIN = 0.98;
const IMAGES = 8;

export interface ParityResult {
	images: number;
	mean: number;
	min: number;
	pass: boolean;
}

type Metadata = { name: string; shape?: readonly (number | string)[]; isTensor?: boolean };

/** One generated image, [3, h, w], normalised like CLIP's inputs. */
function generatedImage(i: number, h: number, w: number): Float32Array {
	const out = new Float32Array(3 * h * w);
	const mean = [0.481, 0.458, 0.408];
	const std = [0.269, 0.261, 0.276];
	for (let c = 0; c < 3; c++) {
		for (let y = 0; y < h; y++) {
			for (let x = 0; x < w; x++) {
				const u = x / w;
				const v = y / h;
				let p = 0.5 + 0.35 * Math.sin((i + 1) * 3.1 * u + c * 1.7 + i) * Math.cos((i % 3 + 1) * 2.3 * v - c);
				if ((i & 1) && u > 0.3 && u < 0.7 && v > 0.25 && v < 0.6) {
					p = [0.9, 0.2, 0.1][(c + i) % 3]; // a block of colour
				}
				if (i % 4 === 2 && Math.floor(u * 16) % 2 === 0) {
					p *= 0.4; // stripes
				}
				out[c * h * w + y * w + x] = (Math.min(1, Math.max(0, p)) - mean[c]) / std[c];
			}
		}
	}
	return out;
}

/** Runs both graphs on the generated images and compares their first output row by row. */
export async function checkTwinParity(original: string, twin: string, threads = 1): Promise<ParityResult> {
	const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: threads, graphOptimizationLevel: 'all' };
	const a = await ort.InferenceSession.create(original, options);
	const b = await ort.InferenceSession.create(twin, options);
	try {
		const meta = ((a as unknown as { inputMetadata?: readonly Metadata[] }).inputMetadata ?? []).find(m => m.name === a.inputNames[0]);
		const shape = meta?.shape ?? [];
		const size = (d: number | string | undefined, fallback: number): number => (typeof d === 'number' && d > 0 ? d : fallback);
		const h = size(shape[2], 224);
		const w = size(shape[3], 224);
		const cosines: number[] = [];
		for (let i = 0; i < IMAGES; i++) {
			const feeds = { [a.inputNames[0]]: new ort.Tensor('float32', generatedImage(i, h, w), [1, 3, h, w]) };
			const x = (await a.run(feeds))[a.outputNames[0]].data as Float32Array;
			const y = (await b.run(feeds))[b.outputNames[0]].data as Float32Array;
			cosines.push(cosine(x, y));
		}
		const mean = cosines.reduce((s, c) => s + c, 0) / cosines.length;
		const min = Math.min(...cosines);
		return { images: IMAGES, mean, min, pass: mean >= PARITY_MEAN && min >= PARITY_MIN };
	} finally {
		await a.release();
		await b.release();
	}
}
