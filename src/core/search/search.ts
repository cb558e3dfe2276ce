/**
 * @file Search an index by text, by image, or by a combined query. The query's terms are embedded,
 * weighted, summed and normalised into one vector; images are ranked by cosine to it.
 */
import * as path from 'node:path';
import type { ClipEncoder } from '../model/encoder';
import { confinePath } from '../common/confine';
import { contentHash, readImageFile } from '../common/files';
import type { IndexStore } from '../index/indexStore';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../model/preprocess';
import { compareHits } from './hitOrder';
import { parseQuery, type QueryTerm } from './query';
import { searchText } from './textSearch';
import { combine, dot } from '../common/vectors';

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
}

/**
 * [Note: fusion] A query's words are also matched against the text recognised in the images (when
 * the index has it: `index --ocr`). An image whose text holds at least half of the query's words
 * ranks above every image that only looks like them (and a cut-off by score does not drop it);
 * among text matches the better match first (textScore: coverage × relevance, coverage the share of
 * the words found, relevance MiniSearch's score relative to the best match), then the look. Why a
 * step rather than a weighted sum: cosine scales differ between models (0.15–0.35 for ViT-B/32,
 * 0.5–0.8 for the tiny test model), and when a person types words an image literally shows, that
 * image is what they mean — CLIP cannot read a 14-pixel message. `score` is the cosine on every hit
 * and every surface (it was 1 + textScore for text matches, which reached 1.5 where the docs said
 * cosine); the match is in `text` and `textScore`. `text:words`, or a query that is one quoted
 * string, searches the text only (its hits' score: the cosine to the words as a text query).
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

/**
 * Embeds one image term: from the index when it is an indexed file, else decoded and encoded. A
 * regular file only; inside `within` when given. Without a local index (a remote search) it is
 * always embedded here.
 */
export async function imageVector(store: IndexStore | undefined, encoder: ClipEncoder, file: string, within?: string): Promise<{ vector: Float32Array; rel?: string; hash: string }> {
	const abs = within !== undefined ? (await confinePath(within, file, 'image')).abs : path.resolve(file);
	const rel = store ? path.relative(store.root, abs).split(path.sep).join('/') : '';
	const inside = rel !== '' && !rel.startsWith('../') && !path.isAbsolute(rel);
	const bytes = await readImageFile(abs, DEFAULT_MAX_PIXELS, 'the query image', within);
	const hash = contentHash(bytes);
	const stored = store?.vectorOf(hash);
	if (stored) {
		return { vector: stored, rel: inside ? rel : undefined, hash };
	}
	const image = await decodeImage(file, bytes, encoder.spec.preprocess);
	return { vector: (await encoder.encodeImages([image]))[0], rel: inside ? rel : undefined, hash };
}

/**
 * The query's one vector: its terms embedded, weighted, summed and normalised (the same for a local
 * and a remote search, so that one query means one thing everywhere). `imageHashes`: the contents of
 * its image terms, left out of the results.
 */
export async function queryVector(
	store: IndexStore | undefined,
	encoder: ClipEncoder,
	terms: QueryTerm[],
	cwd: string = process.cwd(),
	within?: string,
): Promise<{ vector: Float32Array; imagePaths: string[]; imageHashes: string[] }> {
	const texts = terms.filter(t => t.kind === 'text');
	const textVectors = await encoder.encodeTexts(texts.map(t => t.value));
	const parts: { vector: Float32Array; weight: number }[] = texts.map((t, i) => ({ vector: textVectors[i], weight: t.weight }));
	const imagePaths: string[] = [];
	const imageHashes: string[] = [];
	for (const t of terms.filter(term => term.kind === 'image')) {
		const file = path.resolve(cwd, t.value.replace(/^~(?=[\\/])/, process.env.HOME ?? '~'));
		const { vector, rel, hash } = await imageVector(store, encoder, file, within);
		parts.push({ vector, weight: t.weight });
		imageHashes.push(hash);
		if (rel) {
			imagePaths.push(rel);
		}
	}
	return { vector: combine(parts), imagePaths, imageHashes };
}

/** Ranks the index's images against a query vector. */
/** Which result paths the options allow: under `scope`, not in `exclude`. */
function pathFilter(options: Pick<SearchOptions, 'scope' | 'exclude'>): { inScope: (rel: string) => boolean; restricted: boolean; excluded: number } {
	const exclude = new Set(options.exclude ?? []);
	const scope = options.scope ? options.scope.replace(/\\/g, '/').replace(/\/+$/, '') + '/' : undefined;
	return { inScope: rel => (!scope || rel.startsWith(scope)) && !exclude.has(rel), restricted: !!scope || exclude.size > 0, excluded: exclude.size };
}

export function searchVector(store: IndexStore, vector: Float32Array, options: SearchOptions = {}): SearchResult[] {
	const k = Math.max(1, options.k ?? 20);
	const { inScope, restricted, excluded } = pathFilter(options);
	const accept = restricted ? (label: number) => store.someFileOfLabel(label, inScope) : undefined;
	// Ask for a few more vectors than k: one vector can stand for several files, and excluded ones
	// are filtered out after.
	const hits = store.search(vector, k + excluded, { accept, ef: options.ef });
	const out: SearchResult[] = [];
	for (const hit of hits) {
		for (const rel of store.filesOfLabel(hit.label)) {
			if (inScope(rel)) {
				out.push({ path: rel, score: hit.score });
			}
		}
	}
	out.sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : 1));
	const best = out[0]?.score ?? 0;
	return out
		.filter(r => (options.minScore === undefined || r.score >= options.minScore) && (options.relativeCutoff === undefined || r.score >= best - options.relativeCutoff))
		.slice(0, k);
}

/** Text or combined query → ranked images. Query images themselves are left out of the results. */
export async function search(store: IndexStore, encoder: ClipEncoder, query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
	const k = Math.max(1, options.k ?? 20);
	/** The files (allowed by `inScope`) that show the content `hash`. */
	const filesOf = (hash: string, inScope: (rel: string) => boolean): string[] => store.filesOfLabel(store.labelOf(hash) ?? -1).filter(inScope);
	let textOnly = textOnlyQuery(query);
	if (textOnly !== undefined && store.textsRead === 0) {
		options.onNote?.(NO_TEXT_NOTE);
		query = textOnly.replace(/^"(.*)"$/, '$1');
		textOnly = undefined;
	}
	if (textOnly !== undefined) {
		const { inScope } = pathFilter(options);
		const [words] = await encoder.encodeTexts([textOnly.replace(/^"(.*)"$/, '$1')]);
		const out = searchText(store, textOnly, k * 4).flatMap(hit => {
			const v = store.vectorOf(hit.hash);
			return filesOf(hit.hash, inScope).map(rel => ({ path: rel, score: v ? dot(v, words) : 0, text: hit.line, textScore: hit.relevance }));
		});
		return out.sort((a, b) => compareHits(a, b) || (a.path < b.path ? -1 : 1)).slice(0, k);
	}
	const terms = parseQuery(query);
	const { vector, imagePaths } = await queryVector(store, encoder, terms, options.cwd, options.within);
	const exclude = [...(options.exclude ?? []), ...imagePaths];
	const byLook = searchVector(store, vector, { ...options, exclude });
	const words = terms
		.filter(t => t.kind === 'text' && t.weight > 0)
		.map(t => t.value)
		.join(' ');
	const textHits = words ? searchText(store, words, k * 4).filter(h => h.coverage >= MIN_COVERAGE) : [];
	if (!textHits.length) {
		return byLook;
	}
	const { inScope } = pathFilter({ ...options, exclude });
	const fused = new Map<string, SearchResult>(byLook.map(r => [r.path, r]));
	for (const hit of textHits) {
		const v = store.vectorOf(hit.hash);
		const score = v ? dot(v, vector) : 0;
		for (const rel of filesOf(hit.hash, inScope)) {
			fused.set(rel, { path: rel, score, text: hit.line, textScore: hit.coverage * hit.relevance });
		}
	}
	return [...fused.values()]
		.sort((a, b) => compareHits(a, b) || (a.path < b.path ? -1 : 1))
		.slice(0, k);
}

/** Images most like the given image file (itself excluded). */
export async function similar(store: IndexStore, encoder: ClipEncoder, image: string, options: SearchOptions = {}): Promise<SearchResult[]> {
	const { vector, rel } = await imageVector(store, encoder, path.resolve(options.cwd ?? process.cwd(), image), options.within);
	return searchVector(store, vector, { ...options, exclude: [...(options.exclude ?? []), ...(rel ? [rel] : [])] });
}
