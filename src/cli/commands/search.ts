/** @file `clip-search search` and `similar`: the nearest images to a query or to an image. */
import * as path from 'node:path';
import { resolveScope } from '../../core/search/scope';
import { parseQuery } from '../../core/search/query';
import { halfwayCutoff, type SearchAnswer, searchDetailed, similar, type SearchOptions, textOnlyQuery } from '../../core/search/search';
import { queryVector } from '../../core/search/queryVector';
import { compareBy, SORT_KEYS, type SortKey } from '../../core/search/hitOrder';
import { describeFilters, parseFilters, type QueryFilter } from '../../core/search/filters';
import { defaultTagsFile, tagsForSearch } from '../../core/labels/tagsFile';
import { ClipError } from '../../core/common/errors';
import { printable } from '../../core/common/printable';
import { nearestName } from '../../core/common/suggest';
import { findIndexDir } from '../../core/index/findIndex';
import { stampOf } from '../../core/index/indexSession';
import { IndexStore } from '../../core/index/indexStore';
import { ClipEncoder } from '../../core/model/runtime/encoder';
import { findKnownModel } from '../../core/model/hub/modelRegistry';
import { resolveModel } from '../../core/model/hub/modelResolver';
import type { ModelVariant } from '../../core/model/layouts/modelSpec';
import { PgVectorStore } from '../../core/store/pgStore';
import { type StoreFilter } from '../../core/store/remoteSearch';
import { storeModelKey } from '../../core/store/storeNames';
import { type CommandDef, numberOption, providerOption, RANGES, storeOption, threadsOption, UsageError, type Values } from '../args';
import { downloadReporter, log, printResults, stage } from '../output';
import { withReadIndex } from '../readIndex';

const SEARCH_OPTIONS = ['index', 'model', 'k', 'min-score', 'relative', 'scope', 'provider', 'threads', 'json'] as const;

function sortOption(values: Values): SortKey {
	const sort = values.sort ?? 'relevance';
	if (!(SORT_KEYS as readonly string[]).includes(sort)) {
		const near = nearestName(sort.toLowerCase(), SORT_KEYS);
		throw new UsageError(`--sort ${sort}: one of ${SORT_KEYS.join(', ')}${near ? ` (did you mean --sort ${near}?)` : ''}`);
	}
	return sort as SortKey;
}

/** What was applied, said on stderr (--json keeps stdout one document; the MCP tool returns it as fields). */
function sayApplied(answer: Pick<SearchAnswer, 'filters' | 'sort' | 'cutoff'>): void {
	const parts: string[] = [];
	if (answer.filters.length) {
		parts.push(`filters ${answer.filters.map(f => String(f.filter)).join(' ')}`);
	}
	if (answer.sort !== 'relevance') {
		parts.push(`sorted by ${answer.sort}`);
	}
	if (answer.cutoff && answer.sort !== 'relevance') {
		parts.push(`among hits with cosine ≥ ${answer.cutoff.score.toFixed(3)} (${answer.cutoff.rule === 'min-score' ? '--min-score' : answer.cutoff.rule.startsWith('relative') ? `--${answer.cutoff.rule}` : `the default cut-off: ${answer.cutoff.rule}; --min-score or --relative sets another`})`);
	}
	if (parts.length) {
		process.stderr.write(`clip-search: ${parts.join('; ')}\n`);
	}
}

function searchOptions(values: Values): SearchOptions {
	return {
		k: numberOption(values, 'k', RANGES.k) ?? 10,
		minScore: numberOption(values, 'min-score', RANGES.score),
		relativeCutoff: numberOption(values, 'relative', RANGES.relative),
		scope: values.scope,
	};
}

export const searchCommand: CommandDef = {
	name: 'search',
	summary: 'the images that best match a text query',
	usage: [
		'search "<query>" [--index <dir>] [--model <dir|id>] [-k N] [--min-score S] [--relative D] [--sort relevance|modified|name|size] [--scope <folder>] [--tags <tags.json>] [--json]',
		'search "<query>" --store <postgres URL> --remote --library NAME [--model <dir|id>] [-k N] [--min-score S] [--relative D] [--sort relevance|modified|name|size] [--scope <folder>] [--json]',
	],
	options: [...SEARCH_OPTIONS, 'sort', 'tags', 'store', 'store-ca', 'remote', 'library'],
	notes: [
		'Queries combine terms: "beach" + ./ref.png - "people", 2*"sunset" - "boat".',
		'text:words or a quoted "phrase" searches only the text read inside images (index --ocr).',
		'Filters anywhere in the query (a leading - negates): type:png,jpg after:2025-06-01 before:7d larger:200KB smaller:2MB wider:1000 taller:500 size:>=512x512 path:icons/** tag:screenshot has:text.',
	],
	run: async (words, values) => {
		const query = words.join(' ');
		if (!query.trim()) {
			throw new UsageError('search needs a query: clip-search search "a red error icon"');
		}
		const options = searchOptions(values);
		if (values.remote) {
			return searchRemote(query, values, options);
		}
		return withReadIndex(values, async ({ store, encoder }) => {
			const onNote = (note: string): void => void process.stderr.write(`clip-search: ${printable(note)}\n`);
			const { tagsOf, tagsProblem } = await tagsForSearch(values.tags ?? defaultTagsFile(store.root));
			if (values.tags && !tagsOf) {
				throw tagsProblem ?? new UsageError(`--tags ${values.tags}: no such tags file.`);
			}
			const answer = await searchDetailed(store, encoder, query, { ...options, sort: sortOption(values), tagsOf, tagsProblem, scope: await resolveScope(store, values.scope, '--scope', process.cwd()), onNote });
			sayApplied(answer);
			printResults(answer.results, values.json ?? false);
			return 0;
		});
	},
};

/**
 * The model folder of the index this command would read (--index, or the folder's own, as git finds
 * its repository) when it is the library's model: the same fingerprint and variant. A folder that
 * was indexed and pushed with --model <folder> can then search its library without naming it again.
 */
async function localModelOf(values: Values, model: { revision: string; variant: string }): Promise<string | undefined> {
	const dir = values.index ? path.resolve(values.index) : await findIndexDir(process.cwd()).then(
		found => found.dir,
		() => undefined,
	);
	const stamp = dir ? (await IndexStore.committedSettings(dir))?.model : undefined;
	return stamp && stamp.revision === model.revision && stamp.variant === model.variant ? stamp.id : undefined;
}

/** Mode 2: the text is embedded here, the nearest images are found on the store's server. */
async function searchRemote(query: string, values: Values, options: SearchOptions): Promise<number> {
	const at = storeOption(values)!;
	if (!values.library) {
		throw new UsageError('--remote searches a library on the store: add --library NAME (what index --push --library published).');
	}
	const model = await PgVectorStore.libraryModel({ ...at, log }, values.library);
	// [Note: the store's answers are data] in pgStore.ts: only a known id is taken from the store; a
	// library pushed with a local model folder (or anything else) needs this person's own --model.
	const ref = values.model ?? (findKnownModel(model.id) ? model.id : await localModelOf(values, model));
	if (!ref) {
		throw new ClipError(
			'ModelNotFound',
			`The library "${values.library}" was pushed with a model folder of the pusher's (fingerprint ${model.revision.slice(0, 12)}, ${model.variant}): give the same model folder with --model <folder>.`,
		);
	}
	const spec = await resolveModel(ref, { variant: model.variant as ModelVariant, onProgress: downloadReporter(values.json ?? false), log });
	const remote = await PgVectorStore.open({ ...at, log }, stampOf(spec));
	const encoder = new ClipEncoder(spec, { provider: providerOption(values), threads: threadsOption(values), log, onStage: stage });
	try {
		if (remote.modelKey !== storeModelKey({ ...model })) {
			throw new ClipError('ModelMismatch', `The library "${values.library}" was pushed with ${storeModelKey(model)}, but this model is ${remote.modelKey}: give --model the same model.`);
		}
		// One query, one meaning ([Note: one query everywhere]): the full language is parsed and embedded
		// here, image terms read as locally; the store gets the vector. It holds no text read inside
		// images, so a text-only query is searched by meaning, and says so (as locally without text).
		const { rest, filters, notes } = parseFilters(query);
		notes.forEach(n => process.stderr.write(`clip-search: ${printable(n)}\n`));
		const unsupported = filters.find(f => f.key === 'tag' || f.key === 'has');
		if (unsupported) {
			throw new ClipError('InvalidQuery', `The filter "${unsupported.word}" needs what the team store does not hold (${unsupported.key === 'tag' ? 'tags' : 'text read inside images'}): leave it out, or search a local index.`);
		}
		if (!rest) {
			throw new ClipError('InvalidQuery', `The query has only filters (${filters.map(f => f.word).join(' ')}): add words that describe the image.`);
		}
		let text = rest;
		const textOnly = textOnlyQuery(rest);
		if (textOnly !== undefined) {
			process.stderr.write(`clip-search: ${REMOTE_NO_TEXT_NOTE}\n`);
			text = textOnly.replace(/^"(.*)"$/, '$1');
		}
		const { vector, imageHashes } = await queryVector(undefined, encoder, text ? parseQuery(text) : [], process.cwd());
		const scope = remoteScope(options.scope);
		const k = options.k ?? 10;
		const sort = sortOption(values);
		const { storeFilters, pathOk, pathPrefixes } = toStoreFilters(filters);
		// Sorting by other than relevance reorders the relevant ones among more candidates (as locally).
		const pool = sort === 'relevance' ? k : Math.max(k, 1000);
		const hits = (await remote.searchLibrary(values.library, vector, pool + imageHashes.length, { scope, excludeHashes: imageHashes, filters: storeFilters, pathOk, pathPrefixes })).slice(0, pool);
		const best = hits[0]?.score ?? 0;
		let cutoff: SearchAnswer['cutoff'];
		if (options.minScore !== undefined) {
			cutoff = { score: options.minScore, rule: 'min-score' };
		} else if (options.relativeCutoff !== undefined) {
			cutoff = { score: best - options.relativeCutoff, rule: `relative ${options.relativeCutoff}` };
		} else if (sort !== 'relevance' && hits.length) {
			// [Note: default cut-off] in core/search/search.ts: the same sample of the passing images as locally.
			cutoff = halfwayCutoff(await remote.sampleCosines(values.library, vector, { scope, filters: storeFilters, pathOk }), best);
		}
		const results = hits
			.filter(h => !cutoff || h.score >= cutoff.score)
			.sort((a, b) => compareBy(sort)(a, b) || (a.path < b.path ? -1 : 1))
			.slice(0, k)
			.map(h => ({ ...h, why: { cosine: h.score } }));
		sayApplied({ filters: describeFilters(filters), sort, cutoff });
		printResults(results, values.json ?? false);
		return 0;
	} finally {
		await encoder.dispose();
		await remote.close();
	}
}

const REMOTE_NO_TEXT_NOTE = 'The team store holds no text read inside images, so the quoted words were searched by what the images show.';

/** A scope for the store's paths: '.', './' and '' are the whole library; './x/' is 'x'. */
function remoteScope(scope: string | undefined): string | undefined {
	const s = (scope ?? '').replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
	if (s.startsWith('/') || s.split('/').includes('..')) {
		throw new UsageError(`--scope ${scope}: give a folder of the library, relative to it (e.g. assets/icons).`);
	}
	return s === '' || s === '.' ? undefined : s;
}

export const similarCommand: CommandDef = {
	name: 'similar',
	summary: 'the images that look most like an image',
	usage: ['similar <image> [--index <dir>] [--model <dir|id>] [-k N] [--min-score S] [--relative D] [--scope <folder>] [--json]'],
	options: SEARCH_OPTIONS,
	run: async ([image], values) => {
		if (!image) {
			throw new UsageError('similar needs an image: clip-search similar ./picture.png');
		}
		const options = searchOptions(values);
		return withReadIndex(values, async ({ store, encoder }) => {
			printResults(await similar(store, encoder, image, { ...options, scope: await resolveScope(store, values.scope, '--scope', process.cwd()) }), values.json ?? false);
			return 0;
		});
	},
};

/**
 * The query's filters as the store applies them ([Note: filters on the server] in pgStore.ts): facts as
 * SQL conditions; globs matched here on the paths that come back, their literal prefix narrowing the scan.
 */
function toStoreFilters(filters: readonly QueryFilter[]): { storeFilters: StoreFilter[]; pathOk?: (rel: string) => boolean; pathPrefixes: string[] } {
	const storeFilters: StoreFilter[] = [];
	const paths: QueryFilter[] = [];
	const pathPrefixes: string[] = [];
	for (const f of filters) {
		switch (f.key) {
			case 'type':
				storeFilters.push({ fact: 'format', op: 'in', value: f.formats, not: f.not });
				break;
			case 'after':
			case 'before':
				storeFilters.push({ fact: 'mtime', op: f.key === 'after' ? '>=' : '<', value: f.atMs, not: f.not });
				break;
			case 'larger':
			case 'smaller':
				storeFilters.push({ fact: 'bytes', op: f.key === 'larger' ? '>=' : '<', value: f.bytes, not: f.not });
				break;
			case 'wider':
			case 'taller':
				storeFilters.push({ fact: f.key === 'wider' ? 'width' : 'height', op: '>=', value: f.pixels, not: f.not });
				break;
			case 'size':
				if (f.not) {
					// not (w op W and h op H) is not two negated conditions: matched here, on the facts that come back.
					throw new ClipError('InvalidQuery', `The filter "-${f.word}" is not supported on the team store: use -wider:/-taller:, or search a local index.`);
				}
				storeFilters.push({ fact: 'width', op: f.op, value: f.width, not: false }, { fact: 'height', op: f.op, value: f.height, not: false });
				break;
			case 'path': {
				paths.push(f);
				// An anchored pattern's folders before its first glob character: a LIKE prefix the server can use.
				if (!f.not && f.prefix) {
					pathPrefixes.push(f.prefix);
				}
				break;
			}
			default:
				break;
		}
	}
	const pathOk = paths.length ? (rel: string): boolean => paths.every(f => f.key === 'path' && f.match(rel) !== f.not) : undefined;
	return { storeFilters, pathOk, pathPrefixes };
}
