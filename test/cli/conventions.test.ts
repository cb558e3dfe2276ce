/** The CLI's conventions: --version, help per command, each usage error with its own usage, numbers checked. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers';
import { cli, clip } from './runCli';

describe('clip-search conventions', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	it('--version prints the package version', async () => {
		const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
		const res = await clip(['--version']);
		assert.equal(res.code, 0, res.stderr);
		assert.equal(res.stdout.trim(), version);
	});

	it('help <command> and <command> --help show that command alone, with its options', async () => {
		const help = await clip(['help', 'search']);
		assert.equal(help.code, 0, help.stderr);
		assert.match(help.stdout, /^clip-search search: /);
		assert.match(help.stdout, /-k, --k N +how many results/);
		assert.match(help.stdout, /--min-score S/);
		assert.doesNotMatch(help.stdout, /clip-search index|--classes-file/, 'no other command\'s usage');
		const flag = await clip(['search', '--help']);
		assert.equal(flag.code, 0);
		assert.equal(flag.stdout, help.stdout);
		const overview = await clip(['help']);
		assert.equal(overview.code, 0);
		for (const name of ['index', 'search', 'similar', 'label', 'ocr', 'stats', 'models', 'embed', 'tokenize']) {
			assert.match(overview.stdout, new RegExp(`^  ${name} +\\S`, 'm'), name);
		}
		const unknown = await clip(['help', 'frobnicate']);
		assert.equal(unknown.code, 2);
		assert.match(unknown.stderr, /unknown command "frobnicate"/);
	});

	it('a usage error prints the usage of the command that was asked, not every command', async () => {
		const res = await clip(['search']);
		assert.equal(res.code, 2);
		assert.match(res.stderr, /^clip-search search: search needs a query/);
		assert.match(res.stderr, /Usage: clip-search search "<query>"/);
		assert.doesNotMatch(res.stderr, /clip-search index|clip-search label/);
		const unknownOption = await clip(['stats', '--classes', 'a,b']);
		assert.equal(unknownOption.code, 2);
		assert.match(unknownOption.stderr, /unknown option --classes\./);
		assert.match(unknownOption.stderr, /Usage: clip-search stats/);
	});

	it('numbers are checked, saying what is allowed', async () => {
		const cases: [string[], RegExp][] = [
			[['search', 'cat', '-k', '0'], /-k must be a whole number from 1 to 10000 \(got "0"\)/],
			[['search', 'cat', '-k', '-5'], /-k must be a whole number from 1 to 10000 \(got "-5"\)/],
			[['search', 'cat', '-k', '2.5'], /-k must be a whole number/],
			[['search', 'cat', '-k', 'ten'], /-k must be a whole number/],
			[['search', 'cat', '--min-score', '-3'], /--min-score must be a number from -1 to 1 \(got "-3"\)/],
			[['label', '--classes', 'a,b', '--threshold', '1.5'], /--threshold must be a number from 0 to 1/],
			[['index', '.', '--threads', '0'], /--threads must be a whole number from 1 to 1024/],
		];
		for (const [args, message] of cases) {
			const res = await clip(args, { env: { CLIP_SEARCH_CACHE: '/nonexistent' } });
			assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
			assert.match(res.stderr, message, args.join(' '));
		}
	});

	it('a negative number is a value, not an option (--min-score -0.2)', async () => {
		// No index here: getting past the argument checks to "No index" shows -0.2 was taken as the value.
		const res = await clip(['search', 'cat', '--min-score', '-0.2', '--index', path.join(repoRoot, 'no-such-index')]);
		assert.equal(res.code, 1, res.stderr);
		assert.match(res.stderr, /No index in/);
	});
});
