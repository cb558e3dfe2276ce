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
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { readRegularFileSync } from '../common/confine';
import { ClipError, describeError } from '../common/errors';
import { sampleSpread } from '../common/sample';
import { nearestName } from '../common/suggest';
import { UNIT_TOLERANCE, vectorProblem } from '../common/vectors';
import type { ModelStamp } from '../index/indexStore';
import type { RemoteVectors } from '../index/remoteVectors';
import { parseStoreUrl, type StoreAddress } from './storeUrl';

/** Bumped when preprocessing changes what vectors an image gets: part of the store's model key. */
export const PREPROCESS_VERSION = 1;
export const SCHEMA_VERSION = 1;
const BATCH = 1000;
export const DEFAULT_EF_SEARCH = 100;

export interface StoreOptions {
	url: string;
	/** From SecretStorage; else PGPASSWORD or ~/.pgpass. Never from the URL. */
	password?: string;
	/** A CA certificate file for TLS with a managed server (sslmode=verify-full in the URL too). */
	caFile?: string;
	/** Push what the store lacks (needs INSERT). */
	push?: boolean;
	/** Also publish the files of this library (mode 2). */
	library?: string;
	log?: (message: string) => void;
	/** Where the setting or option came from, for errors. */
	where?: string;
	connectTimeoutMs?: number;
}

/** The store's key of a model: anything that changes its vectors. A local folder is known by its files' fingerprint, not its path. */
export function storeModelKey(model: Pick<ModelStamp, 'id' | 'revision' | 'variant'>): string {
	const local = path.isAbsolute(model.id) || /^[a-zA-Z]:[\\/]/.test(model.id);
	return `${local ? 'local' : model.id}@${model.revision}#${model.variant}+pre${PREPROCESS_VERSION}`;
}

/** The model's table: derived from its key here, never taken from the store ([Note: the store's answers are data]). */
export function tableOf(modelKey: string): string {
	return `vectors_${createHash('sha256').update(modelKey).digest('hex').slice(0, 16)}`;
}

/** What `models.model_id` publishes: a known id, or `local` for a model folder (never its path). */
export function publishedModelId(model: Pick<ModelStamp, 'id'>): string {
	return storeModelKey({ id: model.id, revision: '', variant: '' }).startsWith('local@') ? 'local' : model.id;
}

/** `clip_search.<table>`, quoted with the driver's escaping. */
function qualified(table: string): string {
	if (!/^vectors_[0-9a-f]{16}$/.test(table)) {
		throw new ClipError('InvalidArgument', `"${table}" is not a table name this product makes.`);
	}
	return `clip_search.${pg.escapeIdentifier(table)}`;
}

const toSql = (v: Float32Array): string => `[${Array.from(v).join(',')}]`;
const fromSql = (s: string): Float32Array => Float32Array.from(s.slice(1, -1).split(','), Number);

/** One line for a failure, never a stack trace: unreachable, credentials, TLS, privileges. */
export function describeStoreError(err: unknown, addr: Pick<StoreAddress, 'label' | 'host' | 'port' | 'user'>): string {
	const e = err as { code?: string; message?: string };
	const code = e.code ?? '';
	if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE'].includes(code) || /timeout|Connection terminated|ended unexpectedly/i.test(e.message ?? '')) {
		return `cannot reach the team store at ${addr.host}:${addr.port} (${code || describeError(err)})`;
	}
	if (/client password must be a non-empty string/.test(e.message ?? '')) {
		// The server asked for a password (SCRAM) and none was found for this user and host.
		return `the team store asks user "${addr.user}" for a password and none is set: set PGPASSWORD or a ~/.pgpass line for ${addr.host}, or the password saved with CLIP: Set Team Store Password…`;
	}
	if (code === '28P01' || code === '28000') {
		return `the team store refused user "${addr.user}" (${describeError(err)}): check PGPASSWORD, ~/.pgpass, or the password saved with CLIP: Set Team Store Password…`;
	}
	if (/CERT|SSL|TLS|self.signed|certificate/i.test(`${code} ${e.message ?? ''}`)) {
		return `TLS with the team store at ${addr.host} failed (${describeError(err)}): give its CA certificate (--store-ca / clipSearch.storeCaFile) or check sslmode in the URL`;
	}
	if (code === '42501') {
		return `the team store's role "${addr.user}" may not do this (${describeError(err)}): pulling needs SELECT on schema clip_search, pushing INSERT (and CREATE the first time)`;
	}
	return `the team store at ${addr.label} failed: ${describeError(err)}`;
}

/** The password: SecretStorage's (given), else PGPASSWORD, else ~/.pgpass (or PGPASSFILE), read as libpq does. */
async function storePassword(options: Pick<StoreOptions, 'password'>, addr: StoreAddress): Promise<string | undefined> {
	if (options.password) {
		return options.password;
	}
	if (process.env.PGPASSWORD) {
		return process.env.PGPASSWORD;
	}
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const pgpass = require('pgpass') as (conn: Record<string, unknown>, cb: (pass?: string) => void) => void;
	return new Promise(resolve => pgpass({ host: addr.host, port: addr.port, database: addr.database, user: addr.user }, pass => resolve(pass ?? undefined)));
}

/**
 * A client for the address as parsed ([Note: one address] in storeUrl.ts): host, port, database and
 * user from it, never from the string again (the driver would let a query parameter override them,
 * and the empty password it parses would replace the password function); the password looked up for
 * that same host; TLS as sslmode and the CA file say.
 */
/** A CA bundle: a few KB; the system's whole bundle is about 200 KB. */
const MAX_CA_FILE_BYTES = 4 * 1024 * 1024;

function newClient(options: StoreOptions, addr: StoreAddress): pg.Client {
	let ca: string | undefined;
	if (options.caFile) {
		try {
			ca = readRegularFileSync(options.caFile, { maxBytes: MAX_CA_FILE_BYTES, what: 'the CA certificate' }).toString('utf8');
		} catch (err) {
			throw new ClipError('InvalidArgument', `The team store's CA certificate ${options.caFile} cannot be read (${describeError(err)}): give a PEM file (--store-ca, clipSearch.storeCaFile).`, { file: options.caFile });
		}
	}
	const ssl = addr.tls === 'no-verify' ? { rejectUnauthorized: false } : addr.tls === 'verify' || ca ? { rejectUnauthorized: true, ...(ca ? { ca } : {}) } : undefined;
	const client = new pg.Client({
		host: addr.host,
		port: addr.port,
		database: addr.database,
		user: addr.user,
		password: async () => (await storePassword(options, addr)) ?? '',
		...(ssl ? { ssl } : {}),
		connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
		application_name: `clip-search ${os.hostname()}`,
	});
	client.on('error', () => undefined); // a dropped connection fails the query in flight; that is where it is reported
	return client;
}

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

	/**
	 * Mode 2: the library's images nearest to `vector`, searched on the server ([Note: planner traps]:
	 * ordered by the distance alone, SET LOCAL ef_search, iterative scans for a scoped or filtered
	 * search; [Note: filters on the server]).
	 */
	async searchLibrary(
		library: string,
		vector: Float32Array,
		k: number,
		options: { scope?: string; ef?: number; excludeHashes?: string[]; filters?: StoreFilter[]; pathOk?: (rel: string) => boolean; pathPrefixes?: string[] } = {},
	): Promise<{ path: string; score: number; size?: number; mtimeMs?: number }[]> {
		const table = this.table;
		if (!table) {
			throw new ClipError('IndexNotFound', `The team store at ${this.label} has no vectors of ${this.modelKey}: push a library first (clip-search index <root> --store URL --push --library ${library}).`);
		}
		const filters = options.filters ?? [];
		const prefixes = (options.pathPrefixes ?? []).filter(Boolean);
		const filtered = filters.length > 0 || prefixes.length > 0 || !!options.pathOk;
		try {
			if (filters.length && !(await this.db.query<{ t: string | null }>(`select to_regclass('clip_search.contents')::text as t`)).rows[0]?.t) {
				throw new ClipError(
					'InvalidQuery',
					`The team store at ${this.label} holds no file facts yet (format, size, time): push the library again with this version (clip-search index <root> --store URL --push --library ${library}) to search it with filters.`,
				);
			}
			const like = (p: string): string => `${p.replace(/[\\%_]/g, m => `\\${m}`).replace(/\/+$/, '')}/%`;
			// The scope as given; a glob's literal prefix case-insensitively (globs match so: search/filters.ts).
			const scopes = [...(options.scope ? [like(options.scope)] : []), ...prefixes.map(p => ({ nocase: like(p) }))];
			const excluded = new Set(options.excludeHashes ?? []); // the query's own images
			let limit = Math.max(k, 1) * 4;
			for (;;) {
				await this.db.query('begin');
				// pgvector takes 1..1000; iterative scans go on past it for a longer list.
				await this.db.query(`set local hnsw.ef_search = ${Math.min(1000, Math.max(limit, options.ef ?? DEFAULT_EF_SEARCH)) | 0}`);
				if (this.iterative) {
					await this.db.query(`set local hnsw.iterative_scan = relaxed_order`);
				}
				// Fixed parameters: $1 vector, $2 library, $3 limit; then the scopes and the filters' values.
				const where = storeConditions(filters, scopes, 4);
				if (filtered) {
					// Few passing: an exact sort of their vectors, not the graph (as locally: [Note: exact under a filter]).
					const count = await this.db.query<{ n: string }>(
						`select count(distinct f.content_hash) as n from clip_search.files f ${FACT_JOINS} where f.library = $1${storeConditions(filters, scopes, 2).sql}`,
						[library, ...where.params],
					);
					if (Number(count.rows[0]?.n ?? 0) <= STORE_EXACT_SCAN_MAX) {
						await this.db.query('set local enable_indexscan = off');
					}
				}
				const sql = remoteSearchSql(table, where.sql, filtered);
				// [Note: vectors from elsewhere]: a row whose vector is not of length 1 (a zero vector's
				// distance is NaN; a poisoned one's is meaningless) is dropped and counted.
				const all = (await this.db.query<{ content_hash: string; distance: number; norm: number }>(sql, [toSql(vector), library, limit, ...where.params])).rows;
				const sound = all.filter(r => Number.isFinite(Number(r.distance)) && Math.abs(Number(r.norm) - 1) <= UNIT_TOLERANCE);
				if (sound.length < all.length) {
					this.options.log?.(`team store ${this.label}: ${all.length - sound.length} result(s) with a vector that is not of length 1 left out`);
				}
				const rows = sound.filter(r => !excluded.has(r.content_hash));
				const paths = storeConditions(filters, scopes, 3);
				const files = await this.db.query<{ path: string; content_hash: string; bytes: string | null; mtime_ms: number | null }>(
					`select f.path, f.content_hash, c.bytes, t.mtime_ms from clip_search.files f ${FACT_JOINS} where f.library = $1 and f.content_hash = any($2)${paths.sql}`,
					[library, rows.map(r => r.content_hash), ...paths.params],
				);
				await this.db.query('commit');
				const byHash = new Map<string, { path: string; size?: number; mtimeMs?: number }[]>();
				for (const f of files.rows) {
					if (options.pathOk && !options.pathOk(f.path)) {
						continue;
					}
					const size = f.bytes === null ? undefined : Number(f.bytes);
					const mtimeMs = f.mtime_ms === null ? undefined : Number(f.mtime_ms);
					byHash.set(f.content_hash, [
						...(byHash.get(f.content_hash) ?? []),
						{ path: f.path, ...(Number.isFinite(size) ? { size } : {}), ...(Number.isFinite(mtimeMs) ? { mtimeMs } : {}) },
					]);
				}
				// Ties broken here, not in the ORDER BY (a score or a key before the distance keeps the index from being used).
				const hits = rows.flatMap(r => (byHash.get(r.content_hash) ?? []).sort((a, b) => (a.path < b.path ? -1 : 1)).map(f => ({ ...f, score: 1 - Number(r.distance) })));
				// A glob only JavaScript can match may leave fewer than k: ask for more rows while there are more.
				if (hits.length >= k || all.length < limit || !options.pathOk || limit >= 65_536) {
					return hits.slice(0, k);
				}
				limit *= 4;
			}
		} catch (err) {
			await this.db.query('rollback').catch(() => undefined);
			this.fail(err);
		}
	}

	/**
	 * The cosines to `vector` of up to 256 contents spread over those of a library that pass the
	 * filters: the sample a local index takes for its default cut-off ([Note: default cut-off] in
	 * search/search.ts), so a sorted `--remote` search keeps the same hits as a local one.
	 */
	async sampleCosines(
		library: string,
		vector: Float32Array,
		options: { scope?: string; filters?: StoreFilter[]; pathOk?: (rel: string) => boolean } = {},
	): Promise<number[]> {
		const table = this.table;
		if (!table) {
			return [];
		}
		const like = (p: string): string => `${p.replace(/[\\%_]/g, m => `\\${m}`).replace(/\/+$/, '')}/%`;
		const where = storeConditions(options.filters ?? [], options.scope ? [like(options.scope)] : [], 2);
		try {
			const files = await this.db.query<{ path: string; content_hash: string }>(`select f.path, f.content_hash from clip_search.files f ${FACT_JOINS} where f.library = $1${where.sql}`, [library, ...where.params]);
			const hashes = files.rows.filter(f => !options.pathOk || options.pathOk(f.path)).map(f => f.content_hash);
			const sample = sampleSpread(hashes);
			const rows = (
				await this.db.query<{ distance: number; norm: number }>(`select e.embedding <=> $1::vector as distance, vector_norm(e.embedding) as norm from ${qualified(table)} e where e.content_hash = any($2)`, [toSql(vector), sample])
			).rows;
			return rows.filter(r => Number.isFinite(Number(r.distance)) && Math.abs(Number(r.norm) - 1) <= UNIT_TOLERANCE).map(r => 1 - Number(r.distance));
		} catch (err) {
			this.fail(err);
		}
	}

	async close(): Promise<void> {
		const c = this.client;
		this.client = undefined;
		await c?.end().catch(() => undefined);
	}
}

/**
 * The server-side search ([Note: planner traps]): the HNSW index orders by distance alone; the
 * library, the scopes and the filters (`conditions`, from storeConditions) filter the scan, which
 * iterative scans keep from running short of k rows.
 */
export function remoteSearchSql(table: string, conditions: string, withFacts = false): string {
	return `select e.content_hash, e.embedding <=> $1::vector as distance, vector_norm(e.embedding) as norm
		from ${qualified(table)} e
		where exists (select 1 from clip_search.files f${withFacts ? ` ${FACT_JOINS}` : ''} where f.library = $2 and f.content_hash = e.content_hash${conditions})
		order by e.embedding <=> $1::vector
		limit $3`;
}

/**
 * [Note: filters on the server] The store keeps what search filters read beside its files, in tables
 * version 1 did not have (`contents`: bytes, format, pixel size per content; `file_times`: each file's
 * modification time with the content it was taken for), so a reader of an older version still reads
 * the store, and an older pusher's rows simply lack facts. A fact that is missing (NULL) passes neither
 * a filter nor its negation, as locally (search/filters.ts). Values are always bound parameters. Globs
 * are matched by the caller's own matcher on the paths that come back; their literal prefix narrows
 * the scan here. At most STORE_EXACT_SCAN_MAX passing contents are sorted exactly, without the index.
 */
export interface StoreFilter {
	fact: 'format' | 'bytes' | 'width' | 'height' | 'mtime';
	op: 'in' | '>=' | '<' | '<=' | '>' | '=';
	value: number | string[];
	not: boolean;
}

/** The facts a file of a library stands for, as the pusher publishes them. */
export interface FileFacts {
	size: number;
	mtimeMs: number;
	format?: string;
	width?: number;
	height?: number;
}

export const STORE_EXACT_SCAN_MAX = 5_000;

const FACT_JOINS =
	'left join clip_search.contents c on c.content_hash = f.content_hash left join clip_search.file_times t on t.library = f.library and t.path = f.path and t.content_hash = f.content_hash';

const FACT_COLUMNS: Record<StoreFilter['fact'], string> = { format: 'c.format', bytes: 'c.bytes', width: 'c.width', height: 'c.height', mtime: 't.mtime_ms' };

/** ` and …` for the scopes (LIKE patterns, any of which… each must hold) and filters, with parameters numbered from `first`. */
export function storeConditions(filters: readonly StoreFilter[], likes: readonly (string | { nocase: string })[], first: number): { sql: string; params: unknown[] } {
	const params: unknown[] = [];
	const at = (v: unknown): string => {
		params.push(v);
		return `$${first + params.length - 1}`;
	};
	let sql = likes.map(l => (typeof l === 'string' ? ` and f.path like ${at(l)}` : ` and lower(f.path) like lower(${at(l.nocase)})`)).join('');
	for (const f of filters) {
		const column = FACT_COLUMNS[f.fact];
		const test = f.op === 'in' ? `${column} = any(${at(f.value)}::text[])` : `${column} ${f.op} ${at(f.value)}`;
		sql += f.not ? ` and coalesce(not (${test}), false)` : ` and coalesce(${test}, false)`;
	}
	return { sql, params };
}
