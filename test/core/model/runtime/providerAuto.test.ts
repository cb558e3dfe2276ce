/**
 * `auto` on every layout (issue 34, item 12): the measurement feeds the image graph by the name the
 * layout's graph has (transformers.js pixel_values, rclip input, Immich image). It was always
 * pixel_values, so for rclip and Immich folders the CPU "did not start" in the probe, ~4 s went on
 * every fresh cache, and a GPU could never be chosen for them. A GPU is made a candidate here with a
 * stand-in driver manifest; the CPU is measured by the real probe child.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { runProbe } from '../../../../src/core/model/runtime/providerChoice';
import type { ProbeRequest } from '../../../../src/core/model/runtime/providerProbe';
import { ensureRclipMerges, fixtureImagesDir, fixturesDir, tempDir } from '../../../helpers';

const LAYOUTS: [string, string][] = [
	['tiny-clip', 'pixel_values'],
	['tiny-siglip2', 'pixel_values'],
	['tiny-immich-clip', 'image'],
	['tiny-immich-siglip2', 'image'],
	['tiny-rclip', 'input'],
];

/** An environment in which WebGPU is worth measuring on Linux: a Vulkan loader and a hardware driver's manifest (neither is loaded: the probe is a stand-in for it). */
async function gpuLikeEnv(): Promise<NodeJS.ProcessEnv> {
	const dir = await tempDir('clip-auto-env-');
	await fs.writeFile(path.join(dir, 'libvulkan.so.1'), '');
	await fs.writeFile(path.join(dir, 'gpu_icd.json'), JSON.stringify({ ICD: { library_path: 'libvulkan_somegpu.so' } }));
	return { ...process.env, LD_LIBRARY_PATH: dir, VK_ICD_FILENAMES: path.join(dir, 'gpu_icd.json') };
}

describe('auto measures every layout with its own input name (issue 34, item 12)', { skip: process.platform === 'linux' ? false : 'the stand-in driver is a Linux Vulkan manifest' }, () => {
	for (const [name, input] of LAYOUTS) {
		it(`${name}: the probe is asked with "${input}" and the CPU is measured`, { skip: name === 'tiny-rclip' ? ensureRclipMerges() : false }, async () => {
			const spec = await loadModelSpec(path.join(fixturesDir, name));
			const asked: ProbeRequest[] = [];
			const logs: string[] = [];
			const encoder = new ClipEncoder(spec, {
				provider: 'auto',
				threads: 1,
				cacheDir: await tempDir('clip-auto-cache-'),
				env: await gpuLikeEnv(),
				log: m => logs.push(m),
				// The GPU is the stand-in's (it does not start); the CPU runs in the real probe child.
				probe: async request => {
					asked.push(request);
					const cpu = request.files.cpu ? await runProbe({ ...request, files: { cpu: request.files.cpu } }) : [];
					return [...cpu, ...Object.keys(request.files).filter(p => p !== 'cpu').map(provider => ({ provider, error: 'No supported adapters' }))];
				},
			});
			try {
				const file = path.join(fixtureImagesDir, 'red-circle.png');
				const [vector] = await encoder.encodeImages([await decodeImage(file, { path: file }, spec.preprocess)]);
				assert.equal(vector.length, spec.dim);
				assert.equal(asked.length, 1, 'measured once');
				assert.equal(asked[0].input, input);
				assert.ok(asked[0].files.webgpu, 'WebGPU was a candidate');
				assert.match(encoder.providerChoice ?? '', /cpu \d+ img\/s → cpu/, logs.join('\n'));
				assert.doesNotMatch(logs.join('\n'), /cpu did not start|is missing in 'feeds'/);
			} finally {
				await encoder.dispose();
			}
		});
	}
});
