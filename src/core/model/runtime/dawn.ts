/** @file Dawn (WebGPU's engine in onnxruntime) and the environment it expects. No onnxruntime import: the extension host uses this too. */
import { mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Dawn prints "XDG_RUNTIME_DIR is invalid or not set" to stderr (twice) where that variable is
 * unset (services, containers, CI): give this process a private one first, as a login session would.
 * Call it on the environment a WebGPU process starts with (the worker's, the probe's): a process's environment is its own copy.
 */
export function quietDawn(env: NodeJS.ProcessEnv = process.env): void {
	if (process.platform !== 'linux' || env.XDG_RUNTIME_DIR) {
		return;
	}
	const dir = path.join(os.tmpdir(), `clip-search-runtime-${process.getuid?.() ?? 'user'}`);
	try {
		mkdirSync(dir, { recursive: true, mode: 0o700 });
		env.XDG_RUNTIME_DIR = dir;
	} catch {
		// Dawn's two lines then, nothing worse.
	}
}
