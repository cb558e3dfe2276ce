/**
 * The team store on a real PostgreSQL + pgvector (PGlite from npm; CLIP_SEARCH_TEST_PG_URL for a
 * native server): schema and versions, vectors in and out, the planner traps each with a test, bad
 * rows refused, and the indexer going on locally when the store fails mid-pull.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ClipError } from '../../../src/core/common/errors';
import type { ModelStamp } from '../../../src/core/index/indexStore';
import { PgVectorStore, SCHEMA_VERSION } from '../../../src/core/store/pgStore';
import { describeStoreError } from '../../../src/core/store/storeConnection';
import { remoteSearchSql } from '../../../src/core/store/remoteSearch';
import { storeModelKey } from '../../../src/core/store/storeNames';
import { maskUrl, parseStoreUrl } from '../../../src/core/store/storeUrl';
import { tempDir } from '../../helpers';
import { leaningUnitVectors, startPostgres, type TestPostgres } from '../../pglite';

const stamp = (over: Partial<ModelStamp> = {}): ModelStamp => ({ key: 'k', id: 'Test/model', revision: 'r1', variant: 'fp32', dim: 16, ...over });

const clustered = (n: number, dim: number, seed: number): Map<string, Float32Array> => leaningUnitVectors(n, dim, seed, 0.3, 'h');

describe('team store: PostgreSQL + pgvector', () => {
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

	it('creates its schema once, under an advisory lock, with its version; opening again changes nothing', async () => {
		for (let i = 0; i < 3; i++) {
			const s = await PgVectorStore.open({ url: db.url, push: true }, stamp());
			await s.close();
		}
		const version = await sql.query(`select value from clip_search.meta where key = 'schema_version'`);
		assert.equal(version.rows[0].value, String(SCHEMA_VERSION));
		const models = await sql.query('select model_key, dim from clip_search.models');
		assert.deepEqual(models.rows, [{ model_key: storeModelKey(stamp()), dim: 16 }]);
		const ext = await sql.query(`select extversion from pg_extension where extname = 'vector'`);
		assert.match(ext.rows[0].extversion, /^0\.(5|6|7|8|9)|^[1-9]/, 'pgvector with HNSW');
	});

	it('a model key holds everything that changes vectors; a local folder is known by its files, not its path', () => {
		assert.equal(storeModelKey(stamp()), 'Test/model@r1#fp32+pre1');
		assert.equal(storeModelKey(stamp({ id: '/home/a/models/clip', revision: 'abc' })), storeModelKey(stamp({ id: '/Users/b/clip', revision: 'abc' })));
		assert.notEqual(storeModelKey(stamp({ variant: 'quantized' })), storeModelKey(stamp()));
	});

	it('pushes many times in sequence (ON CONFLICT DO NOTHING) and pulls exactly what it holds', async () => {
		const s = await PgVectorStore.open({ url: db.url, push: true }, stamp());
		try {
			const vectors = clustered(50, 16, 1);
			let added = 0;
			for (let i = 0; i < 5; i++) {
				added += await s.push(vectors); // as if five CI runners pushed the same images
			}
			assert.equal(added, 50);
			const pulled = await s.pull([...vectors.keys(), 'not-there']);
			assert.equal(pulled.size, 50);
			for (const [h, v] of vectors) {
				assert.ok(v.every((x, d) => Math.abs(x - pulled.get(h)![d]) < 1e-6), h);
			}
			assert.deepEqual(await s.missing(['h1-0', 'new']), ['new']);
		} finally {
			await s.close();
		}
	});

	it('refuses vectors of another dimension under a model key, never mixing them', async () => {
		await assert.rejects(PgVectorStore.open({ url: db.url }, stamp({ dim: 32 })), (e: unknown) => ClipError.is(e, 'ModelMismatch') && /16-d, this model's 32-d: refused, nothing mixed/.test((e as Error).message));
	});

	it('planner trap 1: ordered by the distance alone, so the HNSW index serves the search; a score or a key before it would not (EXPLAIN)', async () => {
		const model = stamp({ id: 'Test/planned' });
		const s = await PgVectorStore.open({ url: db.url, push: true, library: 'plan' }, model);
		try {
			const vectors = clustered(2000, 16, 5);
			await s.push(vectors);
			await s.publishFiles(new Map([...vectors.keys()].map((h, i) => [`img-${i}.png`, h])));
			const table = (await sql.query(`select table_name from clip_search.models where model_key = $1`, [storeModelKey(model)])).rows[0].table_name as string;
			const text = remoteSearchSql(table, '');
			const orderBy = /order by([\s\S]*?)limit/i.exec(text)![1];
			assert.ok(!orderBy.includes(','), `one sort key: ${orderBy.trim()}`);
			const explain = async (query: string): Promise<string> =>
				(await sql.query(`explain ${query}`, ['[' + Array(16).fill(0.25).join(',') + ']', 'plan', 5])).rows.map(r => r['QUERY PLAN']).join('\n');
			const plan = await explain(text);
			assert.match(plan, new RegExp(`Index Scan using ${table}_hnsw`), plan);
			// The tempting forms that lose the index: ordering by a score, or by another key first.
			for (const order of ['order by 1 - (e.embedding <=> $1::vector) desc', 'order by e.content_hash, e.embedding <=> $1::vector']) {
				const lost = await explain(text.replace(/order by[\s\S]*?(?=limit)/i, `${order}\n`));
				assert.doesNotMatch(lost, /_hnsw/, `${order} keeps the index?\n${lost}`);
			}
		} finally {
			await s.close();
		}
	});

	it('planner trap 2: ef_search is SET LOCAL, so it does not outlive the query on a shared session', async () => {
		const s = await PgVectorStore.open({ url: db.url, push: true, library: 'ef' }, stamp());
		try {
			const vectors = clustered(20, 16, 2);
			await s.push(vectors);
			await s.publishFiles(new Map([...vectors.keys()].map((h, i) => [`img-${i}.png`, h])));
			const before = (await sql.query('show hnsw.ef_search')).rows[0]['hnsw.ef_search'];
			const hits = await s.searchLibrary('ef', vectors.get('h2-3')!, 3, { ef: 123 });
			assert.equal(hits[0].path, 'img-3.png');
			const after = (await sql.query('show hnsw.ef_search')).rows[0]['hnsw.ef_search'];
			assert.equal(after, before, 'the session (PGlite has one for every connection) is as it was');
			assert.notEqual(after, '123');
		} finally {
			await s.close();
		}
	});

	it('planner trap 3: a scoped search over a rare folder still returns k rows (iterative scans)', async () => {
		const s = await PgVectorStore.open({ url: db.url, push: true, library: 'scoped' }, stamp());
		try {
			const vectors = clustered(600, 16, 3);
			await s.push(vectors);
			const hashes = [...vectors.keys()];
			// Three images under rare/, far from the query; the rest elsewhere.
			const files = new Map(hashes.map((h, i) => [i % 200 === 7 ? `rare/img-${i}.png` : `common/img-${i}.png`, h]));
			await s.publishFiles(files);
			const query = vectors.get(hashes[0])!;
			const hits = await s.searchLibrary('scoped', query, 3, { scope: 'rare', ef: 10 });
			assert.deepEqual(hits.map(h => h.path).sort(), ['rare/img-207.png', 'rare/img-407.png', 'rare/img-7.png']);
		} finally {
			await s.close();
		}
	});

	it('planner trap 4: a bulk push is followed by ANALYZE (the planner knows the table)', async () => {
		const s = await PgVectorStore.open({ url: db.url, push: true }, stamp({ id: 'Test/analyzed' }));
		try {
			await s.push(clustered(150, 16, 4));
			const table = (await sql.query(`select table_name from clip_search.models where model_key = $1`, [storeModelKey(stamp({ id: 'Test/analyzed' }))])).rows[0].table_name;
			const rel = await sql.query(`select reltuples from pg_class where relname = $1`, [table]);
			assert.equal(Number(rel.rows[0].reltuples), 150);
		} finally {
			await s.close();
		}
	});

	it('a pull-only client makes no schema; an unknown model pulls nothing', async () => {
		const s = await PgVectorStore.open({ url: db.url }, stamp({ id: 'Test/never-pushed' }));
		assert.equal((await s.pull(['a', 'b'])).size, 0);
		await s.close();
		const tables = await sql.query(`select count(*)::int as n from clip_search.models where model_id = 'Test/never-pushed'`);
		assert.equal(tables.rows[0].n, 0);
	});

	it('one clear line for an unreachable server, wrong credentials, TLS, missing privileges; never a password', async () => {
		await assert.rejects(PgVectorStore.open({ url: 'postgres://u@127.0.0.1:9/db', connectTimeoutMs: 2000 }, stamp()), (e: unknown) => ClipError.is(e, 'StoreUnavailable') && /^cannot reach the team store at 127\.0\.0\.1:9 \(ECONNREFUSED\)$/.test((e as Error).message));
		const addr = { label: 'postgres://ci@db.example:5432/assets', host: 'db.example', port: 5432, user: 'ci' };
		assert.match(describeStoreError(Object.assign(new Error('password authentication failed for user "ci"'), { code: '28P01' }), addr), /refused user "ci".*PGPASSWORD, ~\/\.pgpass/);
		assert.match(describeStoreError(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), addr), /TLS with the team store at db\.example failed.*--store-ca/);
		assert.match(describeStoreError(Object.assign(new Error('permission denied for table vectors_x'), { code: '42501' }), addr), /pulling needs SELECT.*pushing INSERT/);
		assert.throws(() => parseStoreUrl('postgres://ci:s3cret@db.example/assets'), (e: unknown) => ClipError.is(e, 'InvalidArgument') && /PGPASSWORD/.test((e as Error).message) && !(e as Error).message.includes('s3cret'));
		assert.equal(maskUrl('postgres://ci:s3cret@db.example/assets?sslrootcert=/x'), 'postgres://ci@db.example/assets');
	});

	it('a CA file makes the connection TLS or nothing: a server without TLS is one TLS line; a missing CA file is named', async () => {
		const ca = path.join(await tempDir('clip-store-ca-'), 'ca.pem');
		await fs.writeFile(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
		await assert.rejects(PgVectorStore.open({ url: db.url, caFile: ca }, stamp()), (e: unknown) => ClipError.is(e, 'StoreUnavailable') && /^TLS with the team store at 127\.0\.0\.1 failed \(.*\): give its CA certificate/.test((e as Error).message));
		await assert.rejects(PgVectorStore.open({ url: db.url, caFile: `${ca}.missing` }, stamp()), (e: unknown) => ClipError.is(e, 'InvalidArgument') && (e as Error).message.includes(`${ca}.missing cannot be read`));
	});

	it('roles: a SELECT-only role pulls and cannot push, with one line that says which grant is missing', async () => {
		await sql.query(`do $$ begin create role clip_reader login password 'reader'; exception when duplicate_object then null; end $$`);
		// The grants README's "Share embeddings with your team" gives developers.
		await sql.query('grant usage on schema clip_search to clip_reader');
		await sql.query('grant select on all tables in schema clip_search to clip_reader');
		const asReader = async <T>(work: (url: string) => Promise<T>): Promise<T> => {
			if (db.native) {
				const u = new URL(db.url);
				u.username = 'clip_reader';
				process.env.PGPASSWORD = 'reader';
				try {
					return await work(u.toString());
				} finally {
					delete process.env.PGPASSWORD;
				}
			}
			// [Note: PGlite's one session] every connection shares the session, so SET ROLE here is the role the store's own connection runs as.
			await sql.query('set role clip_reader');
			try {
				return await work(db.url);
			} finally {
				await sql.query('reset role');
			}
		};
		await asReader(async url => {
			const reader = await PgVectorStore.open({ url }, stamp());
			try {
				assert.equal((await reader.pull(['h1-0'])).size, 1);
			} finally {
				await reader.close();
			}
			await assert.rejects(PgVectorStore.open({ url, push: true }, stamp({ id: 'Test/by-reader' })), (e: unknown) => ClipError.is(e, 'StoreUnavailable') && /role "(postgres|clip_reader)" may not do this .*pushing INSERT/.test((e as Error).message));
		});
		const leaked = await sql.query(`select count(*)::int as n from clip_search.models where model_id = 'Test/by-reader'`);
		assert.equal(leaked.rows[0].n, 0, 'nothing written by the reader');
	});
});
