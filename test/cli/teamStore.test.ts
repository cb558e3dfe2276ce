/**
 * The team store's round trip through the CLI, as two machines would run it against one PostgreSQL
 * + pgvector (PGlite from npm, or CLIP_SEARCH_TEST_PG_URL): A indexes and pushes, B (its own cache
 * and index) pulls everything and embeds nothing, both answer the same, one changed image costs B
 * one embedding, the library is searched on the server, and a store that cannot be reached or a
 * password in the URL each end in one clear line.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { startPostgres, type TestPostgres } from '../pglite';
import { seeded, shapeImage } from '../shapes';
import { cli, clip } from './runCli';

interface IndexJson {
	scanned: number;
	embedded: number;
	pulled: number;
	pushed?: number;
	reused: number;
	failed: unknown[];
}
interface Hit {
	path: string;
	score: number;
}

describe('clip-search with a team store (two machines, one PostgreSQL)', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let db: TestPostgres;
	const machine = async (name: string) => {
		const root = await tempDir(`clip-team-${name}-root-`);
		await copyFixtureImages(root);
		return { root, index: await tempDir(`clip-team-${name}-index-`), env: { CLIP_SEARCH_CACHE: await tempDir(`clip-team-${name}-cache-`), HF_ENDPOINT: 'http://127.0.0.1:9' } };
	};
	let a: Awaited<ReturnType<typeof machine>>;
	let b: Awaited<ReturnType<typeof machine>>;
	let pushedByA: IndexJson;
	const search = async (m: typeof a, q: string): Promise<Hit[]> => {
		const res = await clip(['search', q, '--index', m.index, '-k', '5', '--json'], { env: m.env });
		assert.equal(res.code, 0, res.stderr);
		// What a search answers (the file facts — modification times — are each machine's own).
		return (JSON.parse(res.stdout) as Hit[]).map(h => ({ path: h.path, score: h.score }));
	};

	before(async () => {
		db = await startPostgres();
		a = await machine('a');
		b = await machine('b');
		const res = await clip(['index', a.root, '--model', tinyModelDir, '--index', a.index, '--store', db.url, '--push', '--library', 'assets', '--json'], { env: a.env });
		assert.equal(res.code, 0, res.stderr);
		pushedByA = JSON.parse(res.stdout) as IndexJson;
	});
	after(async () => {
		await db?.stop();
	});

	it('A embeds and pushes: the JSON says pulled 0 and how many it pushed', () => {
		assert.equal(pushedByA.scanned, 32);
		assert.equal(pushedByA.pulled, 0);
		assert.equal(pushedByA.embedded + pushedByA.reused, 32);
		assert.equal(pushedByA.pushed, pushedByA.embedded, 'every distinct vector it embedded');
	});

	it('B pulls every vector, embeds none, and answers searches exactly as A does', async () => {
		const res = await clip(['index', b.root, '--model', tinyModelDir, '--index', b.index, '--store', db.url, '--json'], { env: b.env });
		assert.equal(res.code, 0, res.stderr);
		const r = JSON.parse(res.stdout) as IndexJson;
		assert.deepEqual(Object.keys(r).sort(), ['embedded', 'failed', 'pulled', 'removed', 'reused', 'scanned', 'seconds']);
		assert.equal(r.embedded, 0);
		assert.equal(r.pulled, pushedByA.embedded);
		assert.equal(r.pulled + r.reused, 32);
		assert.match(res.stderr, new RegExp(`team store postgres://postgres@127\\.0\\.0\\.1:\\d+/postgres: ${r.pulled} of ${r.pulled} vector\\(s\\) pulled`));
		for (const q of ['a photo of a purple star', 'orange cross', 'something green']) {
			assert.deepEqual(await search(b, q), await search(a, q), q);
		}
	});

	it('after one image changes, B embeds exactly that one', async () => {
		await fs.writeFile(path.join(b.root, 'red-star.png'), await shapeImage('blue', 'star', seeded(99)));
		const res = await clip(['index', b.root, '--index', b.index, '--store', db.url, '--json'], { env: b.env });
		assert.equal(res.code, 0, res.stderr);
		const r = JSON.parse(res.stdout) as IndexJson;
		assert.equal(r.embedded, 1);
		assert.equal(r.pulled, 0);
	});

	it('mode 2: search --remote runs on the server with the text embedded here, and answers as A does locally', async () => {
		for (const q of ['a photo of a purple star', 'orange cross']) {
			const res = await clip(['search', q, '--store', db.url, '--remote', '--library', 'assets', '--model', tinyModelDir, '-k', '5', '--json'], { env: b.env });
			assert.equal(res.code, 0, res.stderr);
			const remote = JSON.parse(res.stdout) as Hit[];
			const local = await search(a, q);
			assert.deepEqual(remote.map(h => h.path), local.map(h => h.path), q);
			remote.forEach((h, i) => assert.ok(Math.abs(h.score - local[i].score) < 1e-5, `${h.path}: ${h.score} vs ${local[i].score}`));
		}
		const scoped = JSON.parse((await clip(['search', 'green triangle', '--store', db.url, '--remote', '--library', 'assets', '--model', tinyModelDir, '--scope', 'copies', '--json'], { env: b.env })).stdout) as Hit[];
		assert.deepEqual(scoped.map(h => h.path).sort(), ['copies/green-triangle-big.png', 'copies/red-circle-copy.jpg']);
		const unknown = await clip(['search', 'x', '--store', db.url, '--remote', '--library', 'nope', '--json'], { env: b.env });
		assert.equal(unknown.code, 1);
		assert.match(unknown.stderr, /has no library "nope"\. It has "assets"\. Push one with clip-search index <root> --store URL --push --library nope/);
	});

	it('search --remote takes the whole query language, as local search does: weights, image terms, the same errors', async () => {
		const remote = async (q: string, extra: string[] = []) =>
			clip(['search', q, '--store', db.url, '--remote', '--library', 'assets', '--model', tinyModelDir, '-k', '5', '--json', ...extra], { env: a.env, cwd: a.root });
		const local = async (q: string) => clip(['search', q, '--index', a.index, '-k', '5', '--json'], { env: a.env, cwd: a.root });
		for (const q of ['"a large blue square" - "blue" + "red"', './purple-star.png', '2*"orange" + ./green-circle.png - "circle"']) {
			const [r, l] = [await remote(q), await local(q)];
			assert.equal(r.code, 0, `${q}: ${r.stderr}`);
			assert.deepEqual((JSON.parse(r.stdout) as Hit[]).map(h => h.path), (JSON.parse(l.stdout) as Hit[]).map(h => h.path), q);
		}
		const missing = await remote('./nope.png');
		assert.equal(missing.code, 1, 'a missing image term is an error, as locally');
		assert.match(missing.stderr, /nope\.png: ENOENT/);
		const quoted = await remote('"red circle"');
		assert.equal(quoted.code, 0);
		assert.match(quoted.stderr, /holds no text read inside images, so the quoted words were searched by what the images show/);
		assert.ok((JSON.parse(quoted.stdout) as Hit[]).length > 0);
		const dot = await remote('green triangle', ['--scope', './']);
		assert.equal((JSON.parse(dot.stdout) as Hit[]).length, 5, '--scope ./ is the whole library');
	});

	it('search --remote applies the query filters in SQL and answers as a local search does (issue 31)', async () => {
		const remote = async (q: string, extra: string[] = []) =>
			clip(['search', q, '--store', db.url, '--remote', '--library', 'assets', '--model', tinyModelDir, '-k', '5', '--json', ...extra], { env: a.env, cwd: a.root });
		const local = async (q: string, extra: string[] = []) => clip(['search', q, '--index', a.index, '-k', '5', '--json', ...extra], { env: a.env, cwd: a.root });
		for (const [q, extra] of [
			['a red circle type:jpg', []],
			['a shape wider:200', []],
			['a red circle path:copies/**', []],
			['a red circle -path:copies', []],
			['a blue shape larger:1KB -type:jpeg', []],
			['a blue shape after:2000-01-01', []],
			['a blue shape', ['--sort', 'name', '--min-score', '-1']],
		] as [string, string[]][]) {
			const [r, l] = [await remote(q, extra), await local(q, extra)];
			assert.equal(r.code, 0, `${q}: ${r.stderr}`);
			const paths = (JSON.parse(r.stdout) as Hit[]).map(h => h.path);
			assert.ok(paths.length > 0, q);
			assert.deepEqual(paths, (JSON.parse(l.stdout) as Hit[]).map(h => h.path), q);
		}
		assert.match((await remote('a red circle type:jpg')).stderr, /filters type:jpg/);
		const tag = await remote('a circle tag:round');
		assert.equal(tag.code, 1);
		assert.match(tag.stderr, /"tag:round" needs what the team store does not hold/);
	});

	it('a path the store holds is printed escaped (a forged result line is one line)', async () => {
		const pg = (await import('pg')).default;
		const sql = new pg.Client({ connectionString: db.url });
		await sql.connect();
		try {
			await sql.query(`update clip_search.files set path = $1 where library = 'assets' and path = 'orange-cross.png'`, ['orange-cross.png\n0.9999  forged.png\x1b[2J']);
		} finally {
			await sql.end();
		}
		const res = await clip(['search', 'orange cross', '--store', db.url, '--remote', '--library', 'assets', '--model', tinyModelDir, '-k', '3'], { env: b.env });
		assert.equal(res.code, 0, res.stderr);
		assert.doesNotMatch(res.stdout, /\x1b/);
		assert.equal(res.stdout.trim().split('\n').length, 1 + 3);
		assert.ok(res.stdout.includes('orange-cross.png\\n0.9999  forged.png\\x1b[2J'), res.stdout);
	});

	it('a store that cannot be reached: one line, and indexing goes on here (exit 0)', async () => {
		const c = await machine('c');
		const res = await clip(['index', c.root, '--model', tinyModelDir, '--index', c.index, '--store', 'postgres://ci@127.0.0.1:9/assets', '--json'], { env: c.env });
		assert.equal(res.code, 0, res.stderr);
		const r = JSON.parse(res.stdout) as IndexJson;
		assert.equal(r.pulled, 0);
		assert.equal(r.embedded + r.reused, 32);
		const lines = res.stderr.split('\n').filter(l => /team store/.test(l));
		assert.deepEqual(lines, ['clip-search: cannot reach the team store at 127.0.0.1:9 (ECONNREFUSED); indexing goes on here without the store']);
		assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
	});

	it('a password in the URL is refused, and never printed', async () => {
		const res = await clip(['index', b.root, '--index', b.index, '--store', 'postgres://ci:s3cret@127.0.0.1:9/assets', '--json'], { env: b.env });
		assert.equal(res.code, 1);
		assert.match(res.stderr, /PGPASSWORD/);
		assert.doesNotMatch(res.stderr + res.stdout, /s3cret/);
		const env = await clip(['index', b.root, '--index', b.index, '--json'], { env: { ...b.env, CLIP_SEARCH_STORE: 'postgres://ci:s3cret@127.0.0.1:9/assets' } });
		assert.equal(env.code, 1);
		assert.match(env.stderr, /CLIP_SEARCH_STORE/);
		assert.doesNotMatch(env.stderr, /s3cret/);
	});

	it('--push, --remote and --library say what they need', async () => {
		const push = await clip(['index', b.root, '--push'], { env: { ...b.env, CLIP_SEARCH_STORE: '' } });
		assert.equal(push.code, 2);
		assert.match(push.stderr, /--push needs a team store: --store postgres:\/\/user@host\/db/);
		const lib = await clip(['index', b.root, '--store', db.url, '--library', 'x'], { env: b.env });
		assert.equal(lib.code, 2);
		assert.match(lib.stderr, /--library names what --push publishes/);
		const remote = await clip(['search', 'x', '--store', db.url, '--remote'], { env: b.env });
		assert.equal(remote.code, 2);
		assert.match(remote.stderr, /--remote searches a library on the store: add --library NAME/);
	});
});
