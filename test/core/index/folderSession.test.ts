import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { FolderSession } from '../../../src/core/index/folderSession';
import { modelCacheDir } from '../../../src/core/model/hub/download';
import { adoptLegacyIndex } from '../../../src/core/index/indexMigration';
import { IndexStore, type ModelStamp } from '../../../src/core/index/indexStore';
import { filesForVariant, findKnownModel } from '../../../src/core/model/hub/modelRegistry';
import { needsDownload } from '../../../src/core/model/hub/modelResolver';
import { l2normalize } from '../../../src/core/common/vectors';
import { tempDir } from '../../helpers';

const stamp: ModelStamp = { key: 'm@r#fp32', id: 'm', revision: 'r', variant: 'fp32', dim: 4 };
const vec = (i: number): Float32Array => l2normalize(Float32Array.from([1 + i, i % 3, 2 - (i % 2), 0.5]));

/** Commits an index of `n` files as another process would (a second window, the CLI). */
async function commitElsewhere(dir: string, root: string, n: number): Promise<void> {
	const store = (await IndexStore.exists(dir)) ? await IndexStore.load(dir) : IndexStore.create(dir, root, stamp);
	for (let i = 0; i < n; i++) {
		store.addEmbedding(`h${i}`, vec(i));
		store.setFile(`f${i}.png`, { size: i, mtimeMs: i, hash: `h${i}` });
	}
	await store.save();
}

/** A live process that is not us, to hold a lock. */
function foreignProcess(): { pid: number; stop: () => void } {
	const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
	return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

describe('FolderSession (one per workspace folder in the worker)', () => {
	const children: { stop: () => void }[] = [];
	after(() => children.forEach(c => c.stop()));

	it('reads nothing before a commit, then the committed index, and reloads when another process commits', async () => {
		const dir = await tempDir();
		const root = await tempDir();
		const logs: string[] = [];
		const session = new FolderSession(root, dir, m => logs.push(m));
		assert.equal(await session.read(), undefined);
		await commitElsewhere(dir, root, 3);
		const first = await session.read();
		assert.equal(first?.files.size, 3);
		assert.equal(await session.read(), first, 'unchanged generation: the same store, not reloaded');
		await commitElsewhere(dir, root, 5);
		const second = await session.read();
		assert.notEqual(second, first);
		assert.equal(second?.files.size, 5);
		assert.ok(logs.some(l => /reloaded the committed index .*generation 2, 5 files/.test(l)), logs.join('\n'));
	});

	it('reads while another live process holds the lock (reading never takes it), and does not write then: it names the holder', async () => {
		const dir = await tempDir();
		const root = await tempDir();
		await commitElsewhere(dir, root, 2);
		const other = foreignProcess();
		children.push(other);
		const since = new Date().toISOString();
		await fs.writeFile(path.join(dir, 'index.lock'), JSON.stringify({ pid: other.pid, host: os.hostname(), since, purpose: 'clip-search index /x' }));
		const session = new FolderSession(root, dir);
		assert.equal((await session.read())?.files.size, 2);
		let ran = false;
		const outcome = await session.write(
			'test',
			async () => IndexStore.create(dir, root, stamp),
			async () => {
				ran = true;
			},
		);
		assert.equal(ran, false);
		assert.deepEqual(outcome, { ok: false, holder: { pid: other.pid, host: os.hostname(), since, purpose: 'clip-search index /x' } });
		assert.equal(JSON.parse(await fs.readFile(path.join(dir, 'index.lock'), 'utf8')).pid, other.pid, 'the holder keeps its lock');
	});

	it('writes under the lock; reads during the write see the store being written; the lock is released after', async () => {
		const dir = await tempDir();
		const root = await tempDir();
		await commitElsewhere(dir, root, 1);
		const session = new FolderSession(root, dir);
		const outcome = await session.write(
			'test',
			async current => current ?? IndexStore.load(dir),
			async store => {
				assert.ok(session.isWriting);
				const lock = JSON.parse(await fs.readFile(path.join(dir, 'index.lock'), 'utf8')) as { pid: number };
				assert.equal(lock.pid, process.pid);
				store.addEmbedding('new', vec(9));
				store.setFile('new.png', { size: 1, mtimeMs: 1, hash: 'new' });
				assert.equal((await session.read())?.files.has('new.png'), true, 'a query during indexing sees what is indexed so far');
				await store.save();
				return 'ok';
			},
		);
		assert.deepEqual(outcome, { ok: true, value: 'ok' });
		await assert.rejects(fs.access(path.join(dir, 'index.lock')));
		assert.equal((await session.read())?.files.size, 2);
	});

	it('a fresh index replacing a committed one commits a newer generation (readers never mistake it)', async () => {
		const dir = await tempDir();
		const root = await tempDir();
		await commitElsewhere(dir, root, 2);
		await commitElsewhere(dir, root, 2);
		const reader = new FolderSession(root, dir);
		assert.equal((await reader.read())?.committedGeneration, 2);
		const fresh = IndexStore.create(dir, root, stamp, (await IndexStore.generationOnDisk(dir)) ?? 0);
		await fresh.save();
		assert.equal(await IndexStore.generationOnDisk(dir), 3);
		assert.equal((await reader.read())?.files.size, 0);
	});
});

describe('adoptLegacyIndex (index moved out of per-window storage)', () => {
	it('moves an old index to the new place once, and leaves an existing new one alone', async () => {
		const root = await tempDir();
		const old = path.join(await tempDir(), 'indexes', 'ws-123');
		const now = path.join(await tempDir(), 'cache', 'indexes', 'ws-123');
		await commitElsewhere(old, root, 4);
		const logs: string[] = [];
		assert.equal(await adoptLegacyIndex([old], now, m => logs.push(m)), old);
		assert.equal((await IndexStore.load(now)).files.size, 4);
		assert.equal(await IndexStore.exists(old), false);
		await commitElsewhere(old, root, 1);
		assert.equal(await adoptLegacyIndex([old], now), undefined, 'the new place already has an index');
		assert.equal((await IndexStore.load(now)).files.size, 4);
	});
});

describe('a model downloaded by an older version (into VS Code storage)', () => {
	it('is moved into the shared cache instead of being downloaded again', async () => {
		const known = findKnownModel('Xenova/clip-vit-base-patch32')!;
		const legacy = await tempDir('clip-legacy-models-');
		const shared = await tempDir('clip-shared-models-');
		const old = modelCacheDir(legacy, known);
		for (const f of filesForVariant(known, 'quantized')) {
			await fs.mkdir(path.dirname(path.join(old, f.path)), { recursive: true });
			await fs.writeFile(path.join(old, f.path), '');
			await fs.truncate(path.join(old, f.path), f.size ?? 1); // sparse: the sizes are what is checked here
		}
		assert.equal(await needsDownload(known.id, { variant: 'quantized', cacheDir: shared }), true, 'not in the shared cache');
		assert.equal(await needsDownload(known.id, { variant: 'quantized', cacheDir: shared, legacyCacheDirs: [legacy] }), false);
		await fs.access(path.join(modelCacheDir(shared, known), 'onnx', 'vision_model_quantized.onnx'));
		await assert.rejects(fs.access(old), 'moved, not copied');
	});
});
