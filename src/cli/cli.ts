/** @file Entry point of the `clip-search` binary (bundled to dist/cli.js). */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { unsupportedPlatform } from '../core/common/platform';
import { lowMemoryEnv } from '../core/model/runtime/idleRelease';

// `clip-search search … | head -1` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
	stream.on('error', (err: NodeJS.ErrnoException) => {
		if (err.code === 'EPIPE') {
			process.exit(process.exitCode ?? 0);
		}
		throw err;
	});
}

const unsupported = unsupportedPlatform();
if (unsupported) {
	process.stderr.write(`clip-search: ${unsupported}\n`);
	process.exit(1);
}

/**
 * [Note: giving memory back] in core/model/runtime/idleRelease.ts: `mcp`, which holds models for hours,
 * runs in a child started with lowMemoryEnv() where this process was not (glibc reads its tunables
 * only at start), so that models released when idle give their memory back. The parent only waits:
 * it passes signals on, and the child's exit code is its own. (`index` stays in one process: a kill
 * of the parent must stop the writer at once, which the crash tests rely on.)
 */
function runInLowMemoryChild(): boolean {
	const env = lowMemoryEnv();
	if (process.argv[2] !== 'mcp' || env === process.env || process.env.CLIP_SEARCH_NO_REEXEC) {
		return false;
	}
	const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...env, CLIP_SEARCH_NO_REEXEC: '1' } });
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.on(signal, () => child.kill(signal));
	}
	child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 1) : 1)));
	return true;
}

if (!runInLowMemoryChild()) {
	// Loaded only now: the engine's native modules would fail to load on the platforms above.
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	(require('./main') as typeof import('./main')).main(process.argv.slice(2)).then(
		code => {
			process.exitCode = code;
		},
		err => {
			process.stderr.write(`clip-search: ${String(err)}\n`);
			process.exitCode = 1;
		},
	);
}
