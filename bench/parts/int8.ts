/**
 * @file Bench part `int8`: the int8 twins (int8Weights.ts, int8Twin.ts): how long making one takes,
 * how fast each kind runs against the uint8 file as downloaded and against fp32, and how close each
 * stays to the uint8 model. Every kind is forced, so every row is measured on any CPU; the CPU's
 * flags stand beside the figures (U8S8 is exact only with VNNI: [Note: U8S8 saturation]).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dot } from '../../src/core/common/vectors';
import type { DecodedImage } from '../../src/core/model/inputs/preprocess';
import { forgetVerified } from '../../src/core/model/files/verifiedFiles';
import { u8s8IsExact } from '../../src/core/model/int8/int8Kernels';
import { fastInt8Model, twinKindFor } from '../../src/core/model/int8/int8Twin';
import { convertMatMulWeights } from '../../src/core/model/int8/int8Weights';
import type { TwinKind } from '../../src/core/model/int8/int8Kernels';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { type ModelSpec } from '../../src/core/model/layouts/modelSpec';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { cpuFlags, median, rows, RUNS, say, timed } from '../common';

/** Making each twin: the conversion alone, and fastInt8Model end to end (cold cache; warm: convert and compare). */
async function conversionFigures(spec: ModelSpec): Promise<void> {
	const file = spec.visionModelPath;
	const mb = (await fs.stat(file)).size / 1e6;
	for (const kind of ['full', 'reduced'] as TwinKind[]) {
		const convert: number[] = [];
		const cold: number[] = [];
		const warm: number[] = [];
		for (let r = 0; r < Math.max(3, RUNS); r++) {
			const bytes = await fs.readFile(file);
			const t = performance.now();
			convertMatMulWeights(bytes, kind, { inPlace: true });
			convert.push(performance.now() - t);
			const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-twin-'));
			const opts = { cacheDir, kernels: kind, env: {} };
			cold.push((await timed(() => fastInt8Model(file, opts))).ms);
			forgetVerified(); // as a later process: the twin checked against the model again
			warm.push((await timed(() => fastInt8Model(file, opts))).ms);
			await fs.rm(cacheDir, { recursive: true, force: true });
		}
		rows.push({
			figure: `1a. int8 ${kind} twin of the vision model (${mb.toFixed(0)} MB): conversion alone / first load (read, convert, write${kind === 'reduced' ? ', check on 8 images' : ''}) / the first load of a later process (read, convert, compare)`,
			value: `${median(convert).toFixed(0)} / ${median(cold).toFixed(0)} / ${median(warm).toFixed(0)} ms`,
			target: 'conversion ≈ 1 s (was 26 s)',
			pass: median(convert) <= 1500,
		});
	}
}

export async function figureInt8Conversion(spec: ModelSpec, images: DecodedImage[]): Promise<void> {
	const flags = cpuFlags();
	say(`int8: this CPU: ${flags}; U8S8 exact: ${await u8s8IsExact()}; auto chooses: ${await twinKindFor({ env: {} })}`);
	await conversionFigures(spec);
	const sample = images.slice(0, 32); // four batches of 8 even with --quick: fewer are too noisy
	const encoders = {
		'uint8 as downloaded': new ClipEncoder(spec, { provider: 'cpu', int8Kernels: 'off', env: {} }),
		'full-range twin': new ClipEncoder(spec, { provider: 'cpu', int8Kernels: 'full', env: {} }),
		'reduced-range twin': new ClipEncoder(spec, { provider: 'cpu', int8Kernels: 'reduced', env: {} }),
		fp32: new ClipEncoder(await loadModelSpec(spec.dir, { variant: 'fp32' }), { provider: 'cpu' }),
	};
	const first: Record<string, Float32Array[]> = {};
	for (const [name, enc] of Object.entries(encoders)) {
		first[name] = await enc.encodeImages(sample.slice(0, 8)); // sessions (and twins) outside the timing
	}
	const rates: Record<string, number[]> = {};
	for (let r = 0; r < Math.max(3, RUNS); r++) {
		for (const [name, enc] of Object.entries(encoders)) {
			const { ms } = await timed(async () => {
				for (let i = 0; i < sample.length; i += 8) {
					await enc.encodeImages(sample.slice(i, i + 8));
				}
			});
			(rates[name] ??= []).push(sample.length / (ms / 1000));
		}
	}
	// Closeness to the uint8 model on every sampled image (the twins' own check uses generated images).
	const cos: Record<string, number[]> = {};
	for (let i = 0; i < sample.length; i += 8) {
		const base = await encoders['uint8 as downloaded'].encodeImages(sample.slice(i, i + 8));
		for (const name of ['full-range twin', 'reduced-range twin', 'fp32'] as const) {
			const v = await encoders[name].encodeImages(sample.slice(i, i + 8));
			base.forEach((b, j) => (cos[name] ??= []).push(dot(b, v[j])));
		}
	}
	// int8 against fp32 for text too (what decides the CLI's default variant).
	const textCos: number[] = [];
	for (const t of ['a photo of a red circle', 'a blue star', 'a diagram with arrows', 'screenshot of a login form', 'yellow triangle', 'a dog on a beach']) {
		textCos.push(dot(await encoders.fp32.encodeText(t), await encoders['uint8 as downloaded'].encodeText(t)));
	}
	for (const enc of Object.values(encoders)) {
		await enc.dispose();
	}
	const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
	const rate = (name: string): number => median(rates[name]);
	const auto = (await twinKindFor({ env: {} })) === 'reduced' ? 'reduced-range twin' : 'full-range twin';
	rows.push({
		figure: `1b. inference only, vision at batch 8 (img/s; ${flags}): uint8 as downloaded / full-range twin / reduced-range twin / fp32`,
		value: `${rate('uint8 as downloaded').toFixed(1)} / ${rate('full-range twin').toFixed(1)} / ${rate('reduced-range twin').toFixed(1)} / ${rate('fp32').toFixed(1)}`,
	});
	rows.push({
		figure: `1b. int8 as auto chooses here (${auto}) against fp32`,
		value: `${(rate(auto) / rate('fp32')).toFixed(2)}×`,
		target: '≥ 1.6×',
		pass: rate(auto) / rate('fp32') >= 1.6,
	});
	rows.push({
		figure: '1b. cosine to the uint8 model, mean / worst: full-range twin; reduced-range twin',
		value: `${mean(cos['full-range twin']).toFixed(5)} / ${Math.min(...cos['full-range twin']).toFixed(5)}; ${mean(cos['reduced-range twin']).toFixed(5)} / ${Math.min(...cos['reduced-range twin']).toFixed(5)}`,
		target: 'reduced ≥ 0.995 / ≥ 0.98 (full: exact only with VNNI)',
		pass: mean(cos['reduced-range twin']) >= 0.995 && Math.min(...cos['reduced-range twin']) >= 0.98,
	});
	rows.push({
		figure: '1c. int8 vs fp32: mean cosine of image / text embeddings',
		value: `${mean(cos.fp32).toFixed(5)} / ${mean(textCos).toFixed(5)}`,
		target: '≥ 0.999 both (CLI default → int8)',
		pass: mean(cos.fp32) >= 0.999 && mean(textCos) >= 0.999,
	});
}
