/**
 * The CLI with models of the other families: a SigLIP 2 folder and a MobileCLIP folder index,
 * search and label like CLIP does, with SigLIP's sigmoid probabilities; `models` lists the known ones.
 * The fixtures have random weights: the test checks the plumbing, not what the models recognise.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, fixturesDir, tempDir } from '../helpers';
import { cli, clip } from './runCli';

describe('clip-search with SigLIP 2 and MobileCLIP folders', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let cache: string;
	const env = (): NodeJS.ProcessEnv => ({ CLIP_SEARCH_CACHE: cache });

	before(async () => {
		root = await tempDir('clip-fam-root-');
		await copyFixtureImages(root);
		cache = await tempDir('clip-fam-cache-');
	});

	for (const fixture of ['tiny-siglip2', 'tiny-mobileclip']) {
		it(`${fixture}: index, search, similar and label`, async () => {
			const index = await tempDir('clip-fam-index-');
			const model = path.join(fixturesDir, fixture);
			const indexed = await clip(['index', root, '--model', model, '--index', index, '--provider', 'cpu', '--json'], { env: env() });
			assert.equal(indexed.code, 0, indexed.stderr);
			assert.equal((JSON.parse(indexed.stdout) as { embedded: number }).embedded, 32);
			const hits = JSON.parse((await clip(['search', 'a photo of a purple star', '--index', index, '-k', '5', '--json'], { env: env() })).stdout) as { path: string; score: number }[];
			assert.equal(hits.length, 5);
			assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1].score), 'best first');
			const similar = JSON.parse((await clip(['similar', path.join(root, 'red-circle.png'), '--index', index, '-k', '1', '--json'], { env: env() })).stdout) as { path: string }[];
			assert.equal(similar[0].path, 'copies/red-circle-copy.jpg', 'a re-encoded copy is the nearest image whatever the weights');
			const res = await clip(['label', '--classes', 'circle,square,star', '--index', index, '--json'], { env: env() });
			assert.equal(res.code, 0, res.stderr);
			const labels = JSON.parse(res.stdout) as { scores: Record<string, number> }[];
			assert.equal(labels.length, 32);
			const sums = labels.map(l => Object.values(l.scores).reduce((a, b) => a + b, 0));
			if (fixture === 'tiny-siglip2') {
				assert.ok(sums.some(s => Math.abs(s - 1) > 0.05), 'SigLIP: a sigmoid per class, not a softmax');
			} else {
				assert.ok(sums.every(s => Math.abs(s - 1) < 1e-3), 'CLIP family: a softmax over the classes');
			}
			const stats = JSON.parse((await clip(['stats', '--index', index, '--json'], { env: env() })).stdout) as { model: { dim: number } };
			assert.equal(stats.model.dim, fixture === 'tiny-siglip2' ? 32 : 24);
		});
	}

	it('tokenize pads nothing and applies the family rules (SigLIP: lowercase, end token appended)', async () => {
		const model = path.join(fixturesDir, 'tiny-siglip2');
		const upper = JSON.parse((await clip(['tokenize', '--model', model, 'A RED Circle', '--json'], { env: env() })).stdout) as { ids: number[] };
		const lower = JSON.parse((await clip(['tokenize', '--model', model, 'a red circle', '--json'], { env: env() })).stdout) as { ids: number[] };
		assert.deepEqual(upper.ids, lower.ids);
		assert.equal(upper.ids.at(-1), 1, '<eos> (id 1) appended by the tokenizer’s template');
	});

	it('models lists the known models with variants, sizes, speeds and purposes', async () => {
		const res = await clip(['models', '--json'], { env: env() });
		assert.equal(res.code, 0, res.stderr);
		const { models } = JSON.parse(res.stdout) as { models: { id: string; variant: string; downloadBytes: number; imagesPerSecond?: number; goodFor: string }[] };
		const ids = new Set(models.map(m => m.id));
		for (const id of ['Xenova/clip-vit-base-patch32', 'Xenova/mobileclip_s2', 'onnx-community/siglip2-base-patch16-224-ONNX', 'pulsejet/siglip-base-patch16-256-multilingual-onnx']) {
			assert.ok(ids.has(id), id);
		}
		assert.ok(models.every(m => m.downloadBytes > 0 && m.imagesPerSecond && m.goodFor));
		const text = await clip(['models'], { env: env() });
		assert.match(text.stdout, /SigLIP|siglip2/);
	});
});
