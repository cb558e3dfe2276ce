/**
 * The extension's inference worker (dist/inferenceWorker.js) with clipSearch.store set: background
 * indexing pulls what CI pushed (clip-search index --push) and embeds nothing, the log says how many
 * came from the store, and a store that cannot be reached is one warning while indexing goes on.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkerClient } from '../../../src/extension/worker/workerClient';
import type { EventMessage, WorkerConfig } from '../../../src/extension/worker/protocol';
import { cli, clip } from '../../cli/runCli';
import { copyFixtureImages, repoRoot, tempDir, tinyModelDir } from '../../helpers';
import { startPostgres, type TestPostgres } from '../../pglite';
import { testWorkerConfig } from './workerConfig';

const dist = path.join(repoRoot, 'dist');

describe('the inference worker with a team store', { skip: existsSync(path.join(dist, 'inferenceWorker.js')) && existsSync(cli) ? false : 'needs dist/: run npm run build' }, () => {
	let db: TestPostgres;
	let pushed: number;
	before(async () => {
		db = await startPostgres();
		const root = await tempDir('clip-worker-team-ci-');
		await copyFixtureImages(root);
		const ci = await clip(['index', root, '--model', tinyModelDir, '--index', await tempDir('clip-worker-team-ci-index-'), '--store', db.url, '--push', '--json'], { env: { CLIP_SEARCH_CACHE: await tempDir('clip-worker-team-ci-cache-') } });
		assert.equal(ci.code, 0, ci.stderr);
		pushed = (JSON.parse(ci.stdout) as { pushed: number }).pushed;
	});
	after(async () => {
		await db?.stop();
	});

	const indexWith = async (store: WorkerConfig['store'], thenChanged?: string) => {
		const root = await tempDir('clip-worker-team-');
		await copyFixtureImages(root);
		const cache = await tempDir('clip-worker-team-cache-');
		const client = new WorkerClient(dist);
		const logs: EventMessage[] = [];
		client.onEvent(e => e.type === 'log' && logs.push(e));
		try {
			await client.configure(testWorkerConfig(cache, { store }));
			const folder = { root, indexDir: path.join(cache, 'index') };
			const outcome = await client.request('index', { folder });
			assert.equal(outcome.kind, 'done');
			if (thenChanged) {
				// A watcher batch right after: it goes without the store rather than waiting on it again.
				await fs.copyFile(path.join(root, 'red-star.png'), path.join(root, thenChanged));
				const again = await client.request('index', { folder, paths: [thenChanged] });
				assert.equal(again.kind === 'done' && again.result.reused, 1);
			}
			const hits = (await client.request('search', { folder, query: 'a photo of a purple star', k: 1 })).results;
			return { result: outcome.kind === 'done' ? outcome.result : undefined, logs: logs.map(l => `${l.type === 'log' ? l.level : ''} ${l.type === 'log' ? l.message : ''}`), top: hits[0]?.path };
		} finally {
			await client.dispose();
		}
	};

	it('pulls what CI pushed, embeds nothing, searches at once, and says how many came from the store', async () => {
		const { result, logs, top } = await indexWith({ url: db.url, password: 'from-secret-storage' });
		assert.equal(result?.embedded, 0);
		assert.equal(result?.pulled, pushed);
		assert.equal(top, 'purple-star.png');
		assert.ok(logs.some(l => new RegExp(`^info index .*: 32 images, 0 embedded, ${pushed} pulled from the team store`).test(l)), logs.join('\n'));
		assert.ok(!logs.some(l => l.includes('from-secret-storage')), 'the password is never logged');
	});

	it('a store that cannot be reached: one warning, the folder is indexed here, and the next watcher batch does not wait on it again', async () => {
		const { result, logs, top } = await indexWith({ url: 'postgres://dev@127.0.0.1:9/assets' }, 'red-star-copy.png');
		assert.equal(result?.embedded! + result?.reused!, 32);
		assert.equal(result?.pulled, undefined);
		assert.equal(top, 'purple-star.png');
		assert.deepEqual(logs.filter(l => l.startsWith('warn')), ['warn team store: cannot reach the team store at 127.0.0.1:9 (ECONNREFUSED); indexing goes on here without it (tried again at the next full scan, or in 5 minutes)']);
	});
});
