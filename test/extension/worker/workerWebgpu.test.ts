/**
 * The extension's inference worker (dist/inferenceWorker.js, as the extension starts it) with the
 * provider set to webgpu, on SwiftShader: it indexes a folder on the GPU and answers a query as the
 * CPU does. Skips, saying why, where SwiftShader is missing.
 */
import { SWIFTSHADER_ICD, swiftShaderMissing } from '../../helpers';

if (!swiftShaderMissing()) {
	process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD; // the worker thread shares this process's environment
}

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { WorkerClient } from '../../../src/extension/worker/workerClient';
import { copyFixtureImages, repoRoot, tempDir } from '../../helpers';
import { testWorkerConfig } from './workerConfig';

const dist = path.join(repoRoot, 'dist');

describe('the inference worker on WebGPU', { skip: swiftShaderMissing() ?? (existsSync(path.join(dist, 'inferenceWorker.js')) ? false : 'needs dist/: run npm run build') }, () => {
	it('indexes on webgpu and answers the query the CPU answers', async () => {
		const root = await tempDir('clip-worker-gpu-');
		await copyFixtureImages(root);
		const tops: string[][] = [];
		for (const provider of ['webgpu', 'cpu'] as const) {
			const cache = await tempDir('clip-worker-gpu-cache-');
			const config = testWorkerConfig(cache, { provider });
			const client = new WorkerClient(dist);
			try {
				await client.configure(config);
				const folder = { root, indexDir: path.join(cache, 'index') };
				const outcome = await client.request('index', { folder });
				assert.equal(outcome.kind, 'done');
				assert.equal(outcome.kind === 'done' && outcome.result.embedded, 32);
				const status = await client.request('status', { folder });
				assert.equal(status?.provider, provider);
				assert.match(status?.providerChoice ?? '', new RegExp(`^${provider} \\(as set\\)`));
				tops.push((await client.request('search', { folder, query: 'a photo of a green star', k: 5 })).results.map(r => r.path));
			} finally {
				await client.dispose();
			}
		}
		assert.equal(tops[0][0], 'green-star.png');
		assert.deepEqual(tops[0], tops[1]);
	});
});
