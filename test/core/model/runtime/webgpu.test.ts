/**
 * The GPU path, run for real on a software Vulkan driver (SwiftShader): WebGPU gives the CPU's
 * vectors for every model family and both variants, an index built on it answers as the CPU's does,
 * a device that fails mid-run or on its first batch hands over to the CPU with nothing lost, and
 * `auto` never picks a provider slower than the CPU. Skips, saying why, where SwiftShader is missing.
 */
import { SWIFTSHADER_ICD, swiftShaderMissing } from '../../../helpers';

// Before onnxruntime starts Dawn: the Vulkan loader reads this when WebGPU first starts.
if (!swiftShaderMissing()) {
	process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}

import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { indexFolder } from '../../../../src/core/index/indexer';
import { openIndexForWriting } from '../../../../src/core/index/indexSession';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { chooseAutoProvider, decide } from '../../../../src/core/model/runtime/providerChoice';
import type { ProbeRequest } from '../../../../src/core/model/runtime/providerProbe';
import { softwareVulkanOnly } from '../../../../src/core/model/runtime/providers';
import { type ModelVariant } from '../../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { search } from '../../../../src/core/search/search';
import { copyFixtureImages, cosine, fixtureImagesDir, fixturesDir, tempDir, tinyModelDir } from '../../../helpers';

const FAMILIES = ['tiny-clip', 'tiny-siglip2', 'tiny-siglip-multilingual', 'tiny-mobileclip'];
const TEXTS = ['a photo of a red star', 'a blue circle on a white background', 'ein gelbes Dreieck'];

describe('WebGPU on SwiftShader (a real GPU API, no GPU)', { skip: swiftShaderMissing() ?? false }, () => {
	for (const family of FAMILIES) {
		for (const variant of ['fp32', 'quantized'] as ModelVariant[]) {
			it(`${family} ${variant}: image and text vectors equal the CPU's (cosine ≥ 0.9999)`, async () => {
				const dir = path.join(fixturesDir, family);
				if (variant === 'quantized' && !existsSync(path.join(dir, 'onnx', 'vision_model_quantized.onnx'))) {
					return;
				}
				const spec = await loadModelSpec(dir, { variant });
				const files = (await fs.readdir(fixtureImagesDir)).filter(f => f.endsWith('.png')).slice(0, 6);
				const images = await Promise.all(files.map(async f => decodeImage(f, await fs.readFile(path.join(fixtureImagesDir, f)), spec.preprocess)));
				const cpu = new ClipEncoder(spec, { provider: 'cpu' });
				const gpu = new ClipEncoder(spec, { provider: 'webgpu' });
				try {
					const [a, b] = [await cpu.encodeImages(images), await gpu.encodeImages(images)];
					// [Note: int8 on WebGPU] in encoder.ts: int8 weights run on the CPU, by design and said so.
					const expected = variant === 'fp32' ? 'webgpu' : 'cpu';
					assert.equal(gpu.providersUsed.vision, expected, `it ran on ${expected} (${gpu.providerFailures.join('; ')})`);
					if (variant === 'quantized') {
						assert.match(gpu.providerChoice ?? '', /int8 weights run on the CPU/);
					}
					a.forEach((v, i) => assert.ok(cosine(v, b[i]) >= 0.9999, `${files[i]}: ${cosine(v, b[i])}`));
					for (const t of TEXTS) {
						const c = cosine(await cpu.encodeText(t), await gpu.encodeText(t));
						assert.ok(c >= 0.9999, `"${t}": ${c}`);
					}
					assert.equal(gpu.providersUsed.text, expected);
				} finally {
					await cpu.dispose();
					await gpu.dispose();
				}
			});
		}
	}

	it('an index built on WebGPU answers queries as the CPU-built one does', async () => {
		const spec = await loadModelSpec(tinyModelDir);
		const root = await tempDir('clip-webgpu-');
		await copyFixtureImages(root);
		const answers: string[][][] = [];
		for (const provider of ['cpu', 'webgpu'] as const) {
			const encoder = new ClipEncoder(spec, { provider });
			try {
				const store = await openIndexForWriting(await tempDir('clip-webgpu-index-'), root, spec);
				const result = await indexFolder(store, encoder, { batchSize: 8 });
				assert.equal(result.embedded, 32);
				assert.equal(store.provider, provider);
				answers.push(await Promise.all(['a red star', 'a green triangle', 'a purple cross', 'orange circle'].map(async q => (await search(store, encoder, q, { k: 5 })).map(r => r.path))));
			} finally {
				await encoder.dispose();
			}
		}
		assert.deepEqual(answers[1], answers[0]);
	});

	it('a device lost mid-run, or failing its first batch: the run finishes on the CPU, nothing lost, the log says so', async () => {
		const spec = await loadModelSpec(tinyModelDir);
		for (const failAfter of [2, 0]) {
			const root = await tempDir('clip-webgpu-fault-');
			await copyFixtureImages(root);
			let runs = 0;
			const logs: string[] = [];
			const encoder = new ClipEncoder(spec, {
				provider: 'webgpu',
				cacheDir: await tempDir(),
				log: m => logs.push(m),
				beforeRun: (provider, which) => {
					if (provider === 'webgpu' && which === 'vision' && runs++ >= failAfter) {
						throw new Error('Device lost (injected)');
					}
				},
			});
			try {
				const store = await openIndexForWriting(await tempDir('clip-webgpu-fault-index-'), root, spec);
				const result = await indexFolder(store, encoder, { batchSize: 4 });
				assert.equal(result.embedded, 32, `failAfter ${failAfter}`);
				assert.equal(result.failed.length, 1 - 1); // nothing failed: every batch was embedded
				assert.equal(encoder.providersUsed.vision, 'cpu');
				assert.ok(logs.some(l => /the webgpu execution provider failed while running \(Device lost \(injected\)\); continuing on the CPU/.test(l)), logs.join('\n'));
				assert.match(encoder.providerChoice ?? '', /webgpu failed while running → cpu/);
			} finally {
				await encoder.dispose();
			}
		}
	});

	it('auto skips a software-only Vulkan without measuring it; an explicit webgpu still runs there', async () => {
		assert.deepEqual(softwareVulkanOnly({ VK_ICD_FILENAMES: SWIFTSHADER_ICD }), ['libvk_swiftshader.so']);
		const spec = await loadModelSpec(tinyModelDir);
		let probed = 0;
		const verdict = await chooseAutoProvider({
			files: async () => spec.visionModelPath,
			input: 'pixel_values',
			shape: [1, 3, 64, 64],
			modelKey: 'k',
			variant: 'fp32',
			threads: 2,
			cacheDir: await tempDir(),
			env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD },
			probe: async () => {
				probed++;
				return [];
			},
		});
		assert.equal(probed, 0);
		assert.deepEqual(verdict.order, ['cpu']);
		assert.match(verdict.reason, /software renderers \(libvk_swiftshader\.so\)/);
	});

	it('measured in the child process on this machine: SwiftShader is slower than the CPU, so auto keeps the CPU', async () => {
		// Measurement forced on (a hardware ICD listed beside SwiftShader): the real probe, Dawn's noise in its pipe.
		const spec = await loadModelSpec(tinyModelDir);
		const icd = path.join(await tempDir(), 'pretend-gpu.json');
		await fs.writeFile(icd, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: 'libvulkan_radeon.so', api_version: '1.3.0' } }));
		const cacheDir = await tempDir();
		const options = {
			files: async () => spec.visionModelPath,
			input: 'pixel_values',
			shape: [1, 3, 64, 64] as [number, number, number, number],
			modelKey: 'tiny',
			variant: 'fp32',
			threads: 2,
			cacheDir,
			env: { ...process.env, VK_ICD_FILENAMES: `${SWIFTSHADER_ICD}:${icd}` },
		};
		const verdict = await chooseAutoProvider(options);
		assert.deepEqual(verdict.order, ['cpu'], verdict.reason);
		assert.ok(verdict.measured?.webgpu && verdict.measured.cpu && verdict.measured.webgpu < verdict.measured.cpu, verdict.reason);
		assert.match(verdict.reason, /^webgpu [\d.]+ img\/s vs cpu [\d.]+ img\/s → cpu/);
		// Remembered: the next start measures nothing.
		let probed = 0;
		const again = await chooseAutoProvider({ ...options, probe: async (_r: ProbeRequest) => (probed++, []) });
		assert.equal(probed, 0);
		assert.match(again.reason, /→ cpu.*\(measured \d{4}-\d{2}-\d{2}\)$/);
	});
});

describe('auto keeps the faster provider (decided from measurements)', () => {
	it('picks the GPU only when it measured faster, the CPU on a tie or a failure', () => {
		assert.deepEqual(decide([{ provider: 'webgpu', imagesPerSecond: 1.6 }, { provider: 'cpu', imagesPerSecond: 120 }]), {
			order: ['cpu'],
			reason: 'webgpu 1.6 img/s vs cpu 120 img/s → cpu',
			measured: { webgpu: 1.6, cpu: 120 },
		});
		assert.deepEqual(decide([{ provider: 'webgpu', imagesPerSecond: 480 }, { provider: 'cpu', imagesPerSecond: 120 }]).order, ['webgpu', 'cpu']);
		assert.deepEqual(decide([{ provider: 'webgpu', imagesPerSecond: 120 }, { provider: 'cpu', imagesPerSecond: 120 }]).order, ['cpu']);
		const failed = decide([{ provider: 'webgpu', error: 'webgpu_context.cc:136 … Failed to get a WebGPU adapter: No supported adapters' }, { provider: 'cpu', imagesPerSecond: 90 }]);
		assert.deepEqual(failed.order, ['cpu']);
		assert.equal(failed.reason, 'webgpu did not start (No supported adapters) vs cpu 90 img/s → cpu');
	});

	it('int8 weights stay on the CPU under auto, without starting a GPU provider', async () => {
		let probed = 0;
		const verdict = await chooseAutoProvider({
			files: async () => 'x',
			input: 'pixel_values',
			shape: [1, 3, 8, 8],
			modelKey: 'k',
			variant: 'quantized',
			threads: 1,
			cacheDir: await tempDir(),
			platform: 'linux',
			probe: async () => (probed++, []),
		});
		assert.equal(probed, 0);
		assert.deepEqual(verdict.order, ['cpu']);
		assert.match(verdict.reason, /int8 weights run on the CPU/);
	});
});
