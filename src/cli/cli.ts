/** @file Entry point of the `clip-search` binary (bundled to dist/cli.js). */
import { unsupportedPlatform } from '../core/common/platform';
import { type Execve, reexecWithLowMemoryEnv } from './lowMemoryExec';

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

// [Note: giving memory back] `mcp` becomes the same command with the allocator setting, in this process.
reexecWithLowMemoryEnv(process.argv, process.env, (process as unknown as { execve?: Execve }).execve);
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
