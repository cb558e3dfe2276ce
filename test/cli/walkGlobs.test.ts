/**
 * `clip-search index --include/--exclude` (issue 26): the extension's glob semantics on the command
 * line, the forms people write (./x, x/, /x), remembered by the index like its model.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { cli, clip } from './runCli';

describe('index --include / --exclude', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	it('leaves out what --exclude names (./private/**, vendor/), keeps the globs for the next run, and "" clears them', async () => {
		const root = await tempDir('clip-globs-');
		await copyFixtureImages(root);
		for (const sub of ['private', 'vendor/lib', 'icons']) {
			await fs.mkdir(path.join(root, sub), { recursive: true });
			await fs.copyFile(path.join(root, 'red-star.png'), path.join(root, sub, `${sub.replace('/', '-')}.png`));
		}
		const env = { CLIP_SEARCH_CACHE: await tempDir('clip-globs-cache-') };
		const indexed = async (args: string[]): Promise<string[]> => {
			const res = await clip(['index', root, '--model', tinyModelDir, ...args, '--json'], { env });
			assert.equal(res.code, 0, res.stderr);
			const s = await clip(['search', 'red star', '-k', '100', '--json'], { env, cwd: root });
			return (JSON.parse(s.stdout) as { path: string }[]).map(r => r.path).sort();
		};
		let paths = await indexed(['--exclude', './private/**', '--exclude', 'vendor/']);
		assert.ok(!paths.some(p => p.startsWith('private/') || p.startsWith('vendor/')), paths.join(', '));
		assert.ok(paths.includes('icons/icons.png'));
		paths = await indexed([]);
		assert.ok(!paths.some(p => p.startsWith('private/') || p.startsWith('vendor/')), `remembered: ${paths.join(', ')}`);
		// Narrowing to one folder drops most of the index: said first, applied with --force.
		const warned = await clip(['index', root, '--include', '/icons/**'], { env });
		assert.equal(warned.code, 1);
		assert.match(warned.stderr, /would leave 1 of the 33 indexed images and remove 32; nothing was changed/);
		paths = await indexed(['--include', '/icons/**', '--force']);
		assert.deepEqual(paths, ['icons/icons.png'], 'include anchored at the folder; the excludes kept');
		paths = await indexed(['--include', '', '--exclude', '']);
		assert.ok(paths.includes('private/private.png') && paths.includes('vendor/lib/vendor-lib.png') && paths.length === 35, paths.join(', '));
		const bad = await clip(['index', root, '--model', tinyModelDir, '--exclude', '+(a|b)'], { env });
		assert.equal(bad.code, 1);
		assert.match(bad.stderr, /--exclude: the pattern "\+\(a\|b\)" uses an extended glob/);
	});
});
