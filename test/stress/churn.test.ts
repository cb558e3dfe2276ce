/**
 * File churn while indexing (npm run test:stress): a few thousand create/change/delete/rename
 * operations run while the indexer runs again and again. Once the churn stops and one more run
 * settles, the catalog equals the file system and every search result exists on disk.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { indexFolder } from '../../src/core/index/indexer';
import { openIndexForWriting } from '../../src/core/index/indexSession';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { search } from '../../src/core/search/search';
import { walkImages } from '../../src/core/index/walker';
import { fixtureImagesDir, tempDir, tinyModelDir } from '../helpers';

const OPS = Number(process.env.CLIP_STRESS_OPS ?? 3000);

describe('churn while indexing', () => {
	it(`ends equal to the file system after ${OPS} operations`, async t => {
		const root = await tempDir('clip-churn-');
		const sources = (await fs.readdir(fixtureImagesDir)).filter(f => f.endsWith('.png')).map(f => path.join(fixtureImagesDir, f));
		const live = new Set<string>();
		let n = 0;
		const fresh = (): string => `d${n % 7}/img-${n++}.png`;
		await Promise.all(Array.from({ length: 7 }, (_, i) => fs.mkdir(path.join(root, `d${i}`))));
		for (let i = 0; i < 100; i++) {
			const rel = fresh();
			await fs.copyFile(sources[i % sources.length], path.join(root, rel));
			live.add(rel);
		}
		const spec = await loadModelSpec(tinyModelDir);
		const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
		const store = await openIndexForWriting(await tempDir('clip-churn-index-'), root, spec);
		let churning = true;
		let runs = 0;
		const indexer = (async () => {
			while (churning) {
				await indexFolder(store, encoder, { batchSize: 8, decodeConcurrency: 2 });
				runs++;
			}
		})();
		const pick = (): string => [...live][Math.floor(Math.random() * live.size)];
		const counts = { create: 0, change: 0, delete: 0, rename: 0 };
		for (let op = 0; op < OPS; op++) {
			const r = Math.random();
			try {
				if (r < 0.3 || live.size < 10) {
					const rel = fresh();
					await fs.copyFile(sources[op % sources.length], path.join(root, rel));
					live.add(rel);
					counts.create++;
				} else if (r < 0.55) {
					const rel = pick();
					// other content, and a distinct mtime
					await fs.copyFile(sources[(op * 7) % sources.length], path.join(root, rel));
					await fs.utimes(path.join(root, rel), new Date(), new Date(Date.now() + op));
					counts.change++;
				} else if (r < 0.8) {
					const rel = pick();
					await fs.rm(path.join(root, rel));
					live.delete(rel);
					counts.delete++;
				} else {
					const rel = pick();
					const to = fresh();
					await fs.rename(path.join(root, rel), path.join(root, to));
					live.delete(rel);
					live.add(to);
					counts.rename++;
				}
			} catch (err) {
				assert.fail(`churn op ${op}: ${String(err)}`);
			}
			if (op % 25 === 0) {
				await new Promise(resolve => setImmediate(resolve));
			}
		}
		churning = false;
		await indexer;
		const final = await indexFolder(store, encoder);
		const onDisk: string[] = [];
		for await (const f of walkImages(root)) {
			onDisk.push(f.rel);
		}
		assert.deepEqual([...store.files.keys()].sort(), onDisk.sort());
		assert.deepEqual(onDisk.sort(), [...live].sort());
		assert.deepEqual(final.failed, []);
		for (const q of ['red circle', 'blue star', 'green cross', 'a photo of a yellow square']) {
			for (const hit of await search(store, encoder, q, { k: 50 })) {
				assert.ok(existsSync(path.join(root, hit.path)), `${hit.path} is a result but not on disk`);
			}
		}
		const hashes = new Set([...store.files.values()].map(e => e.hash));
		assert.equal(store.vectorCount, hashes.size, 'no vectors left for deleted content');
		t.diagnostic(`${OPS} operations (${JSON.stringify(counts)}) during ${runs} index runs; ${live.size} files at the end`);
		await encoder.dispose();
	});
});
