import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ClipEncoder } from '../../../src/core/model/runtime/encoder';
import { indexFolder } from '../../../src/core/index/indexer';
import { type IndexProgress } from '../../../src/core/index/indexRun';
import { IndexStore, RETAIN_REMOVED_MS } from '../../../src/core/index/indexStore';
import { openIndexForWriting, stampOf } from '../../../src/core/index/indexSession';
import { type ModelSpec } from '../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../src/core/model/layouts/loadModelSpec';
import { walkImages } from '../../../src/core/index/walker';
import { copyFixtureImages, tempDir, tinyModelDir } from '../../helpers';

describe('indexFolder', () => {
	let spec: ModelSpec;
	let encoder: ClipEncoder;
	before(async () => {
		spec = await loadModelSpec(tinyModelDir);
		encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 2 });
	});
	after(() => encoder.dispose());

	const setup = async () => {
		const root = await tempDir('clip-root-');
		await copyFixtureImages(root);
		const indexDir = await tempDir('clip-index-');
		return { root, indexDir, open: () => openIndexForWriting(indexDir, root, spec) };
	};

	it('embeds new images, then nothing on an unchanged folder', async () => {
		const { root, open } = await setup();
		const progress: IndexProgress[] = [];
		const first = await indexFolder(await open(), encoder, { batchSize: 8, onProgress: p => progress.push(p) });
		assert.equal(first.scanned, 32);
		assert.equal(first.embedded + first.reused, 32);
		assert.deepEqual(first.failed, []);
		assert.equal(progress.at(-1)?.phase, 'done');
		assert.ok(progress.some(p => p.phase === 'embedding' && p.done > 0 && p.imagesPerSecond > 0));
		const second = await indexFolder(await open(), encoder);
		assert.deepEqual(
			{ ...second, seconds: 0 },
			{ scanned: 32, embedded: 0, reused: 0, removed: 0, failed: [], seconds: 0, cancelled: false, incremental: false, totalFiles: 32, totalFailed: 0, changed: [] },
		);
		const store = await IndexStore.load((await open()).dir);
		assert.equal(store.root, root);
	});

	it('lists a file whose name is not valid UTF-8 among the failures, with the reason; the rest are indexed; the next run is quiet', { skip: process.platform === 'linux' ? false : 'names as raw bytes are a Linux file-system feature' }, async () => {
		const { root, open } = await setup();
		const bytes = await fs.readFile(path.join(root, 'red-circle.png'));
		await fs.writeFile(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x66, 0xff, 0x6f, 0x2e, 0x70, 0x6e, 0x67])]), bytes); // "f\xffo.png"
		const first = await indexFolder(await open(), encoder);
		assert.equal(first.failed.length, 1, JSON.stringify(first.failed));
		assert.equal(first.failed[0].path, 'f\ufffdo.png');
		assert.match(first.failed[0].error, /f\ufffdo\.png: the file name is not valid UTF-8 \(bytes 66 ff 6f 2e 70 6e 67\); rename it/);
		assert.equal(first.embedded + first.reused, 32);
		const second = await indexFolder(await open(), encoder);
		assert.deepEqual([second.failed.length, second.embedded, second.totalFailed], [0, 0, 1], 'still listed in the index as failed, not tried again');
	});

	it('a file rewritten in place is embedded when its content is new, and reused when another file has that content', async () => {
		// The bench's "one file changed" row once read 0: its solid colour repeated another file's.
		const { root, open } = await setup();
		await indexFolder(await open(), encoder);
		const target = path.join(root, 'red-star.png');
		await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toFile(target);
		const fresh = await indexFolder(await open(), encoder);
		assert.deepEqual({ embedded: fresh.embedded, reused: fresh.reused, changed: fresh.changed }, { embedded: 1, reused: 0, changed: ['red-star.png'] });
		await fs.copyFile(path.join(root, 'blue-cross.png'), target);
		const repeated = await indexFolder(await open(), encoder);
		assert.deepEqual({ embedded: repeated.embedded, reused: repeated.reused, changed: repeated.changed }, { embedded: 0, reused: 1, changed: ['red-star.png'] });
	});

	it('reuses vectors for renamed, moved and duplicated files and forgets deleted ones', async () => {
		const { root, open } = await setup();
		await indexFolder(await open(), encoder);
		await fs.mkdir(path.join(root, 'moved'));
		await fs.rename(path.join(root, 'red-star.png'), path.join(root, 'moved', 'renamed-star.png'));
		await fs.copyFile(path.join(root, 'blue-cross.png'), path.join(root, 'blue-cross-dup.png'));
		await fs.rm(path.join(root, 'green-square.png'));
		const result = await indexFolder(await open(), encoder);
		assert.equal(result.embedded, 0, 'nothing is embedded again');
		assert.equal(result.reused, 2);
		assert.equal(result.removed, 2); // red-star.png (moved) and green-square.png
		const store = await IndexStore.load((await open()).dir);
		assert.ok(store.files.has('moved/renamed-star.png'));
		assert.ok(!store.files.has('green-square.png'));
		assert.equal([...store.vectors()].length, 31, '32 distinct images, one deleted; the duplicate and the renamed file share vectors');
		// [Note: what left the index]: the deleted image's content is remembered for a while, then dropped.
		const gone = store.removedFile('green-square.png');
		assert.ok(gone && store.hasEmbedding(gone.hash), 'kept for a while');
		assert.equal(store.removedFile('red-star.png')?.hash, store.files.get('moved/renamed-star.png')?.hash, 'a move is remembered with its content');
		assert.equal(store.vectorCount, 32);
		assert.equal(store.collectGarbage(gone.at + RETAIN_REMOVED_MS + 1), 1);
		assert.equal(store.vectorCount, 31);
		assert.equal(store.removedFile('green-square.png'), undefined);
	});

	it('globs changed and changed back: the images they dropped are reused, not embedded again', async () => {
		const { open } = await setup();
		await indexFolder(await open(), encoder);
		const narrow = await indexFolder(await open(), encoder, { include: ['copies/**'] });
		assert.ok(narrow.removed >= 30, `${narrow.removed} removed`);
		const back = await indexFolder(await open(), encoder, { include: [] });
		assert.equal(back.embedded, 0, 'every vector was kept');
		assert.ok(back.reused >= 30);
	});

	it('records an undecodable file with its error and goes on; fixes itself when the file is fixed', async () => {
		const { root, open } = await setup();
		await fs.writeFile(path.join(root, 'broken.png'), 'not a png at all');
		await fs.writeFile(path.join(root, 'empty.jpg'), '');
		const result = await indexFolder(await open(), encoder);
		assert.equal(result.embedded + result.reused, 32);
		assert.deepEqual(
			result.failed.map(f => f.path),
			['broken.png', 'empty.jpg'],
		);
		assert.match(result.failed[0].error, /broken\.png/);
		const store = await IndexStore.load((await open()).dir);
		assert.match(store.files.get('empty.jpg')?.error ?? '', /empty/);
		await fs.copyFile(path.join(root, 'red-square.png'), path.join(root, 'broken.png'));
		const again = await indexFolder(await open(), encoder);
		assert.deepEqual(
			again.failed.map(f => f.path),
			[],
			'the fixed file is indexed, the unchanged empty one is not retried',
		);
	});

	it('can be cancelled and resumes where it stopped', async () => {
		const { open } = await setup();
		const controller = new AbortController();
		const first = await indexFolder(await open(), encoder, {
			batchSize: 4,
			decodeConcurrency: 1,
			signal: controller.signal,
			onProgress: p => {
				if (p.done >= 8) {
					controller.abort();
				}
			},
		});
		assert.equal(first.cancelled, true);
		const saved = await IndexStore.load((await open()).dir);
		assert.ok(saved.files.size >= 8 && saved.files.size < 32, `saved ${saved.files.size} files`);
		const second = await indexFolder(await open(), encoder);
		assert.equal(second.cancelled, false);
		assert.equal(second.embedded + second.reused, 32 - saved.files.size);
		assert.equal((await IndexStore.load((await open()).dir)).files.size, 32);
	});

	it('starts again with a different model instead of mixing vectors', async () => {
		const { indexDir, root, open } = await setup();
		await indexFolder(await open(), encoder);
		const q = await loadModelSpec(tinyModelDir, { variant: 'quantized' });
		const messages: string[] = [];
		const store = await openIndexForWriting(indexDir, root, q, m => messages.push(m));
		assert.equal(store.files.size, 0);
		assert.equal(store.model.key, stampOf(q).key);
		assert.match(messages[0], /model changed/);
	});

	const catalog = (store: IndexStore): string[] => [...store.files.keys()].sort();

	it('adds, changes and removes only what the paths name, and ends where a full walk would', async () => {
		const root = await tempDir('clip-inc-');
		await copyFixtureImages(root);
		const store = await openIndexForWriting(await tempDir('clip-inc-index-'), root, spec);
		await indexFolder(store, encoder);
		// Changes: a new file, a changed file, a deleted file, a deleted folder, a folder moved in,
		// a file in an ignored folder, and a path that is not there at all.
		await fs.copyFile(path.join(root, 'red-star.png'), path.join(root, 'red-star-2.png'));
		await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 200, b: 90 } } })
			.png()
			.toFile(path.join(root, 'green-circle.png')); // new content under a known name
		await fs.rm(path.join(root, 'purple-cross.png'));
		await fs.rm(path.join(root, 'copies'), { recursive: true });
		await fs.mkdir(path.join(root, 'incoming', 'deep'), { recursive: true });
		await fs.copyFile(path.join(root, 'yellow-triangle.png'), path.join(root, 'incoming', 'deep', 'tri.png'));
		await fs.writeFile(path.join(root, '.gitignore'), 'ignored/\n');
		await fs.mkdir(path.join(root, 'ignored'));
		await fs.copyFile(path.join(root, 'red-star.png'), path.join(root, 'ignored', 'x.png'));
		const logs: string[] = [];
		const result = await indexFolder(store, encoder, {
			paths: ['red-star-2.png', 'green-circle.png', 'purple-cross.png', 'copies', 'incoming', 'ignored/x.png', 'never-there.png'],
			log: m => logs.push(m),
		});
		assert.equal(result.incremental, true);
		assert.ok(logs.some(l => /compared 7 changed path\(s\) only/.test(l)), logs.join('\n'));
		assert.equal(result.embedded, 1, 'only the new content is embedded');
		assert.equal(result.reused, 2, 'the copy and the moved-in file reuse vectors');
		assert.equal(result.removed, 3, 'purple-cross.png and the two files of copies/');
		assert.ok(store.files.has('incoming/deep/tri.png'));
		assert.ok(store.files.has('red-star-2.png'));
		assert.ok(!store.files.has('purple-cross.png'));
		assert.ok(!store.files.has('ignored/x.png'));
		assert.ok(!catalog(store).some(rel => rel.startsWith('copies/')));
		// A full walk now finds nothing to do: the incremental run left the same catalog.
		const before = catalog(store);
		const full = await indexFolder(store, encoder);
		assert.deepEqual({ embedded: full.embedded, reused: full.reused, removed: full.removed }, { embedded: 0, reused: 0, removed: 0 });
		assert.deepEqual(catalog(store), before);
		assert.equal(full.totalFiles, before.length);
	});
});

describe('walkImages', () => {
	it('honours includes, excludes and .gitignore, and does not follow links', async () => {
		const root = await tempDir('clip-walk-');
		const touch = async (rel: string): Promise<void> => {
			await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
			await fs.writeFile(path.join(root, rel), 'x');
		};
		await touch('a.png');
		await touch('B.JPG');
		await touch('notes.txt');
		await touch('node_modules/pkg/icon.png');
		await touch('.git/objects/x.png');
		await touch('build/out.png');
		await touch('sub/keep.svg');
		await touch('sub/skip.gif');
		await fs.mkdir(path.join(root, 'folder.png'));
		await fs.writeFile(path.join(root, '.gitignore'), 'build/\n');
		await fs.writeFile(path.join(root, 'sub', '.gitignore'), '*.gif\n');
		await fs.symlink(root, path.join(root, 'loop'));
		await fs.symlink(path.join(root, 'a.png'), path.join(root, 'link.png'));
		const found: string[] = [];
		for await (const f of walkImages(root)) {
			found.push(f.rel);
		}
		assert.deepEqual(found.sort(), ['B.JPG', 'a.png', 'sub/keep.svg']);
		const custom: string[] = [];
		for await (const f of walkImages(root, { include: ['**/*.png'], exclude: [], gitignore: false })) {
			custom.push(f.rel);
		}
		// An explicit exclude list adds to the folders that are never scanned (.git, node_modules…).
		assert.deepEqual(custom.sort(), ['a.png', 'build/out.png']);
	});
});

