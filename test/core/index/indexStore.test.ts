import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClipError } from '../../../src/core/common/errors';
import { claimIndexDir } from '../../../src/core/index/indexDir';
import { IndexStore, type ModelStamp } from '../../../src/core/index/indexStore';
import * as os from 'node:os';
import { acquireIndexLock, currentLockHolder, LOCK_REFRESH_MS, LOCK_STALE_MS } from '../../../src/core/index/lock';
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
		await fs.writeFile(path.join(dir, '.manifest.json.123.abcd0123.tmp'), 'x');
		await fs.writeFile(path.join(dir, 'notes.tmp'), 'not ours: kept');
		const loaded = await IndexStore.load(dir);
		assert.equal(loaded.files.size, 1);
		loaded.setFile('b.png', { size: 1, mtimeMs: 1, hash: 'a' });
		await loaded.save();
		const names = (await fs.readdir(dir)).sort();
		assert.deepEqual(names, ['.clip-search-index', 'catalog-2.json', 'manifest.json', 'notes.tmp', 'vectors-2.hnsw']);
		assert.equal((await IndexStore.load(dir)).files.size, 2);
	});

	it('reports a missing or corrupt index with a code and the file', async () => {
		const dir = await tempDir();
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'IndexNotFound'));
		await claimIndexDir(dir);
		await fs.writeFile(path.join(dir, 'manifest.json'), 'not json');
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'IndexCorrupt') && (e as ClipError).file === path.join(dir, 'manifest.json'));
		await fs.rm(path.join(dir, '.clip-search-index'));
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'NotAnIndex'), 'unmarked, with a manifest not of ours: not an index of ours');
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
		await fs.writeFile(path.join(dir, 'index.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), since: '2020-01-01T00:00:00.000Z', purpose: 'crashed' }));
		const lock = await acquireIndexLock(dir);
		await lock.release();
	});

	it('a lock with a pid that is not a positive whole number, or not of our shape, is stale', async () => {
		const os = await import('node:os');
		for (const planted of [{ pid: -1 }, { pid: 0 }, { pid: 1.5 }, { pid: '77' }, {}, 'not json']) {
			const dir = await tempDir();
			const body = typeof planted === 'string' ? planted : JSON.stringify({ host: os.hostname(), since: new Date().toISOString(), purpose: 'planted', ...planted });
			await fs.writeFile(path.join(dir, 'index.lock'), body);
			const lock = await acquireIndexLock(dir);
			await lock.release();
		}
	});

	it("another host's lock goes stale when its holder stops refreshing it; the message names host, age and how to break it (injected clock)", async () => {
		let now = Date.parse('2026-12-01T12:00:00.000Z');
		const timers: (() => void)[] = [];
		const clock = { now: () => now, every: (_ms: number, fn: () => void) => (timers.push(fn), () => undefined) };
		const dir = await tempDir();
		const other = { pid: 4242, host: 'build-agent-7', since: new Date(now - 60 * 60_000).toISOString(), updated: new Date(now - 60_000).toISOString(), purpose: 'clip-search index /shared' };
		await fs.writeFile(path.join(dir, 'index.lock'), JSON.stringify(other));
		await assert.rejects(acquireIndexLock(dir, { clock }), (e: unknown) => ClipError.is(e, 'IndexLocked') && /process 4242 on build-agent-7 .*last seen working 60 s ago.*If nothing on build-agent-7 is indexing, the lock goes stale 5 min after its last sign of work, or delete .*index\.lock/.test((e as Error).message));
		assert.equal((await currentLockHolder(dir, clock))?.host, 'build-agent-7');
		now += LOCK_STALE_MS; // no refresh since
		assert.equal(await currentLockHolder(dir, clock), undefined);
		const lock = await acquireIndexLock(dir, { clock });
		// Our holder refreshes its time while it works, so that other hosts see it alive.
		const first = JSON.parse(await fs.readFile(path.join(dir, 'index.lock'), 'utf8')) as { updated: string; host: string };
		assert.equal(first.host, os.hostname());
		now += LOCK_REFRESH_MS;
		assert.equal(timers.length, 1);
		timers[0]();
		await new Promise(resolve => setTimeout(resolve, 50));
		const second = JSON.parse(await fs.readFile(path.join(dir, 'index.lock'), 'utf8')) as { updated: string };
		assert.equal(Date.parse(second.updated) - Date.parse(first.updated), LOCK_REFRESH_MS);
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
