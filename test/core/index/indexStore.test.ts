import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClipError } from '../../../src/core/common/errors';
import { IndexStore, type ModelStamp } from '../../../src/core/index/indexStore';
import { acquireIndexLock } from '../../../src/core/index/lock';
import { l2normalize } from '../../../src/core/common/vectors';
import { tempDir } from '../../helpers';

const stamp: ModelStamp = { key: 'm@r#fp32', id: 'm', revision: 'r', variant: 'fp32', dim: 8 };

function vec(seed: number): Float32Array {
	const v = new Float32Array(8);
	for (let i = 0; i < 8; i++) {
		v[i] = Math.sin(seed * 7.13 + i * 1.7) + (i === seed % 8 ? 2 : 0);
	}
	return l2normalize(v);
}

describe('IndexStore', () => {
	it('saves and loads files, vectors and labels; search ranks by cosine', async () => {
		const dir = await tempDir();
		const store = IndexStore.create(dir, '/root', stamp);
		for (let i = 0; i < 20; i++) {
			store.addEmbedding(`h${i}`, vec(i));
			store.setFile(`img${i}.png`, { size: i, mtimeMs: 1000 + i, hash: `h${i}` });
		}
		store.setFile('copy-of-3.png', { size: 3, mtimeMs: 5, hash: 'h3' });
		store.setFile('broken.png', { size: 1, mtimeMs: 1, error: 'cannot decode' });
		await store.save();
		const loaded = await IndexStore.load(dir);
		assert.equal(loaded.files.size, 22);
		assert.equal(loaded.vectorCount, 20);
		const hits = loaded.search(vec(3), 3);
		assert.equal(hits[0].label, loaded.labelOf('h3'));
		assert.ok(Math.abs(hits[0].score - 1) < 1e-5);
		assert.deepEqual(loaded.filesOfLabel(hits[0].label), ['copy-of-3.png', 'img3.png']);
		assert.equal(loaded.files.get('broken.png')?.error, 'cannot decode');
	});

	it('reuses the labels of removed vectors, so churn does not grow the graph', async () => {
		const dir = await tempDir();
		const store = IndexStore.create(dir, '/root', stamp);
		for (let round = 0; round < 10; round++) {
			for (let i = 0; i < 50; i++) {
				const hash = `r${round}-${i}`;
				store.addEmbedding(hash, vec(round * 50 + i));
				store.setFile(`f${i}.png`, { size: 1, mtimeMs: round, hash });
			}
			store.collectGarbage();
			await store.save();
		}
		const loaded = await IndexStore.load(dir);
		assert.equal(loaded.vectorCount, 50);
		assert.ok(loaded.graphSize <= 100, `graph holds ${loaded.graphSize} slots for 50 live vectors after 500 inserts`);
		const hits = loaded.search(vec(9 * 50 + 7), 1);
		assert.deepEqual(loaded.filesOfLabel(hits[0].label), ['f7.png']);
		// Deleted vectors never come back in results.
		const all = loaded.search(vec(3), 50);
		assert.equal(all.length, 50);
		assert.ok(all.every(h => loaded.filesOfLabel(h.label).length === 1));
	});

	it('keeps only the committed generation on disk and ignores a crashed writer’s leftovers', async () => {
		const dir = await tempDir();
		const store = IndexStore.create(dir, '/root', stamp);
		store.addEmbedding('a', vec(1));
		store.setFile('a.png', { size: 1, mtimeMs: 1, hash: 'a' });
		await store.save();
		// A writer that died after writing its next generation's catalog but before the manifest.
		await fs.writeFile(path.join(dir, 'catalog-2.json'), '{"half": ');
		await fs.writeFile(path.join(dir, '.manifest.json.123.abcd.tmp'), 'x');
		const loaded = await IndexStore.load(dir);
		assert.equal(loaded.files.size, 1);
		loaded.setFile('b.png', { size: 1, mtimeMs: 1, hash: 'a' });
		await loaded.save();
		const names = (await fs.readdir(dir)).sort();
		assert.deepEqual(names, ['catalog-2.json', 'manifest.json', 'vectors-2.hnsw']);
		assert.equal((await IndexStore.load(dir)).files.size, 2);
	});

	it('reports a missing or corrupt index with a code and the file', async () => {
		const dir = await tempDir();
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'IndexNotFound'));
		await fs.writeFile(path.join(dir, 'manifest.json'), 'not json');
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'IndexCorrupt') && (e as ClipError).file === path.join(dir, 'manifest.json'));
	});

	it('refuses vectors of another dimension', () => {
		const store = IndexStore.create('/tmp/x', '/root', stamp);
		assert.throws(() => store.addEmbedding('x', new Float32Array(4)), (e: unknown) => ClipError.is(e, 'ModelMismatch'));
	});
});

describe('index lock', () => {
	it('lets one writer in and names the holder to the second', async () => {
		const dir = await tempDir();
		const lock = await acquireIndexLock(dir, { purpose: 'test' });
		await assert.rejects(acquireIndexLock(dir, { waitMs: 300 }), (e: unknown) => ClipError.is(e, 'IndexLocked') && new RegExp(`process ${process.pid}`).test((e as Error).message));
		await lock.release();
		const again = await acquireIndexLock(dir);
		await again.release();
	});

	it('takes over a lock left by a process that is gone', async () => {
		const dir = await tempDir();
		const os = await import('node:os');
		await fs.writeFile(path.join(dir, 'index.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), since: 'then', purpose: 'crashed' }));
		const lock = await acquireIndexLock(dir);
		await lock.release();
	});

	it('waits for the holder to finish when asked to', async () => {
		const dir = await tempDir();
		const first = await acquireIndexLock(dir);
		setTimeout(() => void first.release(), 250);
		const second = await acquireIndexLock(dir, { waitMs: 3000 });
		await second.release();
	});
});
