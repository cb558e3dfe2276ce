/**
 * @file Search an index by text, by image, or by a combined query. The query's terms are embedded,
 * weighted, summed and normalised into one vector; images are ranked by cosine to it.
 */
import * as path from 'node:path';
import type { ClipEncoder } from '../model/runtime/encoder';
import type { IndexStore } from '../index/indexStore';
import { cachedPassingSet, type PassingSet, topK } from './filteredSearch';
import { describeFilters, type FileFacts, needs, parseFilters, passesFilters, pathFilterSteps, type QueryFilter } from './filters';
import { explainEmpty } from './emptyAnswer';
import { imageVector, queryVector } from './queryVector';
import { explainHits, type Why } from './why';
import { compareBy, type SortKey } from './hitOrder';
import { parseQuery } from './query';
import { searchText } from './textSearch';
import { dot } from '../common/vectors';
import { sampleSpread } from '../common/sample';
import { ClipError } from '../common/errors';
import type { FileEntry } from '../index/catalogFile';


export interface SearchOptions {
	k?: number;
	/** Drop hits whose cosine is below this. */
	minScore?: number;
	/** Drop hits more than this below the best hit's cosine. */
	relativeCutoff?: number;
	/** Only files under this folder (relative to the root, '/' separators). */
	scope?: string;
	/** Paths (relative) to leave out of the results, e.g. the query image itself. */
	exclude?: string[];
	/** Folder that relative image paths in the query are resolved against (default: cwd). */
	cwd?: string;
	/**
	 * Image terms must stay inside this folder, links followed (agents: [Note: confinement] in
	 * common/confine.ts). Without it a person's own command line may name any regular file.
	 */
	within?: string;
	ef?: number;
	/** Told what a person should know about how the query was answered (e.g. text reading is off). */
	onNote?: (note: string) => void;
	/** How the hits that pass the cut-off are ordered (filters.ts; relevance by default). */
	sort?: SortKey;
	/** The labels the tags file gives a file (relative path), for `tag:` filters and `why`; undefined: no entry. */
	tagsOf?: (rel: string) => { labels: readonly string[]; probability?: number } | undefined;
	/** The tags file is there but cannot be used: a tag: filter fails with this, other queries say so in a note. */
	tagsProblem?: ClipError;
	/** Images whose look the query moves towards / away from ("More like this", [Note: Rocchio]). */
	like?: string[];
	unlike?: string[];
	/** With `within`: the other folders an example (like/unlike) may come from (an agent's workspace folders). */
	likeRoots?: string[];
	/** The clock for relative dates in filters (after:7d). */
	now?: number;
	/** The scan/graph switch of filteredSearch.ts (tests). */
	exactScanMax?: number;
}

/** What was applied to answer a query: the filters, the order, the cut-off. */
export interface SearchAnswer {
	results: SearchResult[];
	filters: Record<string, unknown>[];
	sort: SortKey;
	/** The relevance cut-off the sorted hits passed: given (--min-score / --relative) or chosen. */
	cutoff?: { score: number; rule: string };
	/** What a person should know of how the query was read and answered (the same lines onNote was told). */
	notes?: string[];
	/** Words that look like mistyped filters, with the filter meant ([Note: what people type] in filters.ts). */
	corrections?: { word: string; meant: string }[];
}

/** [Note: fusion]: a text-only query on an index whose text was never read is searched by meaning, and says so. */
export const NO_TEXT_NOTE = 'The text inside the images was not read for this index, so the quoted words were searched by what the images show. To search the text too: clip-search index . --ocr (in VS Code: the clipSearch.ocr setting).';

export interface SearchResult {
	/** Relative to the index's root, '/' separators. */
	path: string;
	/** The cosine of the image to the query, always ([Note: fusion]: a text match is given apart, in textScore). */
	score: number;
	/** The recognised line of the image that matched the query's words. */
	text?: string;
	/** How well that line matched (0–1]: the share of the query's words found × their relevance. */
	textScore?: number;
	/** The file's modification time and size (for sorting and merging folders). */
	mtimeMs?: number;
	size?: number;
	why?: Why;
}

/**
 * [Note: fusion] A query's words are also matched against the text recognised in the images (when
 * the index has it: `index --ocr`), as whole words and without stopwords ([Note: text earns its
 * place] in textSearch.ts). An image whose text holds every content word of the query ranks above
 * every image that only looks like them (and a cut-off by score does not drop it); among those the
 * better match first (textScore: relevance, MiniSearch's score relative to the best match), then the
 * look. An image whose text holds only some of them (at least half) joins the candidates and is
 * ranked by its look like any other, its line shown in `why`. Why a step rather than a weighted sum
 * for full matches: cosine scales differ between models (0.15–0.35 for ViT-B/32, 0.5–0.8 for the
 * tiny test model), and when a person types words an image literally shows, that image is what they
 * mean — CLIP cannot read a 14-pixel message. `score` is the cosine on every hit and every surface;
 * the match is in `text` and `textScore`. `text:words`, or a query that is one quoted string,
 * searches the text only (its hits' score: the cosine to the words as a text query).
 */
const MIN_COVERAGE = 0.5;

/** The words of a text-only query: `text:login failed` or `"login failed"`. */
export function textOnlyQuery(query: string): string | undefined {
	const prefixed = /^\s*text:\s*(.+?)\s*$/i.exec(query);
	if (prefixed) {
		return prefixed[1];
	}
	const quoted = /^\s*"([^"]+)"\s*$/.exec(query);
	return quoted?.[1];
}

/** What may be returned: under the scope, not left out, passing the query's filters. */
interface Restriction {
	fileOk: (rel: string) => boolean;
	/** The labels with a file that passes; undefined when nothing restricts. */
	labels: PassingSet | undefined;
}

/** A file's facts, as much of them as the filters need. */
function factsOf(store: IndexStore, options: SearchOptions, filters: readonly QueryFilter[]): (rel: string, entry: FileEntry) => FileFacts {
	const needImage = needs(filters, 'image');
	const needText = needs(filters, 'text');
	const needTags = needs(filters, 'tags');
	return (rel, entry) => {
		const info = needImage && entry.hash ? store.infoOf(entry.hash) : undefined;
		return {
			path: rel,
			size: entry.size,
			mtimeMs: entry.mtimeMs,
			format: info?.format,
			width: info?.width,
			height: info?.height,
			tags: needTags ? options.tagsOf?.(rel)?.labels : undefined,
			hasText: needText && store.textsRead > 0 && entry.hash ? (store.textOf(entry.hash)?.length ?? 0) > 0 : undefined,
		};
	};
}

function restrict(store: IndexStore, options: SearchOptions, filters: readonly QueryFilter[], exclude: readonly string[]): Restriction {
	const scope = options.scope ? options.scope.replace(/\\/g, '/').replace(/\/+$/, '') + '/' : undefined;
	const left = new Set(exclude);
	const needTags = needs(filters, 'tags');
	if (needTags && !options.tagsOf && options.tagsProblem) {
		throw options.tagsProblem;
	}
	if (needTags && !options.tagsOf) {
		throw new ClipError('InvalidQuery', 'A tag: filter needs the tags file, and this folder has none: label the images first (clip-search label … --out <tags.json>, then --tags <tags.json>; in VS Code: Label Images…).');
	}
	const facts = factsOf(store, options, filters);
	const fileOk = (rel: string): boolean => {
		if ((scope && !rel.startsWith(scope)) || left.has(rel)) {
			return false;
		}
		if (!filters.length) {
			return true;
		}
		const entry = store.files.get(rel);
		return !!entry && passesFilters(filters, facts(rel, entry));
	};
	if (!scope && !left.size && !filters.length) {
		return { fileOk, labels: undefined };
	}
	const pass = (rel: string): boolean => fileOk(rel);
	// Tags come from a file the index does not watch: those filters are worked out afresh.
	const labels = cachedPassingSet(store, needTags ? undefined : JSON.stringify([scope, [...left].sort(), describeFilters(filters)]), pass);
	return { fileOk, labels };
}

/** The files of the nearest contents to `vector` that the restriction allows, best first. */
function rank(store: IndexStore, vector: Float32Array, k: number, r: Restriction, options: SearchOptions): SearchResult[] {
	const out: SearchResult[] = [];
	for (const hit of topK(store, vector, k, r.labels, { ef: options.ef, exactScanMax: options.exactScanMax })) {
		for (const rel of store.filesOfLabel(hit.label)) {
			if (r.fileOk(rel)) {
				out.push({ path: rel, score: hit.score });
			}
		}
	}
	return out.sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : 1));
}

/**
 * Ranks the index's images against a query vector (under the scope, without the left-out paths, among
 * those that pass `filters`: the exact top-k among them, [Note: exact under a filter]).
 */
export function searchVector(store: IndexStore, vector: Float32Array, options: SearchOptions = {}, filters: readonly QueryFilter[] = []): SearchResult[] {
	const k = Math.max(1, options.k ?? 20);
	const out = rank(store, vector, k, restrict(store, options, filters, options.exclude ?? []), options);
	const best = out[0]?.score ?? 0;
	return out
		.filter(r => (options.minScore === undefined || r.score >= options.minScore) && (options.relativeCutoff === undefined || r.score >= best - options.relativeCutoff))
		.slice(0, k);
}

/** Text or combined query → ranked images. Query images themselves are left out of the results. */
export async function search(store: IndexStore, encoder: ClipEncoder, query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
	return (await searchDetailed(store, encoder, query, options)).results;
}

/** How many candidates a sort other than relevance reorders (the hits above the cut-off among them). */
const SORT_POOL = 1000;

/**
 * search(), with what was applied: the filters (taken out of the query: filters.ts), the order and the
 * relevance cut-off. Sorting by anything but relevance orders the hits that pass a cut-off: the
 * one given (--min-score, --relative), else one chosen from the scores ([Note: default cut-off]).
 */
export async function searchDetailed(store: IndexStore, encoder: ClipEncoder, query: string, options: SearchOptions = {}): Promise<SearchAnswer> {
	const k = Math.max(1, options.k ?? 20);
	const sort = options.sort ?? 'relevance';
	const { rest, filters, notes: parsed, corrections } = parseFilters(query, options.now, pathFilterSteps(store.files.size));
	const notes: string[] = [];
	const note = (n: string): void => {
		notes.push(n);
		options.onNote?.(n);
	};
	parsed.forEach(note);
	const refine = { like: options.like ?? [], unlike: options.unlike ?? [], roots: options.likeRoots };
	const answer = (results: SearchResult[], cutoff?: SearchAnswer['cutoff']): SearchAnswer => {
		if (!results.length && filters.length) {
			// [Note: an empty answer says why] in emptyAnswer.ts.
			note(explainEmpty(store, filters, factsOf(store, options, filters)));
		}
		return { results, filters: describeFilters(filters), sort, ...(cutoff ? { cutoff } : {}), ...(notes.length ? { notes } : {}), ...(corrections.length ? { corrections } : {}) };
	};
	if (!rest && !refine.like.length) {
		throw new ClipError(
			'InvalidQuery',
			filters.length
				? `The query has only filters (${filters.map(f => f.word).join(' ')}): add words that describe the image, e.g. "a diagram ${filters[0].word}". Filters narrow a search; they do not make one.`
				: 'The query is empty: type what the image shows, e.g. "a red error icon".',
		);
	}
	if (options.tagsProblem && !needs(filters, 'tags')) {
		note(`The tags file was not used (${options.tagsProblem.message}), so hits show no tags; the search went on without it.`);
	}
	if (needs(filters, 'image')) {
		const unknown = store.hashesWithoutInfo().length;
		if (unknown) {
			note(`${unknown} image(s) have no recorded format or pixel size yet (indexed before they were recorded), so type:, wider:, taller: and size: pass over them: index the folder again to record them (nothing is embedded again).`);
		}
	}
	if (needs(filters, 'text') && store.textsRead === 0) {
		note('The text inside the images was not read for this index, so has:text passes no image. To read it: clip-search index . --ocr (in VS Code: the clipSearch.ocr setting).');
	}
	const entryOf = (rel: string): FileEntry | undefined => store.files.get(rel);
	let textOnly = rest ? textOnlyQuery(rest) : undefined;
	let text = rest;
	if (textOnly !== undefined && store.textsRead === 0) {
		note(NO_TEXT_NOTE);
		text = textOnly.replace(/^"(.*)"$/, '$1');
		textOnly = undefined;
	}
	if (textOnly !== undefined && !refine.like.length && !refine.unlike.length) {
		const r = restrict(store, options, filters, options.exclude ?? []);
		const [words] = await encoder.encodeTexts([textOnly.replace(/^"(.*)"$/, '$1')]);
		const out = searchText(store, textOnly, Math.max(k, sort === 'relevance' ? k : SORT_POOL) * 4, { textOnly: true, partial: true }).flatMap(hit => {
			const v = store.vectorOf(hit.hash);
			return store
				.filesOfLabel(store.labelOf(hit.hash) ?? -1)
				.filter(r.fileOk)
				.map(rel => ({ path: rel, score: v ? dot(v, words) : 0, text: hit.line, textScore: hit.coverage * hit.relevance }));
		});
		const ordered = withFacts(out, entryOf).sort((a, b) => compareBy(sort)(a, b) || (a.path < b.path ? -1 : 1)).slice(0, k);
		return answer(explainHits(store, ordered, [{ term: JSON.stringify(textOnly), vector: words, weight: 1 }], options));
	}
	const terms = text ? parseQuery(text) : [];
	const { vector, imagePaths, parts } = await queryVector(store, encoder, terms, options.cwd, options.within, refine);
	const exclude = [...(options.exclude ?? []), ...imagePaths];
	const r = restrict(store, options, filters, exclude);
	const pool = sort === 'relevance' ? k : Math.max(k, SORT_POOL);
	const byLook = rank(store, vector, pool, r, options);
	const words = terms
		.filter(t => t.kind === 'text' && t.weight > 0)
		.map(t => t.value)
		.join(' ');
	const textHits = words ? searchText(store, words, pool * 4, { partial: true }).filter(h => h.coverage >= MIN_COVERAGE) : [];
	const fused = new Map<string, SearchResult>(byLook.map(hit => [hit.path, hit]));
	for (const hit of textHits) {
		const v = store.vectorOf(hit.hash);
		const score = v ? dot(v, vector) : 0;
		for (const rel of store.filesOfLabel(store.labelOf(hit.hash) ?? -1).filter(r.fileOk)) {
			// Every content word: ranked first. Some of them: a candidate ranked by its look, its line shown.
			fused.set(rel, hit.coverage >= 1 ? { path: rel, score, text: hit.line, textScore: hit.relevance } : { ...(fused.get(rel) ?? { path: rel, score }), text: hit.line });
		}
	}
	const all = withFacts([...fused.values()], entryOf);
	const best = byLook[0]?.score ?? 0;
	let cutoff: SearchAnswer['cutoff'];
	if (options.minScore !== undefined) {
		cutoff = { score: options.minScore, rule: 'min-score' };
	} else if (options.relativeCutoff !== undefined) {
		cutoff = { score: best - options.relativeCutoff, rule: `relative: ${options.relativeCutoff} below the best, ${best.toFixed(3)}` };
	} else if (sort !== 'relevance' && byLook.length) {
		cutoff = defaultCutoff(store, vector, r, best);
	}
	// A text match is kept whatever its cosine ([Note: fusion]).
	const kept = cutoff ? all.filter(hit => hit.textScore !== undefined || hit.score >= cutoff.score) : all;
	const ordered = kept.sort((a, b) => compareBy(sort)(a, b) || (a.path < b.path ? -1 : 1)).slice(0, k);
	return answer(explainHits(store, ordered, parts, options), cutoff);
}

function withFacts(hits: SearchResult[], entryOf: (rel: string) => FileEntry | undefined): SearchResult[] {
	return hits.map(hit => {
		const entry = entryOf(hit.path);
		return entry ? { ...hit, mtimeMs: entry.mtimeMs, size: entry.size } : hit;
	});
}

/**
 * [Note: default cut-off] Sorted by date, name or size, the hits must first be relevant, and a fixed
 * cosine cannot say what that is: cosine scales differ between models (0.15–0.35 for ViT-B/32,
 * 0.5–0.8 for the tiny test model). The cut-off is read from this query's own scores instead:
 * halfway from the typical image (the median cosine of up to 256 contents spread evenly over the
 * sorted content hashes of those that pass the filters: the same sample a team store takes, so
 * `--remote` keeps the same set) to the best hit. It is said with the answer, and --min-score or
 * --relative replace it.
 */
export function halfwayCutoff(sample: number[], best: number): { score: number; rule: string } {
	const scores = [...sample].sort((a, b) => b - a);
	const typical = scores.length ? scores[Math.floor(scores.length / 2)] : best;
	const score = typical + (best - typical) / 2;
	return { score, rule: `halfway from the typical image (${typical.toFixed(3)}) to the best (${best.toFixed(3)})` };
}

function defaultCutoff(store: IndexStore, vector: Float32Array, r: Restriction, best: number): { score: number; rule: string } {
	const labels = r.labels ? [...r.labels.labels] : [...store.liveLabels()];
	const hashes = labels.map(label => store.hashOfLabel(label)).filter((h): h is string => !!h);
	const scores = sampleSpread(hashes)
		.map(hash => store.vectorOf(hash))
		.filter((v): v is Float32Array => !!v)
		.map(v => dot(v, vector));
	return halfwayCutoff(scores, best);
}

/** Images most like the given image file (itself excluded). */
export async function similar(store: IndexStore, encoder: ClipEncoder, image: string, options: SearchOptions = {}): Promise<SearchResult[]> {
	const { vector, rel } = await imageVector(store, encoder, path.resolve(options.cwd ?? process.cwd(), image), options.within);
	const hits = searchVector(store, vector, { ...options, exclude: [...(options.exclude ?? []), ...(rel ? [rel] : [])] });
	// The same fields as a search's hits: the file's facts and why (its cosine, a near-duplicate of a higher hit).
	return explainHits(store, withFacts(hits, r => store.files.get(r)), [{ term: image, vector, weight: 1 }], options);
}
