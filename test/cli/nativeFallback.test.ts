/**
 * When the native index module does not load on a host (too old a glibc, another platform's VSIX):
 * search keeps working with an exact scan of the stored vectors and says why once; indexing is
 * refused with a message that names the module, the host and what is needed.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { cli, clip } from './runCli';

describe('without the native index module', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let index: string;
	before(async () => {
		root = await tempDir('clip-native-');
		await copyFixtureImages(root);
		index = await tempDir('clip-native-index-');
		const res = await clip(['index', root, '--model', tinyModelDir, '--index', index, '--json']);
		assert.equal(res.code, 0, res.stderr);
	});
	const broken = { CLIP_SEARCH_TEST_NO_NATIVE_INDEX: '1' };

	it('search answers as with HNSW (an exact scan), and says why once', async () => {
		for (const query of ['a red star', 'a green triangle', 'a purple cross']) {
			const normal = JSON.parse((await clip(['search', query, '--index', index, '-k', '5', '--json'])).stdout) as { path: string }[];
			const exact = await clip(['search', query, '--index', index, '-k', '5', '--json'], { env: broken });
			assert.equal(exact.code, 0, exact.stderr);
			assert.deepEqual((JSON.parse(exact.stdout) as { path: string }[]).map(h => h.path), normal.map(h => h.path), query);
			assert.match(exact.stderr, new RegExp(`native index module \\(hnswlib-node's addon\\.node\\) cannot be loaded on this ${process.platform}-${process.arch} host${process.platform === 'linux' ? ' \\(glibc [\\d.]+\\)' : ''}.*exact scan`));
			assert.equal(exact.stderr.trim().split('\n').length, 1);
		}
	});

	it('indexing is refused with that message, and the index is left as it was', async () => {
		const res = await clip(['index', root, '--index', index, '--json'], { env: broken });
		assert.equal(res.code, 0, 'nothing changed, so nothing needed the module');
		const fresh = await clip(['index', root, '--model', tinyModelDir, '--index', await tempDir(), '--json'], { env: broken });
		assert.equal(fresh.code, 1);
		assert.match(fresh.stderr, /cannot be loaded.*\[NativeModuleUnavailable\]/);
		const after = await clip(['search', 'a red star', '--index', index, '-k', '1', '--json']);
		assert.equal(JSON.parse(after.stdout)[0].path, 'red-star.png');
	});
});
