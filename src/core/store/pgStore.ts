/**
 * @file A team's embedding store on PostgreSQL + pgvector: vectors keyed by content hash, one table
 * per model key, so images are embedded once (on a CI runner with a GPU, say) and pulled by every
 * machine that has the same bytes; and a library's files beside them for searching on the server.
 *
 * [Note: the store's schema] Schema `clip_search`, version in `meta`; migrations run once, inside a
 * transaction under an advisory lock, so that concurrent first pushes do not race. `models` maps a
 * model key (id, revision, variant and the preprocessing version: anything that changes vectors) to
 * its own table `vectors_<hash>` of `vector(dim)` with an HNSW index over `vector_cosine_ops`, so a
 * model change never rewrites or mixes vectors. `files(library, path, content_hash, model_key)` is
 * what `index --push --library NAME` publishes for `search --remote`.
 *
 * [Note: planner traps] (pgvector's, met by Immich among others; each has a test in
 * test/core/store/pgStore.test.ts.) The index is used only for `ORDER BY embedding <=> $1 LIMIT k`
 * and nothing else: not a score (`1 - distance DESC`), not another key first; ties are broken
 * after, in JavaScript. `hnsw.ef_search` is set with SET LOCAL inside the query's transaction (a
 * plain SET would outlive it on a pooled or shared session). A scoped search filters while
 * scanning, which can return fewer than k rows unless iterative scans are on (pgvector 0.8:
 * `hnsw.iterative_scan`). ANALYZE runs after a bulk push so the planner knows the table's size.
 *
 * [Note: the store's answers are data] Whoever can write to the store chooses what it returns. The
 * name of a model's table is derived here from the model key (tableOf), never read back from
 * `models` (a row naming `vectors_x where pg_sleep(1) … --` ran its SQL in every reader), and every
 * identifier is quoted with the driver's escaping. Every pulled vector is checked (dimension, finite,
 * length 1: vectorProblem) and a bad row is skipped and named while the rest are kept. `models`
 * publishes a model's id only when it is a known id (a local folder is `local`, known by its
 * fingerprint): a reader never loads a path the store names.
 *
 * [Note: who may push] Pulling needs SELECT on the schema's tables; pushing needs INSERT (and, the
 * first time, CREATE for the schema and tables). A team gives developers a read-only role and only
 * its CI an inserting one: that is how vectors are kept from being poisoned.
 */
import pg from 'pg';
import { ClipError, describeError } from '../common/errors';
import { nearestName } from '../common/suggest';
import { vectorProblem } from '../common/vectors';
import type { ModelStamp } from '../index/indexStore';
import type { RemoteVectors } from '../index/remoteVectors';
import { type FileFacts, type LibraryHit, type LibrarySearchOptions, sampleCosines, type SearchContext, searchLibrary, type StoreFilter } from './remoteSearch';
import { describeStoreError, newClient, type StoreOptions } from './storeConnection';
import { fromSql, publishedModelId, qualified, storeModelKey, tableOf, toSql } from './storeNames';
import { parseStoreUrl, type StoreAddress } from './storeUrl';

export const SCHEMA_VERSION = 1;
const BATCH = 1000;

export class PgVectorStore implements RemoteVectors {
	readonly label: string;
	readonly pushing: boolean;
	private client?: pg.Client;
	private table?: string;
	private iterative = false;
	private readonly addr: StoreAddress;

	private constructor(
		private readonly options: StoreOptions,
		readonly modelKey: string,
		private readonly dim: number,
		private readonly model: ModelStamp,
	) {
		this.addr = parseStoreUrl(options.url, options.where);
		this.label = this.addr.label;
		this.pushing = !!options.push;
	}

	/** The model a library was pushed with (mode 2 needs it to embed the query). */
	static async libraryModel(options: StoreOptions, library: string): Promise<Pick<ModelStamp, 'id' | 'revision' | 'variant' | 'dim'>> {
		const addr = parseStoreUrl(options.url, options.where);
		const client = newClient(options, addr);
		try {
			await client.connect();
			const rows = (
				await client.query<{ model_id: string; revision: string; variant: string; dim: number }>(
					`select m.model_id, m.revision, m.variant, m.dim from clip_search.models m where m.model_key = (select model_key from clip_search.files where library = $1 limit 1)`,
					[library],
				)
			).rows;
			if (!rows[0]) {
				const names = (await client.query<{ library: string }>('select distinct library from clip_search.files order by library limit 50').catch(() => ({ rows: [] as { library: string }[] }))).rows.map(r => r.library);
				const near = nearestName(library, names);
				const known = names.length ? ` It has ${names.map(n => `"${n}"`).join(', ')}${near ? ` (did you mean "${near}"?)` : ''}.` : ' It has none yet.';
				throw new ClipError('IndexNotFound', `The team store at ${addr.label} has no library "${library}".${known} Push one with clip-search index <root> --store URL --push --library ${library}.`);
			}
			return { id: rows[0].model_id, revision: rows[0].revision, variant: rows[0].variant, dim: rows[0].dim };
		} catch (err) {
			if (ClipError.is(err)) {
				throw err;
			}
			throw new ClipError('StoreUnavailable', describeStoreError(err, addr), { cause: err });
		} finally {
			await client.end().catch(() => undefined);
		}
	}

	/** Connects, checks pgvector, and (to push) creates the schema and the model's table once. */
	static async open(options: StoreOptions, model: ModelStamp): Promise<PgVectorStore> {
		const store = new PgVectorStore(options, storeModelKey(model), model.dim, model);
		await store.connect();
		return store;
	}

	private fail(err: unknown): never {
		if (ClipError.is(err)) {
			throw err;
		}
		throw new ClipError('StoreUnavailable', describeStoreError(err, this.addr), { cause: err });
	}

	private async connect(): Promise<void> {
		const client = newClient(this.options, this.addr);
		try {
			await client.connect();
		} catch (err) {
			await client.end().catch(() => undefined);
			this.fail(err);
		}
		this.client = client;
		try {
			const version = await this.pgvectorVersion();
			this.iterative = !version.startsWith('0.5') && !version.startsWith('0.6') && !version.startsWith('0.7');
			if (this.pushing) {
				await this.migrate();
			}
			this.table = await this.modelTable();
		} catch (err) {
			await this.close();
			this.fail(err);
		}
	}

	private get db(): pg.Client {
		if (!this.client) {
			throw new ClipError('InvalidArgument', 'the team store is closed');
		}
		return this.client;
	}

	/** pgvector's version; installs it when allowed; a clear error when missing or too old for HNSW. */
	private async pgvectorVersion(): Promise<string> {
		const found = async (): Promise<string | undefined> => (await this.db.query<{ extversion: string }>(`select extversion from pg_extension where extname = 'vector'`)).rows[0]?.extversion;
		let version = await found();
		if (!version) {
			try {
				await this.db.query('create extension if not exists vector');
			} catch (err) {
				const why = /could not open extension control file|not available/i.test(describeError(err))
					? 'it is not installed on this server (Debian/Ubuntu: postgresql-<version>-pgvector; managed services: enable the "vector" extension)'
					: 'and this role may not create it: ask an admin to run CREATE EXTENSION vector (a superuser, or the managed service\'s admin role)';
				throw new ClipError('InvalidArgument', `The team store at ${this.label} has no pgvector extension, ${why}.`);
			}
			version = await found();
		}
		const [major, minor] = (version ?? '0.0').split('.').map(Number);
		if (major === 0 && minor < 5) {
			throw new ClipError('InvalidArgument', `The team store at ${this.label} has pgvector ${version}; HNSW indexes need 0.5 or later: ALTER EXTENSION vector UPDATE (after installing a newer pgvector).`);
		}
		return version!;
	}

	/** [Note: the store's schema]: created or brought up to date once, under an advisory lock. */
	private async migrate(): Promise<void> {
		await this.db.query('begin');
		try {
			await this.db.query(`select pg_advisory_xact_lock(hashtext('clip_search.migrate'))`);
			// Only when missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
			// schema exists, which a CI role given its own schema (README's roles) does not have.
			if (!(await this.db.query(`select 1 from pg_namespace where nspname = 'clip_search'`)).rowCount) {
				await this.db.query('create schema clip_search');
			}
			await this.db.query('create table if not exists clip_search.meta (key text primary key, value text not null)');
			const current = Number((await this.db.query<{ value: string }>(`select value from clip_search.meta where key = 'schema_version'`)).rows[0]?.value ?? 0);
			if (current > SCHEMA_VERSION) {
				throw new ClipError('InvalidArgument', `The team store's schema is version ${current}, newer than this clip-search knows (${SCHEMA_VERSION}): update CLIP Image Search.`);
			}
			if (current < 1) {
				await this.db.query(`create table if not exists clip_search.models (
					model_key text primary key, table_name text not null unique, dim integer not null,
					model_id text not null, revision text not null, variant text not null, created_at timestamptz not null default now())`);
				await this.db.query(`create table if not exists clip_search.files (
					library text not null, path text not null, content_hash text not null, model_key text not null,
					primary key (library, path))`);
				await this.db.query('create index if not exists files_content_hash on clip_search.files (content_hash)');
				await this.db.query(`insert into clip_search.meta (key, value) values ('schema_version', $1) on conflict (key) do update set value = excluded.value`, [String(SCHEMA_VERSION)]);
			}
			// Facts for search filters (type:, larger:, wider:, after:, …): added beside version 1's tables, so
			// that a reader of an older version still reads the store ([Note: filters on the server]).
			await this.db.query(`create table if not exists clip_search.contents (
				content_hash text primary key, bytes bigint, format text, width integer, height integer)`);
			await this.db.query(`create table if not exists clip_search.file_times (
				library text not null, path text not null, content_hash text not null, mtime_ms double precision not null,
				primary key (library, path))`);
			const table = tableOf(this.modelKey);
			await this.db.query(
				`insert into clip_search.models (model_key, table_name, dim, model_id, revision, variant) values ($1, $2, $3, $4, $5, $6) on conflict (model_key) do nothing`,
				[this.modelKey, table, this.dim, publishedModelId(this.model), this.model.revision, this.model.variant],
			);
			await this.db.query(`create table if not exists ${qualified(table)} (content_hash text primary key, embedding vector(${this.dim | 0}) not null)`);
			await this.db.query(`create index if not exists ${pg.escapeIdentifier(`${table}_hnsw`)} on ${qualified(table)} using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64)`);
			await this.db.query('commit');
		} catch (err) {
			await this.db.query('rollback').catch(() => undefined);
			throw err;
		}
	}

	/** The model's table, checked against the model's dimension; undefined when the store has none yet. */
	private async modelTable(): Promise<string | undefined> {
		const schema = await this.db.query(`select 1 from information_schema.tables where table_schema = 'clip_search' and table_name = 'models'`);
		if (!schema.rowCount) {
			this.options.log?.(`the team store ${this.label} has no clip_search schema yet: nothing to pull (an index --push with a role that may create it makes it)`);
			return undefined;
		}
		const row = (await this.db.query<{ table_name: string; dim: number }>('select table_name, dim from clip_search.models where model_key = $1', [this.modelKey])).rows[0];
		if (!row) {
			// The same model with another variant (or preprocessing) is a common slip: CI pushes fp32 from a GPU, the editor wants int8.
			const others = (
				await this.db.query<{ variant: string }>('select distinct variant from clip_search.models where model_id = $1 and revision = $2 and variant <> $3', [publishedModelId(this.model), this.model.revision, this.model.variant])
			).rows.map(r => r.variant);
			this.options.log?.(
				others.length
					? `team store ${this.label}: it holds this model's ${others.join(' and ')} vectors, not ${this.model.variant} ones, so nothing can be pulled: index with --variant ${others[0]} to use them (in VS Code: "clipSearch.modelVariant": "${others[0]}")`
					: `the team store ${this.label} has no vectors of ${this.modelKey} yet`,
			);
			return undefined;
		}
		if (row.dim !== this.dim) {
			throw new ClipError('ModelMismatch', `The team store's vectors of ${this.modelKey} are ${row.dim}-d, this model's ${this.dim}-d: refused, nothing mixed. Someone pushed vectors of another model under this key.`);
		}
		// [Note: the store's answers are data]: the name is ours; a row that names another table is refused.
		const table = tableOf(this.modelKey);
		if (row.table_name !== table) {
			throw new ClipError('StoreUnavailable', `The team store's models row of ${this.modelKey} names the table ${JSON.stringify(row.table_name).slice(0, 80)}, not ${table}: refused, nothing pulled. Someone changed clip_search.models; an admin should check it.`);
		}
		return table;
	}

	async pull(hashes: string[]): Promise<Map<string, Float32Array>> {
		const out = new Map<string, Float32Array>();
		if (!this.table || !hashes.length) {
			return out;
		}
		const asked = new Set(hashes);
		const refused: string[] = [];
		try {
			for (let i = 0; i < hashes.length; i += BATCH) {
				const rows = await this.db.query<{ content_hash: string; embedding: string }>(`select content_hash, embedding::text as embedding from ${qualified(this.table)} where content_hash = any($1)`, [hashes.slice(i, i + BATCH)]);
				for (const r of rows.rows) {
					// [Note: vectors from elsewhere] in common/vectors.ts: a bad row is skipped and named; the rest are kept.
					const v = typeof r.embedding === 'string' ? fromSql(r.embedding) : new Float32Array(0);
					const problem = asked.has(r.content_hash) ? vectorProblem(v, this.dim) : 'a hash that was not asked for';
					if (problem) {
						refused.push(`${String(r.content_hash).slice(0, 16)}… (${problem})`);
						continue;
					}
					out.set(r.content_hash, v);
				}
			}
			if (refused.length) {
				this.options.log?.(`team store ${this.label}: ${refused.length} vector(s) refused, those images are embedded here: ${refused.slice(0, 5).join(', ')}${refused.length > 5 ? ', …' : ''}`);
			}
		} catch (err) {
			// What came before the failure is kept; the caller embeds the rest.
			throw Object.assign(ClipError.is(err) ? err : new ClipError('StoreUnavailable', describeStoreError(err, this.addr), { cause: err }), { partial: out });
		}
		return out;
	}

	async missing(hashes: string[]): Promise<string[]> {
		if (!this.table) {
			return hashes;
		}
		const known = new Set<string>();
		for (let i = 0; i < hashes.length; i += BATCH) {
			const rows = await this.db.query<{ content_hash: string }>(`select content_hash from ${qualified(this.table)} where content_hash = any($1)`, [hashes.slice(i, i + BATCH)]).catch(err => this.fail(err));
			rows.rows.forEach(r => known.add(r.content_hash));
		}
		return hashes.filter(h => !known.has(h));
	}

	async push(vectors: Map<string, Float32Array>): Promise<number> {
		if (!this.pushing || !vectors.size) {
			return 0;
		}
		const table = this.table ?? this.fail(new ClipError('InvalidArgument', 'the model table is missing'));
		let added = 0;
		const entries = [...vectors];
		try {
			for (let i = 0; i < entries.length; i += BATCH) {
				const slice = entries.slice(i, i + BATCH);
				const res = await this.db.query(
					`insert into ${qualified(table)} (content_hash, embedding) select h, e::vector from unnest($1::text[], $2::text[]) as t(h, e) on conflict (content_hash) do nothing`,
					[slice.map(([h]) => h), slice.map(([, v]) => toSql(v))],
				);
				added += res.rowCount ?? 0;
			}
			if (added >= BATCH / 10) {
				await this.db.query(`analyze ${qualified(table)}`); // [Note: planner traps]
			}
		} catch (err) {
			this.fail(err);
		}
		return added;
	}

	/**
	 * Replaces the library's file list (mode 2) with `files` (relative path → content hash), and with
	 * `facts` the files' size, time, format and pixel size, which search filters read on the server.
	 */
	async publishFiles(files: Map<string, string>, facts?: Map<string, FileFacts>): Promise<void> {
		const library = this.options.library;
		if (!library || !this.pushing) {
			return;
		}
		const entries = [...files];
		try {
			await this.db.query('begin');
			await this.db.query('delete from clip_search.files where library = $1 and not (path = any($2))', [library, entries.map(([p]) => p)]);
			for (let i = 0; i < entries.length; i += BATCH) {
				const slice = entries.slice(i, i + BATCH);
				await this.db.query(
					`insert into clip_search.files (library, path, content_hash, model_key) select $1, p, h, $4 from unnest($2::text[], $3::text[]) as t(p, h)
					 on conflict (library, path) do update set content_hash = excluded.content_hash, model_key = excluded.model_key`,
					[library, slice.map(([p]) => p), slice.map(([, h]) => h), this.modelKey],
				);
			}
			if (facts) {
				await this.db.query('delete from clip_search.file_times where library = $1 and not (path = any($2))', [library, entries.map(([p]) => p)]);
				const known = entries.filter(([p]) => facts.has(p));
				for (let i = 0; i < known.length; i += BATCH) {
					const slice = known.slice(i, i + BATCH).map(([p, h]) => ({ p, h, f: facts.get(p)! }));
					await this.db.query(
						`insert into clip_search.file_times (library, path, content_hash, mtime_ms) select $1, p, h, m from unnest($2::text[], $3::text[], $4::float8[]) as t(p, h, m)
						 on conflict (library, path) do update set content_hash = excluded.content_hash, mtime_ms = excluded.mtime_ms`,
						[library, slice.map(x => x.p), slice.map(x => x.h), slice.map(x => x.f.mtimeMs)],
					);
					// One row per content (the first file's facts: the same bytes have the same format and size).
					const byHash = new Map(slice.map(x => [x.h, x.f]));
					await this.db.query(
						`insert into clip_search.contents (content_hash, bytes, format, width, height) select * from unnest($1::text[], $2::int8[], $3::text[], $4::int4[], $5::int4[])
						 on conflict (content_hash) do update set bytes = excluded.bytes, format = coalesce(excluded.format, contents.format),
						 width = coalesce(excluded.width, contents.width), height = coalesce(excluded.height, contents.height)`,
						[[...byHash.keys()], [...byHash.values()].map(f => f.size), [...byHash.values()].map(f => f.format ?? null), [...byHash.values()].map(f => f.width ?? null), [...byHash.values()].map(f => f.height ?? null)],
					);
				}
			}
			await this.db.query('commit');
			await this.db.query('analyze clip_search.files');
		} catch (err) {
			await this.db.query('rollback').catch(() => undefined);
			this.fail(err);
		}
	}

	/** Mode 2: the library's images nearest to `vector`, searched on the server (remoteSearch.ts). */
	async searchLibrary(library: string, vector: Float32Array, k: number, options: LibrarySearchOptions = {}): Promise<LibraryHit[]> {
		return searchLibrary(this.searchContext(), library, vector, k, options);
	}

	/** The cosines of a spread sample of a library's passing contents (remoteSearch.ts sampleCosines). */
	async sampleCosines(library: string, vector: Float32Array, options: { scope?: string; filters?: StoreFilter[]; pathOk?: (rel: string) => boolean } = {}): Promise<number[]> {
		return sampleCosines(this.searchContext(), library, vector, options);
	}

	private searchContext(): SearchContext {
		return { db: this.db, table: this.table, label: this.label, modelKey: this.modelKey, iterative: this.iterative, log: this.options.log, fail: err => this.fail(err) };
	}

	async close(): Promise<void> {
		const c = this.client;
		this.client = undefined;
		await c?.end().catch(() => undefined);
	}
}
