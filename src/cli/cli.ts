/** @file Entry point of the `clip-search` binary (bundled to dist/cli.js). */
import { main } from './main';

// `clip-search search … | head -1` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
	stream.on('error', (err: NodeJS.ErrnoException) => {
		if (err.code === 'EPIPE') {
			process.exit(process.exitCode ?? 0);
		}
		throw err;
	});
}

main(process.argv.slice(2)).then(
	code => {
		process.exitCode = code;
	},
	err => {
		process.stderr.write(`clip-search: ${String(err)}\n`);
		process.exitCode = 1;
	},
);
