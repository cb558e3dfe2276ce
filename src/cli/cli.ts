/** @file Entry point of the `clip-search` binary (bundled to dist/cli.js). */
import { main } from './main';

main(process.argv.slice(2)).then(
	code => {
		process.exitCode = code;
	},
	err => {
		process.stderr.write(`clip-search: ${String(err)}\n`);
		process.exitCode = 1;
	},
);
