/**
 * The team store's answers are data (issue 25): whoever can write to a shared Postgres chooses what it
 * returns. A tampered `models` row, poisoned, zero and wrong-dimension vectors, URLs that smuggle a
 * password or another host, and what a store publishes about a model — each tried on a real
 * PostgreSQL + pgvector (PGlite), and the password path against a native server that requires one.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ClipError } from '../../../src/core/common/errors';
import type { ModelStamp } from '../../../src/core/index/indexStore';
import { PgVectorStore } from '../../../src/core/store/pgStore';
import { publishedModelId, storeModelKey, tableOf } from '../../../src/core/store/storeNames';
import { maskUrl, parseStoreUrl } from '../../../src/core/store/storeUrl';
import { tempDir } from '../../helpers';
import { nativePostgresMissing, startNativePostgres } from '../../nativePostgres';
import { leaningUnitVectors, startPostgres, type TestPostgres } from '../../pglite';

const DIM = 16;
const stamp = (over: Partial<ModelStamp> = {}): ModelStamp => ({ key: 'k', id: 'Test/hostile', revision: 'r1', variant: 'fp32', dim: DIM, ...over });

const unitVectors = (n: number, seed: number): Map<string, Float32Array> => leaningUnitVectors(n, DIM, seed, 0.2, 'hash-');

describe('the team store refuses what a hostile writer left in it', () => {
	let db: TestPostgres;
	let sql: pg.Client;
	before(async () => {
		db = await startPostgres();
		sql = new pg.Client({ connectionString: db.url });
		await sql.connect();
	});
	after(async () => {
		await sql?.end();
		await db?.stop();
	});

	it("a models row whose table name carries SQL is refused before any query uses it (the name is derived here, quoted)", async () => {
		const model = stamp({ id: 'Test/injected' });
		const pusher = await PgVectorStore.open({ url: db.url, push: true }, model);
		await pusher.push(unitVectors(10, 1));
		await pusher.close();
		const key = storeModelKey(model);
		const table = tableOf(key);
		assert.equal((await sql.query('select table_name from clip_search.models where model_key = $1', [key])).rows[0].table_name, table);
		// The attack from the issue (there with pg_sleep: every reader's pull ran it once per row).
		const injected = `${table} where (select count(*) from (select 1) x) >= 0 and content_hash = any($1) --`;
		await sql.query('update clip_search.models set table_name = $1 where model_key = $2', [injected, key]);
		const logs: string[] = [];
		await assert.rejects(
			PgVectorStore.open({ url: db.url, log: m => logs.push(m) }, model),
			(e: unknown) => ClipError.is(e, 'StoreUnavailable') && /names the table .*not vectors_[0-9a-f]{16}: refused, nothing pulled/.test((e as Error).message),
		);
		// A well-formed name that is not this key's is refused the same way: a reader reads only the table its key derives.
		await sql.query('update clip_search.models set table_name = $1 where model_key = $2', ['vectors_0000000000000000', key]);
		await assert.rejects(PgVectorStore.open({ url: db.url }, model), (e: unknown) => ClipError.is(e, 'StoreUnavailable'));
		await sql.query('update clip_search.models set table_name = $1 where model_key = $2', [table, key]);
		const fine = await PgVectorStore.open({ url: db.url }, model);
		assert.equal((await fine.pull([...unitVectors(10, 1).keys()])).size, 10, 'repaired, it pulls again');
		await fine.close();
	});

	it('a poisoned (1e30), a zero and a wrong-dimension vector are refused and named; every other row is kept', async () => {
		const model = stamp({ id: 'Test/poisoned' });
		const vectors = unitVectors(12, 2);
		const pusher = await PgVectorStore.open({ url: db.url, push: true }, model);
		await pusher.push(vectors);
		await pusher.close();
		const table = `clip_search.${tableOf(storeModelKey(model))}`;
		const [poisoned, zero, short] = [...vectors.keys()];
		await sql.query(`update ${table} set embedding = $1::vector where content_hash = $2`, [`[${Array(DIM).fill(1e30).join(',')}]`, poisoned]);
		await sql.query(`update ${table} set embedding = $1::vector where content_hash = $2`, [`[${Array(DIM).fill(0).join(',')}]`, zero]);
		// A writer with rights can drop the column's dimension and store any length.
		await sql.query(`alter table ${table} alter column embedding type vector using embedding::vector`);
		await sql.query(`drop index if exists clip_search.${tableOf(storeModelKey(model))}_hnsw`);
		await sql.query(`alter table ${table} alter column embedding type vector`);
		await sql.query(`update ${table} set embedding = '[1,0,0]'::vector where content_hash = $1`, [short]);
		const logs: string[] = [];
		const reader = await PgVectorStore.open({ url: db.url, log: m => logs.push(m) }, model);
		try {
			const pulled = await reader.pull([...vectors.keys()]);
			assert.equal(pulled.size, 9, 'the nine good rows, including those after the bad ones');
			assert.ok(![poisoned, zero, short].some(h => pulled.has(h)));
			const line = logs.find(l => /3 vector\(s\) refused/.test(l));
			assert.ok(line, logs.join('\n'));
			assert.match(line!, /length 4\.000e\+30, not 1/);
			assert.match(line!, /length 0\.000, not 1/);
			assert.match(line!, /3 dimensions, not 16/);
		} finally {
			await reader.close();
		}
	});

	it('search --remote leaves out rows whose vector is not of length 1 (a zero vector scored NaN)', async () => {
		const model = stamp({ id: 'Test/remote-zero' });
		const vectors = unitVectors(8, 3);
		const s = await PgVectorStore.open({ url: db.url, push: true, library: 'zeroed' }, model);
		try {
			await s.push(vectors);
			await s.publishFiles(new Map([...vectors.keys()].map((h, i) => [`img-${i}.png`, h])));
			const [zero] = [...vectors.keys()];
			await sql.query(`update clip_search.${tableOf(storeModelKey(model))} set embedding = $1::vector where content_hash = $2`, [`[${Array(DIM).fill(0).join(',')}]`, zero]);
			const hits = await s.searchLibrary('zeroed', vectors.get(zero)!, 8);
			assert.equal(hits.length, 7);
			assert.ok(hits.every(h => Number.isFinite(h.score) && h.score <= 1.0001), JSON.stringify(hits));
			assert.ok(!hits.some(h => h.path === 'img-0.png'));
		} finally {
			await s.close();
		}
	});

	it('asked for another variant than the store holds: nothing pulled, and one line says how to use what is there', async () => {
		const fp32 = stamp({ id: 'Test/variants', revision: 'r7' });
		const pusher = await PgVectorStore.open({ url: db.url, push: true }, fp32);
		await pusher.push(unitVectors(3, 6));
		await pusher.close();
		const logs: string[] = [];
		const reader = await PgVectorStore.open({ url: db.url, log: m => logs.push(m) }, { ...fp32, variant: 'quantized' });
		assert.equal((await reader.pull([...unitVectors(3, 6).keys()])).size, 0);
		await reader.close();
		assert.ok(logs.some(l => /^team store .*: it holds this model's fp32 vectors, not quantized ones, so nothing can be pulled: index with --variant fp32 to use them \(in VS Code: "clipSearch.modelVariant": "fp32"\)$/.test(l)), logs.join('\n'));
	});

	it('a model folder is published as "local" with its fingerprint, never its path', async () => {
		const model = stamp({ id: '/home/ci/models/my-clip', revision: 'local-0123456789abcdef' });
		assert.equal(publishedModelId(model), 'local');
		assert.equal(publishedModelId(stamp({ id: 'Xenova/clip-vit-base-patch32' })), 'Xenova/clip-vit-base-patch32');
		const s = await PgVectorStore.open({ url: db.url, push: true, library: 'local-lib' }, model);
		await s.push(unitVectors(2, 4));
		await s.publishFiles(new Map([['a.png', 'hash-4-0']]));
		await s.close();
		const row = (await sql.query('select model_id, revision from clip_search.models where model_key = $1', [storeModelKey(model)])).rows[0];
		assert.deepEqual(row, { model_id: 'local', revision: 'local-0123456789abcdef' });
		const all = (await sql.query('select model_id from clip_search.models')).rows.map(r => r.model_id as string);
		assert.ok(!all.some(id => id.includes('/home/')), all.join(', '));
		const seen = await PgVectorStore.libraryModel({ url: db.url }, 'local-lib');
		assert.equal(seen.id, 'local');
	});
});

describe('store URLs: one address, no password, nothing but scheme, user, host, port and database shown', () => {
	it('refuses a password anywhere in the URL, never echoing it', () => {
		for (const url of ['postgres://postgres@host/db?password=hunter2', 'postgres://u:hunter2@host/db', 'postgresql://u@host/db?sslmode=require&password=hunter2']) {
			assert.throws(
				() => parseStoreUrl(url),
				(e: unknown) => ClipError.is(e, 'InvalidArgument') && /holds a password/.test((e as Error).message) && !(e as Error).message.includes('hunter2'),
				url,
			);
		}
	});

	it('refuses a host override that would send one host\'s password to another; a socket folder with no host is taken and named', () => {
		assert.throws(
			() => parseStoreUrl('postgres://ci@db.trusted.example/assets?host=127.0.0.1'),
			(e: unknown) => ClipError.is(e, 'InvalidArgument') && /names its host twice \(db\.trusted\.example and host=127\.0\.0\.1\)/.test((e as Error).message),
		);
		const socket = parseStoreUrl('postgres:///assets?host=/var/run/postgresql');
		assert.equal(socket.host, '/var/run/postgresql');
		assert.match(socket.label, /^postgres:\/\/[^@]+@\[\/var\/run\/postgresql\]:5432\/assets$/);
	});

	it('refuses parameters it does not take (files the driver would read among them), naming them', () => {
		for (const [param, why] of [
			['sslrootcert=/etc/shadow', /"sslrootcert" is not taken \(give a CA certificate with --store-ca/],
			['sslkey=/home/u/.ssh/id_rsa', /"sslkey" is not taken/],
			['options=-c%20search_path%3Devil', /"options" is not taken/],
			['user=postgres', /"user" is not taken/],
			['port=6543', /"port" is not taken/],
		] as const) {
			assert.throws(() => parseStoreUrl(`postgres://ci@db.example/assets?${param}`), (e: unknown) => ClipError.is(e, 'InvalidArgument') && why.test((e as Error).message), param);
		}
		const ok = parseStoreUrl('postgres://ci@db.example:6543/assets?sslmode=verify-full&application_name=x&connect_timeout=5');
		assert.deepEqual([ok.host, ok.port, ok.database, ok.user, ok.tls, ok.label], ['db.example', 6543, 'assets', 'ci', 'verify', 'postgres://ci@db.example:6543/assets']);
		assert.equal(parseStoreUrl('postgres://ci@db.example/a?sslmode=disable').tls, 'off');
		assert.throws(() => parseStoreUrl('postgres://ci@db.example/a?sslmode=sometimes'), (e: unknown) => ClipError.is(e, 'InvalidArgument') && /sslmode=sometimes is not one of/.test((e as Error).message));
	});

	it('masks everything but scheme, user, host, port and database', () => {
		assert.equal(maskUrl('postgres://ci:hunter2@db.example:5433/assets?password=x&sslrootcert=/y'), 'postgres://ci@db.example:5433/assets');
		assert.equal(maskUrl('not a url with hunter2'), 'the store URL');
		assert.equal(maskUrl('postgres://[broken:hunter2@'), 'postgres://…');
	});
});

describe('the saved password is sent (a native PostgreSQL with scram-sha-256)', { skip: nativePostgresMissing() }, () => {
	let server: Awaited<ReturnType<typeof startNativePostgres>>;
	before(async () => {
		server = await startNativePostgres();
		server.psql(`create role clip_dev login password 'saved-Secret-1'`);
	});
	after(async () => server?.stop());

	const open = (over: { password?: string; url?: string } = {}): Promise<PgVectorStore> =>
		PgVectorStore.open({ url: over.url ?? `postgres://clip_dev@127.0.0.1:${server.port}/postgres`, password: over.password, connectTimeoutMs: 5000 }, stamp());

	it('the password given (SecretStorage\'s) authenticates: the server then says pgvector is missing, which only an authenticated session learns', async () => {
		await assert.rejects(open({ password: 'saved-Secret-1' }), (e: unknown) => ClipError.is(e, 'InvalidArgument') && /has no pgvector extension/.test((e as Error).message));
	});

	it('no password, or a wrong one, is one line naming the user and where passwords come from; the password is never shown', async () => {
		const saved = process.env.PGPASSWORD;
		const pass = process.env.PGPASSFILE;
		delete process.env.PGPASSWORD;
		process.env.PGPASSFILE = path.join(await tempDir('clip-pgpass-'), 'none');
		try {
			for (const password of [undefined, 'wrong-Secret-2']) {
				await assert.rejects(open({ password }), (e: unknown) => ClipError.is(e, 'StoreUnavailable') && /(refused user|asks user) "clip_dev".*PGPASSWORD.*~\/\.pgpass.*the password saved/.test((e as Error).message) && !(e as Error).message.includes('Secret'));
			}
		} finally {
			process.env.PGPASSFILE = pass;
			if (pass === undefined) {
				delete process.env.PGPASSFILE;
			}
			if (saved !== undefined) {
				process.env.PGPASSWORD = saved;
			}
		}
	});

	it('~/.pgpass (PGPASSFILE) is read for the URL\'s own host, user and database', async () => {
		const file = path.join(await tempDir('clip-pgpass-'), 'pgpass');
		await fs.writeFile(file, `127.0.0.1:${server.port}:postgres:clip_dev:saved-Secret-1\n`, { mode: 0o600 });
		const before = process.env.PGPASSFILE;
		process.env.PGPASSFILE = file;
		try {
			await assert.rejects(open(), (e: unknown) => ClipError.is(e, 'InvalidArgument') && /has no pgvector extension/.test((e as Error).message));
		} finally {
			process.env.PGPASSFILE = before;
			if (before === undefined) {
				delete process.env.PGPASSFILE;
			}
		}
	});
});
