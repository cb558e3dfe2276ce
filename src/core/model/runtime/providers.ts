/**
 * @file Execution-provider choice for ONNX Runtime. `auto` tries the platform's GPU providers in
 * order and falls back to the CPU; every provider that fails to start is logged with its reason,
 * and the one actually used is reported.
 */

import { existsSync, readdirSync } from 'node:fs';
import { readRegularFileSync } from '../../common/confine';
import * as path from 'node:path';

export const PROVIDERS = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;
export type ProviderSetting = (typeof PROVIDERS)[number];
export type ConcreteProvider = Exclude<ProviderSetting, 'auto'>;

export function isProviderSetting(value: string): value is ProviderSetting {
	return (PROVIDERS as readonly string[]).includes(value);
}

/**
 * The providers to try, in order, for a setting on this platform.
 *
 * [Note: auto order] onnxruntime-node ships CPU everywhere, DirectML on Windows, CoreML on macOS,
 * WebGPU on Windows/macOS/Linux x64, and CUDA only when its binaries were installed (they are
 * downloaded by onnxruntime-node's install script, which this project skips by default; see the
 * README). CUDA is faster than WebGPU where both work, so it goes first; WebGPU fails in a few
 * milliseconds on machines without a GPU.
 */
export function providerCandidates(setting: ProviderSetting, platform: NodeJS.Platform = process.platform): ConcreteProvider[] {
	if (setting !== 'auto') {
		return setting === 'cpu' ? ['cpu'] : [setting, 'cpu'];
	}
	switch (platform) {
		case 'win32':
			return ['cuda', 'dml', 'webgpu', 'cpu'];
		case 'darwin':
			return ['coreml', 'webgpu', 'cpu'];
		default:
			return ['cuda', 'webgpu', 'cpu'];
	}
}

/**
 * Why `auto` should not even try a provider on this machine, or undefined to try it.
 *
 * [Note: WebGPU on Linux] onnxruntime-node's WebGPU runs on Dawn over Vulkan. Without the
 * Vulkan loader (libvulkan.so.1) it cannot start, and Dawn prints a warning to stderr on the
 * way; checking for the loader first keeps `auto` quiet on machines without a GPU stack.
 */
export function skipReason(provider: ConcreteProvider, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string | undefined {
	if (provider === 'cuda' && !cudaInstalled(platform)) {
		return 'its binaries are not installed (see the README\'s GPU section)';
	}
	if (provider === 'webgpu' && platform === 'linux') {
		const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/lib64'];
		if (!dirs.some(d => existsSync(`${d}/libvulkan.so.1`))) {
			return 'no Vulkan loader (libvulkan.so.1) found; install your GPU driver\'s Vulkan support to use WebGPU';
		}
		const software = softwareVulkanOnly(env);
		if (software) {
			return `the only Vulkan drivers here are software renderers (${software.join(', ')}), slower than the CPU; set the provider to webgpu to use them anyway`;
		}
	}
	return undefined;
}

/** Whether onnxruntime-node's CUDA provider library is there (its install script, skipped by default, adds it). */
function cudaInstalled(platform: NodeJS.Platform): boolean {
	try {
		const dir = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', platform, process.arch);
		return existsSync(path.join(dir, platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
	} catch {
		return false;
	}
}

const SOFTWARE_ICD = /swiftshader|lvp|lavapipe|llvmpipe/i;

/**
 * The Vulkan drivers (ICD manifests) the loader would use: those VK_ICD_FILENAMES / VK_DRIVER_FILES
 * name, else the standard folders'. Their names when every one is a software renderer, else undefined.
 */
export function softwareVulkanOnly(env: NodeJS.ProcessEnv = process.env, dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d']): string[] | undefined {
	const listed = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean);
	const manifests = listed.length ? listed : dirs.flatMap(d => (existsSync(d) ? readdirSync(d).filter(f => f.endsWith('.json')).map(f => path.join(d, f)) : []));
	const libraries = manifests.map(m => {
		try {
			return (JSON.parse(readRegularFileSync(m, { maxBytes: 64 * 1024, what: 'the Vulkan driver manifest' }).toString('utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? m;
		} catch {
			return m;
		}
	});
	// Hardware drivers (intel, radeon, nvidia…) beside lavapipe make this a GPU machine, even if
	// their hardware is absent: let the measurement decide then.
	return libraries.length && libraries.every(l => SOFTWARE_ICD.test(l)) ? libraries.map(l => path.basename(l)) : undefined;
}
