/**
 * An index and a folder from someone else: a crafted HNSW graph (a neighbour id far out of range),
 * a damaged catalog, a path under a symbolic link reported by the watcher, and sparse files that
 * claim to be huge images. Each is refused or reported, never a crash, and nothing already indexed is lost.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClipError } from '../../../src/core/common/errors';
import { checkHnswFile } from '../../../src/core/index/hnswFile';
import { indexFolder } from '../../../src/core/index/indexer';
import { openIndexForWriting } from '../../../src/core/index/indexSession';
import { IndexStore } from '../../../src/core/index/indexStore';
import { statPaths } from '../../../src/core/index/walker';
import { ClipEncoder } from '../../../src/core/model/runtime/encoder';
import { type ModelSpec } from '../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../src/core/model/layouts/loadModelSpec';
import { copyFixtureImages, tempDir, tinyModelDir } from '../../helpers';


/** Symbolic links and file modes as POSIX has them (Windows needs admin rights for links and has no modes). */
const POSIX_ONLY = process.platform === 'win32' ? 'symbolic links and file modes are POSIX features' : false;
describe('untrusted indexes and folders', () => {
	let spec: ModelSpec;
	let encoder: ClipEncoder;
	let root: string;
	let indexDir: string;
	before(async () => {
		spec = await loadModelSpec(tinyModelDir);
		encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 2 });
		root = await tempDir('clip-untrusted-');
		await copyFixtureImages(root);
		indexDir = await tempDir('clip-untrusted-index-');
		await indexFolder(await openIndexForWriting(indexDir, root, spec), encoder);
	});
	after(() => encoder.dispose());

	const graphOf = async (dir: string): Promise<string> => path.join(dir, (await fs.readdir(dir)).find(f => f.endsWith('.hnsw'))!);

	it('accepts the graphs it writes, with every neighbour id checked', async () => {
		const buf = await fs.readFile(await graphOf(indexDir));
		const summary = checkHnswFile(buf, spec.dim, 'g.hnsw');
		assert.equal(summary.count, 32);
		assert.equal(summary.labels.size, 32);
	});

	it('refuses a graph with a neighbour id set far out of range (what crashed hnswlib), naming the file', async () => {
		const dir = await tempDir('clip-crafted-');
		await fs.cp(indexDir, dir, { recursive: true });
		const file = await graphOf(dir);
		const buf = await fs.readFile(file);
		// The first element's level-0 list: a uint16 count, then uint32 ids (header is 96 bytes).
		assert.ok(buf.readUInt16LE(96) > 0, 'the element has neighbours to tamper with');
		buf.writeUInt32LE(0x7fffffff, 96 + 4);
		await fs.writeFile(file, buf);
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'IndexCorrupt') && e.file === file && /neighbour 2147483647, past the 32 elements/.test((e as Error).message));
		// A writer starts afresh and indexes again; nothing of the folder is lost.
		const logs: string[] = [];
		const store = await openIndexForWriting(dir, root, spec, m => logs.push(m));
		assert.ok(logs.some(l => /damaged or not an index graph.*Starting a new index/.test(l)), logs.join('\n'));
		const result = await indexFolder(store, encoder);
		assert.equal(result.embedded, 32);
		assert.equal((await IndexStore.load(dir)).files.size, 33 - 1);
	});

	it('refuses a graph whose stored vector was changed (a flipped byte scored 1e18): named, then rebuilt with scores in range', async () => {
		const dir = await tempDir('clip-flipped-');
		await fs.cp(indexDir, dir, { recursive: true });
		const file = await graphOf(dir);
		const buf = await fs.readFile(file);
		// Element 0's vector: after its level-0 list (uint32 header, maxM0 = 2M = 32 ids); the first component's
		// exponent byte. Bit 0x40 there makes any component below 2 in size enormous (or 0 into 2): never unit length.
		const vectorAt = 96 + 4 + 32 * 4;
		buf[vectorAt + 3] ^= 0x40;
		await fs.writeFile(file, buf);
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'IndexCorrupt') && e.file === file && /element 0 has a vector of length .*, not 1/.test((e as Error).message));
		const store = await openIndexForWriting(dir, root, spec, () => undefined);
		await indexFolder(store, encoder);
		const again = await IndexStore.load(dir);
		const scores = again.search((await encoder.encodeTexts(['a red circle']))[0], 32).map(h => h.score);
		assert.equal(scores.length, 32);
		assert.ok(scores.every(x => x >= -1.0001 && x <= 1.0001), scores.join(', '));
	});

	it('refuses headers that ask for huge allocations, and truncated or padded files', () => {
		return fs.readFile(path.join(indexDir, 'manifest.json')).then(async () => {
			const buf = await fs.readFile(await graphOf(indexDir));
			const huge = Buffer.from(buf);
			huge.writeBigUInt64LE(1n << 40n, 8); // maxElements
			assert.throws(() => checkHnswFile(huge, spec.dim, 'g'), /elements in room for/);
			assert.throws(() => checkHnswFile(buf.subarray(0, buf.length - 3), spec.dim, 'g'), (e: unknown) => ClipError.is(e, 'IndexCorrupt'));
			assert.throws(() => checkHnswFile(Buffer.concat([buf, Buffer.alloc(4)]), spec.dim, 'g'), /bytes left over/);
			assert.throws(() => checkHnswFile(buf, spec.dim + 1, 'g'), /record layout does not fit/);
		});
	});

	it('refuses a catalog whose paths leave the folder', async () => {
		const dir = await tempDir('clip-crafted-');
		await fs.cp(indexDir, dir, { recursive: true });
		const catalog = path.join(dir, (await fs.readdir(dir)).find(f => f.startsWith('catalog-'))!);
		const c = JSON.parse(await fs.readFile(catalog, 'utf8'));
		c.files['../../.ssh/id_rsa'] = { size: 1, mtimeMs: 1, hash: Object.keys(c.embeddings)[0] };
		await fs.writeFile(catalog, JSON.stringify(c));
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'IndexCorrupt') && /"\.\.\/\.\.\/\.ssh\/id_rsa" is not inside the folder/.test((e as Error).message));
		const manifest = path.join(dir, 'manifest.json');
		await fs.writeFile(manifest, JSON.stringify({ format: 1, generation: '1/../../x' }));
		await assert.rejects(IndexStore.load(dir), (e: unknown) => ClipError.is(e, 'IndexCorrupt') && /the generation is not a whole number from 1 to/.test((e as Error).message));
	});

	it('a changed path under a symbolic link to a folder is not indexed, as the walk would not', { skip: POSIX_ONLY }, async () => {
		const outside = await tempDir('clip-outside-');
		await fs.copyFile(path.join(root, 'red-star.png'), path.join(outside, 'secret.png'));
		const dir = await tempDir('clip-linked-');
		await fs.mkdir(path.join(dir, 'real'));
		await fs.copyFile(path.join(root, 'red-star.png'), path.join(dir, 'real', 'a.png'));
		await fs.symlink(outside, path.join(dir, 'link'));
		const changes = await statPaths(dir, ['link/secret.png', 'real/a.png', 'link', '../escape.png', 'real/../real/a.png']);
		assert.deepEqual(changes.files.map(f => f.rel), ['real/a.png']);
		assert.deepEqual(changes.gone.sort(), ['link', 'link/secret.png']);
	});

	it('sparse files that claim to be huge images are refused from their size, before being read', async () => {
		const dir = await tempDir('clip-sparse-');
		await fs.copyFile(path.join(root, 'red-star.png'), path.join(dir, 'ok.png'));
		for (let i = 0; i < 4; i++) {
			const h = await fs.open(path.join(dir, `huge-${i}.png`), 'w');
			await h.truncate(1_900_000_000); // sparse: no disk used, 1.9 GB long
			await h.close();
		}
		const store = await openIndexForWriting(await tempDir('clip-sparse-index-'), dir, spec);
		const rss = process.memoryUsage().rss;
		const result = await indexFolder(store, encoder, { maxPixels: 100_000_000 });
		assert.equal(result.embedded, 1);
		assert.equal(result.failed.length, 4);
		for (const f of result.failed) {
			assert.match(f.error, /huge-\d\.png: 1\.9 GB is more than any image within the limit of 100 megapixels can take \(817 MB\); it was not read/);
		}
		assert.ok(process.memoryUsage().rss - rss < 500e6, 'the files were not read into memory');
	});
});
