/**
 * @file Execution-provider choice for ONNX Runtime. `auto` tries the platform's GPU providers in
 * order and falls back to the CPU; every provider that fails to start is logged with its reason,
 * and the one actually used is reported.
 */

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
