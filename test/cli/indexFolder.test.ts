/**
 * The index folder is the product's only if it says so (issue 26): `--index DIR` on a folder of
 * someone else's files is refused and nothing in it changes; an index of an earlier version (no
 * marker) keeps working; a catalog whose numbers disagree, or a manifest naming a missing
 * generation, is named and rebuilt; a stale lock of another host or a planted pid does not block.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { cli, clip } from './runCli';

async function snapshot(dir: string): Promise<Record<string, string>> {
	const out: Record<string, string> = {};
	for (const name of (await fs.readdir(dir)).sort()) {
		out[name] = (await fs.readFile(path.join(dir, name))).toString('base64');
	}
	return out;
}

describe('the index folder: only ours is written', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let env: NodeJS.ProcessEnv;
	before(async () => {
		root = await tempDir('clip-idxdir-');
		await copyFixtureImages(root);
		env = { CLIP_SEARCH_CACHE: await tempDir('clip-idxdir-cache-'), HF_ENDPOINT: 'http://127.0.0.1:9' };
	});

	it('refuses a folder of other files ([NotAnIndex], naming it and what is in it) and changes nothing in it', async () => {
		const site = await tempDir('clip-site-');
		await fs.writeFile(path.join(site, 'manifest.json'), JSON.stringify({ name: 'My web app', start_url: '/' }));
		await fs.writeFile(path.join(site, 'draft.tmp'), 'draft');
		await fs.writeFile(path.join(site, 'catalog-7.json'), '{"products": []}');
		await fs.writeFile(path.join(site, 'vectors-2.hnsw'), 'not ours');
		const before = await snapshot(site);
		for (const command of [['index', root, '--model', tinyModelDir, '--index', site], ['search', 'a red circle', '--index', site], ['stats', '--index', site]]) {
			const res = await clip(command, { env });
			assert.equal(res.code, 1, `${command[0]}: ${res.stderr}`);
			assert.match(res.stderr, /\[NotAnIndex\]/, command[0]);
			assert.ok(res.stderr.includes(site), command[0]);
			assert.match(res.stderr, /"manifest\.json"/, command[0]);
		}
		assert.deepEqual(await snapshot(site), before, 'every file as it was');
	});

	it('refuses the image folder itself as --index (a Chrome extension would lose its manifest.json)', async () => {
		const ext = await tempDir('clip-ext-');
		await fs.copyFile(path.join(root, 'red-circle.png'), path.join(ext, 'icon.png'));
		await fs.writeFile(path.join(ext, 'manifest.json'), '{"manifest_version": 3, "name": "x"}');
		const before = await snapshot(ext);
		const res = await clip(['index', '.', '--model', tinyModelDir, '--index', '.'], { env, cwd: ext });
		assert.equal(res.code, 1, res.stderr);
		assert.match(res.stderr, /is not an index folder of CLIP Image Search/);
		assert.deepEqual(await snapshot(ext), before);
	});

	it('marks a new folder first; an unmarked index of an earlier version keeps working and is marked', async () => {
		const dir = path.join(await tempDir('clip-new-'), 'idx');
		let res = await clip(['index', root, '--model', tinyModelDir, '--index', dir, '--json'], { env });
		assert.equal(res.code, 0, res.stderr);
		assert.ok((await fs.readdir(dir)).includes('.clip-search-index'));
		await fs.rm(path.join(dir, '.clip-search-index')); // as an earlier version left it
		res = await clip(['search', 'a red circle', '--index', dir, '--json'], { env });
		assert.equal(res.code, 0, res.stderr);
		res = await clip(['index', root, '--model', tinyModelDir, '--index', dir, '--json'], { env });
		assert.equal(res.code, 0, res.stderr);
		assert.equal((JSON.parse(res.stdout) as { embedded: number }).embedded, 0, 'nothing embedded again');
		assert.ok((await fs.readdir(dir)).includes('.clip-search-index'), 'migrated: marked');
	});

	it('a catalog whose nextLabel is far beyond its graph, or a manifest naming a missing generation, is named ([IndexCorrupt]) and rebuilt by index', async () => {
		const dir = path.join(await tempDir('clip-bad-'), 'idx');
		assert.equal((await clip(['index', root, '--model', tinyModelDir, '--index', dir], { env })).code, 0);
		for (const nextLabel of [9007199254740991, 60_000_000]) {
			const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { generation: number };
			const catalogFile = path.join(dir, `catalog-${manifest.generation}.json`);
			const catalog = JSON.parse(await fs.readFile(catalogFile, 'utf8')) as { nextLabel: number };
			await fs.writeFile(catalogFile, JSON.stringify({ ...catalog, nextLabel }));
			for (const command of [['stats', '--index', dir], ['search', 'red', '--index', dir]]) {
				const res = await clip(command, { env });
				assert.equal(res.code, 1, `${nextLabel} ${command[0]}: ${res.stderr}`);
				assert.match(res.stderr, /counts \d+ labels, but vectors-\d+\.hnsw holds 32 points.*\[IndexCorrupt\]/);
			}
			const rebuilt = await clip(['index', root, '--model', tinyModelDir, '--index', dir, '--json'], { env });
			assert.equal(rebuilt.code, 0, rebuilt.stderr);
			assert.equal((JSON.parse(rebuilt.stdout) as { embedded: number }).embedded, 32);
		}
		await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ format: 1, generation: 65537 }));
		const res = await clip(['stats', '--index', dir], { env });
		assert.equal(res.code, 1);
		assert.match(res.stderr, /names generation 65537, but catalog-65537\.json is missing.*\[IndexCorrupt\]/);
		const rebuilt = await clip(['index', root, '--model', tinyModelDir, '--index', dir, '--json'], { env });
		assert.equal(rebuilt.code, 0, rebuilt.stderr);
		assert.equal((await clip(['search', 'red', '--index', dir], { env })).code, 0);
	});

	it('a lock with pid -1 or 0, or from another host that stopped refreshing it, does not block indexing', async () => {
		const dir = path.join(await tempDir('clip-lock-'), 'idx');
		assert.equal((await clip(['index', root, '--model', tinyModelDir, '--index', dir], { env })).code, 0);
		const old = new Date(Date.now() - 60 * 60_000).toISOString();
		for (const holder of [{ pid: -1, host: (await import('node:os')).hostname() }, { pid: 0, host: (await import('node:os')).hostname() }, { pid: 99, host: 'gone-laptop' }]) {
			await fs.writeFile(path.join(dir, 'index.lock'), JSON.stringify({ ...holder, since: old, updated: old, purpose: 'clip-search index /x' }));
			const res = await clip(['index', root, '--model', tinyModelDir, '--index', dir], { env });
			assert.equal(res.code, 0, `${JSON.stringify(holder)}: ${res.stderr}`);
		}
	});
});
