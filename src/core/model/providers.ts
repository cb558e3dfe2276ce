/**
 * @file Execution-provider choice for ONNX Runtime. `auto` tries the platform's GPU providers in
 * order and falls back to the CPU; every provider that fails to start is logged with its reason,
 * and the one actually used is reported.
 */

import { existsSync } from 'node:fs';

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
	if (provider === 'webgpu' && platform === 'linux') {
		const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/lib64'];
		if (!dirs.some(d => existsSync(`${d}/libvulkan.so.1`))) {
			return 'no Vulkan loader (libvulkan.so.1) found; install your GPU driver\'s Vulkan support to use WebGPU';
		}
	}
	return undefined;
}
