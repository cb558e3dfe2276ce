/**
 * [Note: exact answers] (src/core/index/exactBlock.ts), issue 34 item 2: a 20,032-image folder whose
 * best image a second window missed. The 32 fixture shapes go into an index first (as a walk puts a
 * folder's own files before its subfolders), then 20,000 vectors spread like those of random-pixel
 * images (seeded: the distribution of the tiny model's vectors of 64×64 noise PNGs). The graph at
 * ef 100 ranked noise first for this seed; every search must now give the exact top, with and
 * without a filter, and past the exact block's budget the graph's floor (ef 200) still finds it.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promises as fs } from 'node:fs';
import { IndexStore } from '../../../src/core/index/indexStore';
import { ClipEncoder } from '../../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../src/core/model/inputs/preprocess';
import { cachedPassingSet, topK } from '../../../src/core/search/filteredSearch';
import { fixtureImagesDir, tempDir, tinyModelDir } from '../../helpers';

// The per-dimension mean and spread of the tiny model's vectors of 64×64 random-pixel PNGs.
const MEAN = [-0.2851, -0.1559, 0.2571, 0.1471, -0.0472, 0.1219, 0.1342, 0.1354, -0.2899, -0.0974, 0.0087, -0.0243, -0.0491, -0.0088, -0.2725, -0.2476, -0.0637, -0.0722, -0.0815, -0.0744, 0.1273, -0.2163, 0.0439, 0.0442, -0.1993, -0.0202, -0.1144, -0.0141, 0.0029, -0.0948, -0.3801, -0.0719];
const SD = [0.1359, 0.0543, 0.112, 0.0964, 0.0709, 0.0577, 0.0834, 0.0623, 0.063, 0.0764, 0.0784, 0.0969, 0.0834, 0.0758, 0.0559, 0.0595, 0.0847, 0.107, 0.0811, 0.0632, 0.1063, 0.103, 0.0897, 0.078, 0.072, 0.0904, 0.0544, 0.0638, 0.1072, 0.0743, 0.083, 0.0631];

function noise(seed: number, n: number): Float32Array[] {
	let s = seed;
	const rnd = (): number => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
	const gauss = (): number => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
	return Array.from({ length: n }, () => {
		const v = MEAN.map((m, d) => m + SD[d] * gauss());
		const norm = Math.hypot(...v);
		return Float32Array.from(v, x => x / norm);
	});
}

describe('searches give the exact top (issue 34, item 2)', () => {
	let shapes: { name: string; vector: Float32Array }[];
	let query: Float32Array;
	const budget = IndexStore.exactBlockBytes;
	before(async () => {
		const spec = await loadModelSpec(tinyModelDir);
		const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
		const names = (await fs.readdir(fixtureImagesDir)).filter(n => n.endsWith('.png')).sort();
		shapes = [];
		for (const name of names) {
			const file = path.join(fixtureImagesDir, name);
			const [vector] = await encoder.encodeImages([await decodeImage(file, { path: file }, spec.preprocess)]);
			shapes.push({ name, vector });
		}
		[query] = await encoder.encodeTexts(['a photo of a yellow triangle']);
		await encoder.dispose();
	});
	after(() => {
		IndexStore.exactBlockBytes = budget;
	});

	const build = async (seed: number, n: number): Promise<{ store: IndexStore; exact: string }> => {
		const store = IndexStore.create(await tempDir('clip-exact-'), '/nowhere', { key: 'tiny', id: 'tiny', revision: 'r', variant: 'fp32', dim: 32 });
		for (const s of shapes) {
			store.addEmbedding(s.name, s.vector);
			store.setFile(s.name, { size: 1, mtimeMs: 1, hash: s.name });
		}
		noise(seed, n).forEach((v, i) => {
			store.addEmbedding(`noise-${i}`, v);
			store.setFile(`noise/${i}.png`, { size: 1, mtimeMs: 1, hash: `noise-${i}` });
		});
		let best = { name: '', score: -2 };
		for (const { hash, vector } of store.vectors()) {
			const score = vector.reduce((a, x, d) => a + x * query[d], 0);
			if (score > best.score) {
				best = { name: hash, score };
			}
		}
		return { store, exact: best.name };
	};
	const top = (store: IndexStore, k = 8): string[] => store.search(query, k).map(h => store.filesOfLabel(h.label)[0]);

	it('20,032 vectors within the exact budget: the search is the exact scan, with or without a filter', async () => {
		const { store, exact } = await build(8, 20_000);
		assert.equal(exact, 'yellow-triangle.png');
		assert.ok(store.exact, 'the index is searched exactly');
		assert.equal(top(store)[0], 'yellow-triangle.png');
		const everything = cachedPassingSet(store, 'all', () => true);
		assert.equal(store.filesOfLabel(topK(store, query, 8, everything)[0].label)[0], 'yellow-triangle.png');
		const onlyNoise = cachedPassingSet(store, 'noise', rel => rel.startsWith('noise/'));
		assert.ok(topK(store, query, 8, onlyNoise).every(h => store.filesOfLabel(h.label)[0].startsWith('noise/')));
	});

	it('the block follows removals and reuse of labels, and survives a save and load', async () => {
		const { store } = await build(8, 2_000);
		store.removeFile('yellow-triangle.png');
		store.collectGarbage();
		assert.notEqual(top(store)[0], 'yellow-triangle.png');
		store.addEmbedding('yellow-triangle.png', shapes.find(s => s.name === 'yellow-triangle.png')!.vector);
		store.setFile('yellow-triangle.png', { size: 1, mtimeMs: 1, hash: 'yellow-triangle.png' });
		assert.equal(top(store)[0], 'yellow-triangle.png');
		await store.save();
		const loaded = await IndexStore.load(store.dir);
		assert.ok(loaded.exact);
		assert.deepEqual(top(loaded, 20), top(store, 20));
	});

	it('past the budget the graph answers at ef 200 at least, with or without a filter', async () => {
		IndexStore.exactBlockBytes = 1024;
		try {
			const { store, exact } = await build(4, 10_000);
			assert.equal(exact, 'yellow-triangle.png');
			assert.equal(store.exact, false, 'the graph answers');
			assert.equal(top(store)[0], 'yellow-triangle.png', 'ef 100 ranked noise first here');
			// The filtered path walks the graph with the same floor, so it finds the same best image.
			const everything = cachedPassingSet(store, 'all', () => true);
			assert.equal(store.filesOfLabel(topK(store, query, 8, everything)[0].label)[0], 'yellow-triangle.png');
		} finally {
			IndexStore.exactBlockBytes = budget;
		}
	});
});
