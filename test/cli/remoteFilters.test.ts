/**
 * One filter, one meaning (issue 34, item 10): `search --remote` answers as the local index does for
 * the forms that differed: fractional and huge sizes (the store's bigint column refused them),
 * `././` in a path, and names with glob characters, which `\` now escapes (every `\` was a `/`).
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyFixtureImages, fixtureImagesDir, tempDir, tinyModelDir } from '../helpers';
import { startPostgres, type TestPostgres } from '../pglite';
import { cli, clip } from './runCli';

describe('search --remote and the local index read every filter alike (issue 34)', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let db: TestPostgres;
	let root: string;
	let index: string;
	let env: Record<string, string>;
	before(async () => {
		db = await startPostgres();
		root = await tempDir('clip-remote-filters-');
		await copyFixtureImages(root);
		await fs.mkdir(path.join(root, 'icons', '{old}'), { recursive: true });
		await fs.copyFile(path.join(fixtureImagesDir, 'red-circle.png'), path.join(root, 'icons', 'report[final].png'));
		await fs.copyFile(path.join(fixtureImagesDir, 'red-square.png'), path.join(root, 'icons', 'reportf.png'));
		await fs.copyFile(path.join(fixtureImagesDir, 'red-star.png'), path.join(root, 'icons', '{old}', 'star.png'));
		index = await tempDir('clip-remote-filters-index-');
		env = { CLIP_SEARCH_CACHE: await tempDir('clip-remote-filters-cache-') };
		const res = await clip(['index', root, '--model', tinyModelDir, '--index', index, '--store', db.url, '--push', '--library', 'odd', '--json'], { env });
		assert.equal(res.code, 0, res.stderr);
	});
	after(async () => {
		await db?.stop();
	});

	const remote = (q: string, extra: string[] = []) => clip(['search', q, '--store', db.url, '--remote', '--library', 'odd', '--model', tinyModelDir, '-k', '40', '--json', ...extra], { env, cwd: root });
	const local = (q: string, extra: string[] = []) => clip(['search', q, '--index', index, '-k', '40', '--json', ...extra], { env, cwd: root });
	const paths = (stdout: string): string[] => (JSON.parse(stdout) as { path: string }[]).map(h => h.path).sort();

	it('the same paths for sizes, ././ and escaped names', async () => {
		for (const [q, expect] of [
			['a red shape larger:0.5KiB', (n: number) => n > 0],
			['a red shape larger:0.1KiB', (n: number) => n > 0],
			['a red shape smaller:0.1KiB', (n: number) => n === 0],
			['a red shape path:././copies/*', (n: number) => n === 2],
			['a red shape path:icons/report\\[final\\].png', (n: number) => n === 1],
			['a red shape -path:icons/report\\[final\\].png path:icons/**', (n: number) => n === 2],
			['a red shape path:"icons/\\{old\\}"', (n: number) => n === 1],
			['a red shape -path:"icons/\\{old\\}" path:icons', (n: number) => n === 2],
			['a red shape path:icons\\reportf.png', (n: number) => n === 1],
		] as [string, (n: number) => boolean][]) {
			const [r, l] = [await remote(q), await local(q)];
			assert.equal(r.code, 0, `${q}: ${r.stderr}`);
			assert.equal(l.code, 0, `${q}: ${l.stderr}`);
			assert.deepEqual(paths(r.stdout), paths(l.stdout), q);
			assert.ok(expect(paths(l.stdout).length), `${q}: ${paths(l.stdout).join(', ')}`);
		}
	});

	it('a size past any file is the same clear refusal on both', async () => {
		const q = 'a red shape larger:1234567890123456789012';
		const [r, l] = [await remote(q), await local(q)];
		assert.equal(r.code, 1);
		assert.equal(l.code, 1);
		assert.match(r.stderr, /The filter "larger:1234567890123456789012" is more than any file can hold/);
		assert.equal(r.stderr, l.stderr);
	});

	it('a folder indexed and pushed with --model <folder> searches its library without naming the folder again (issue 34, item 14)', async () => {
		const own = await tempDir('clip-remote-own-');
		await copyFixtureImages(own);
		const ownEnv = { CLIP_SEARCH_CACHE: await tempDir('clip-remote-own-cache-') };
		const pushed = await clip(['index', '.', '--model', tinyModelDir, '--store', db.url, '--push', '--library', 'own', '--json'], { env: ownEnv, cwd: own });
		assert.equal(pushed.code, 0, pushed.stderr);
		const r = await clip(['search', 'a blue star', '--store', db.url, '--remote', '--library', 'own', '-k', '3', '--json'], { env: ownEnv, cwd: own });
		assert.equal(r.code, 0, r.stderr);
		assert.equal((JSON.parse(r.stdout) as { path: string }[])[0].path, 'blue-star.png');
		// Elsewhere (no index of that model), the folder must still be named.
		const elsewhere = await clip(['search', 'a blue star', '--store', db.url, '--remote', '--library', 'own', '--json'], { env: ownEnv, cwd: await tempDir('clip-remote-elsewhere-') });
		assert.equal(elsewhere.code, 1);
		assert.match(elsewhere.stderr, /give the same model folder with --model <folder>/);
	});

	it('sorted by date, name or size, --remote keeps the same set as the local index: one cut-off, one sample (issue 35, item 11)', async () => {
		for (const q of ['a blue shape', 'a red shape path:icons', 'a shape type:png']) {
			for (const sort of ['modified', 'name', 'size']) {
				const [r, l] = [await remote(`${q}`, ['--sort', sort]), await local(`${q}`, ['--sort', sort])];
				assert.equal(r.code, 0, r.stderr);
				assert.deepEqual(paths(r.stdout), paths(l.stdout), `${q} --sort ${sort}`);
				const rule = (stderr: string): string | undefined => /halfway from the typical image \(([-\d.]+)\)/.exec(stderr)?.[1];
				assert.equal(rule(r.stderr), rule(l.stderr), `${q} --sort ${sort}: the same typical cosine`);
			}
		}
	});
});
