/**
 * The extension's worker holds only what it uses (issue 29): a window that only reads an index
 * another process wrote loads the text tower for its searches and never the image tower, unless an
 * image not in the index must be embedded; the worker is a process of its own (its memory is its own).
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { WorkerClient } from '../../../src/extension/worker/workerClient';
import { cli, clip } from '../../cli/runCli';
import { copyFixtureImages, fixtureImagesDir, repoRoot, tempDir, tinyModelDir } from '../../helpers';
import { testWorkerConfig } from './workerConfig';

const dist = path.join(repoRoot, 'dist');

describe('the inference worker holds only what it uses', { skip: existsSync(path.join(dist, 'inferenceWorker.js')) && existsSync(cli) ? false : 'needs dist/: run npm run build' }, () => {
	it('reading an index another process wrote: the text tower for searches, the image tower only for an image not in the index', async () => {
		const root = await tempDir('clip-worker-mem-');
		await copyFixtureImages(root);
		const indexDir = await tempDir('clip-worker-mem-index-');
		assert.equal((await clip(['index', root, '--model', tinyModelDir, '--index', indexDir])).code, 0);
		const cache = await tempDir('clip-worker-mem-cache-');
		const client = new WorkerClient(dist);
		try {
			await client.configure(testWorkerConfig(cache, { threads: 1, unloadAfterIdleMinutes: 5 }));
			const folder = { root, indexDir };
			assert.deepEqual({ ...(await client.request('loadedModels', {})), rssBytes: 0 }, { text: false, vision: false, ocr: false, rssBytes: 0 }, 'nothing loaded before it is needed');
			const hits = (await client.request('search', { folder, query: 'a red circle', k: 3 })).results;
			assert.equal(hits.length, 3);
			await client.request('similar', { folder, file: path.join(root, 'red-circle.png'), k: 3 });
			let loaded = await client.request('loadedModels', {});
			assert.deepEqual([loaded.text, loaded.vision], [true, false], 'an indexed image is looked up, not embedded');
			assert.ok(loaded.rssBytes > 0 && loaded.rssBytes !== process.memoryUsage.rss(), 'the worker is a process of its own');
			const fresh = path.join(root, 'new', 'blue.png');
			await fs.mkdir(path.dirname(fresh));
			const bytes = await fs.readFile(path.join(fixtureImagesDir, 'blue-star.png'));
			await fs.writeFile(fresh, Buffer.concat([bytes, Buffer.from('not indexed: other bytes')]));
			await client.request('similar', { folder, file: fresh, k: 3 });
			loaded = await client.request('loadedModels', {});
			assert.deepEqual([loaded.text, loaded.vision], [true, true], 'an image not in the index needs the image tower');
			await client.request('warmText', {});
		} finally {
			await client.dispose();
		}
	});
});
