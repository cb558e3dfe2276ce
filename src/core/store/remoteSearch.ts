/**
 * @file Mode 2 of a team store, the library searched on the server: the query's filters as SQL
 * ([Note: filters on the server]), the server-side nearest neighbours ([Note: planner traps]) and the
 * sample a sorted search takes its cut-off from.
 */
import type pg from 'pg';
import { ClipError } from '../common/errors';
import { sampleSpread } from '../common/sample';
import { UNIT_TOLERANCE } from '../common/vectors';
import { qualified, toSql } from './storeNames';

/** What a search on the server needs of an open store. */
export interface SearchContext {
	db: pg.Client;
	table: string | undefined;
	label: string;
	modelKey: string;
	iterative: boolean;
	log?: (message: string) => void;
	fail: (err: unknown) => never;
}

export interface LibrarySearchOptions {
	scope?: string;
	ef?: number;
	excludeHashes?: string[];
	filters?: StoreFilter[];
	pathOk?: (rel: string) => boolean;
	pathPrefixes?: string[];
}

export interface LibraryHit {
	path: string;
	score: number;
	size?: number;
	mtimeMs?: number;
}

export const DEFAULT_EF_SEARCH = 100;

/**
 * Mode 2: the library's images nearest to `vector`, searched on the server ([Note: planner traps]:
 * ordered by the distance alone, SET LOCAL ef_search, iterative scans for a scoped or filtered
 * search; [Note: filters on the server]).
 */
export async function searchLibrary(ctx: SearchContext, library: string, vector: Float32Array, k: number, options: LibrarySearchOptions = {}): Promise<LibraryHit[]> {
	const table = ctx.table;
	if (!table) {
		throw new ClipError('IndexNotFound', `The team store at ${ctx.label} has no vectors of ${ctx.modelKey}: push a library first (clip-search index <root> --store URL --push --library ${library}).`);
	}
	const filters = options.filters ?? [];
	const prefixes = (options.pathPrefixes ?? []).filter(Boolean);
	const filtered = filters.length > 0 || prefixes.length > 0 || !!options.pathOk;
	try {
		if (filters.length && !(await ctx.db.query<{ t: string | null }>(`select to_regclass('clip_search.contents')::text as t`)).rows[0]?.t) {
			throw new ClipError(
				'InvalidQuery',
				`The team store at ${ctx.label} holds no file facts yet (format, size, time): push the library again with this version (clip-search index <root> --store URL --push --library ${library}) to search it with filters.`,
			);
		}
		const like = (p: string): string => `${p.replace(/[\\%_]/g, m => `\\${m}`).replace(/\/+$/, '')}/%`;
		// The scope as given; a glob's literal prefix case-insensitively (globs match so: search/filters.ts).
		const scopes = [...(options.scope ? [like(options.scope)] : []), ...prefixes.map(p => ({ nocase: like(p) }))];
		const excluded = new Set(options.excludeHashes ?? []); // the query's own images
		let limit = Math.max(k, 1) * 4;
		for (;;) {
			await ctx.db.query('begin');
			// pgvector takes 1..1000; iterative scans go on past it for a longer list.
			await ctx.db.query(`set local hnsw.ef_search = ${Math.min(1000, Math.max(limit, options.ef ?? DEFAULT_EF_SEARCH)) | 0}`);
			if (ctx.iterative) {
				await ctx.db.query(`set local hnsw.iterative_scan = relaxed_order`);
			}
			// Fixed parameters: $1 vector, $2 library, $3 limit; then the scopes and the filters' values.
			const where = storeConditions(filters, scopes, 4);
			if (filtered) {
				// Few passing: an exact sort of their vectors, not the graph (as locally: [Note: exact under a filter]).
				const count = await ctx.db.query<{ n: string }>(
					`select count(distinct f.content_hash) as n from clip_search.files f ${FACT_JOINS} where f.library = $1${storeConditions(filters, scopes, 2).sql}`,
					[library, ...where.params],
				);
				if (Number(count.rows[0]?.n ?? 0) <= STORE_EXACT_SCAN_MAX) {
					await ctx.db.query('set local enable_indexscan = off');
				}
			}
			const sql = remoteSearchSql(table, where.sql, filtered);
			// [Note: vectors from elsewhere]: a row whose vector is not of length 1 (a zero vector's
			// distance is NaN; a poisoned one's is meaningless) is dropped and counted.
			const all = (await ctx.db.query<{ content_hash: string; distance: number; norm: number }>(sql, [toSql(vector), library, limit, ...where.params])).rows;
			const sound = all.filter(r => Number.isFinite(Number(r.distance)) && Math.abs(Number(r.norm) - 1) <= UNIT_TOLERANCE);
			if (sound.length < all.length) {
				ctx.log?.(`team store ${ctx.label}: ${all.length - sound.length} result(s) with a vector that is not of length 1 left out`);
			}
			const rows = sound.filter(r => !excluded.has(r.content_hash));
			const paths = storeConditions(filters, scopes, 3);
			const files = await ctx.db.query<{ path: string; content_hash: string; bytes: string | null; mtime_ms: number | null }>(
				`select f.path, f.content_hash, c.bytes, t.mtime_ms from clip_search.files f ${FACT_JOINS} where f.library = $1 and f.content_hash = any($2)${paths.sql}`,
				[library, rows.map(r => r.content_hash), ...paths.params],
			);
			await ctx.db.query('commit');
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
		await ctx.db.query('rollback').catch(() => undefined);
		ctx.fail(err);
	}
}

/**
 * The cosines to `vector` of up to 256 contents spread over those of a library that pass the
 * filters: the sample a local index takes for its default cut-off ([Note: default cut-off] in
 * search/search.ts), so a sorted `--remote` search keeps the same hits as a local one.
 */
export async function sampleCosines(
	ctx: SearchContext,
	library: string,
	vector: Float32Array,
	options: { scope?: string; filters?: StoreFilter[]; pathOk?: (rel: string) => boolean } = {},
): Promise<number[]> {
	const table = ctx.table;
	if (!table) {
		return [];
	}
	const like = (p: string): string => `${p.replace(/[\\%_]/g, m => `\\${m}`).replace(/\/+$/, '')}/%`;
	const where = storeConditions(options.filters ?? [], options.scope ? [like(options.scope)] : [], 2);
	try {
		const files = await ctx.db.query<{ path: string; content_hash: string }>(`select f.path, f.content_hash from clip_search.files f ${FACT_JOINS} where f.library = $1${where.sql}`, [library, ...where.params]);
		const hashes = files.rows.filter(f => !options.pathOk || options.pathOk(f.path)).map(f => f.content_hash);
		const sample = sampleSpread(hashes);
		const rows = (
			await ctx.db.query<{ distance: number; norm: number }>(`select e.embedding <=> $1::vector as distance, vector_norm(e.embedding) as norm from ${qualified(table)} e where e.content_hash = any($2)`, [toSql(vector), sample])
		).rows;
		return rows.filter(r => Number.isFinite(Number(r.distance)) && Math.abs(Number(r.norm) - 1) <= UNIT_TOLERANCE).map(r => 1 - Number(r.distance));
	} catch (err) {
		ctx.fail(err);
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
