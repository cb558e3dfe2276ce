/**
 * @file Why a hit matched ([Note: why]), on every surface: its cosine, each term's cosine, the text
 * line, the tag, and a near-duplicate of a higher hit.
 */
import { dot } from '../common/vectors';
import type { IndexStore } from '../index/indexStore';
import type { QueryPart } from './queryVector';

/** Why a hit matched, on every surface (the QuickPick's detail line, the results panel, --json, the tools). */
export interface Why {
	/** The cosine of the image to the whole query. */
	cosine: number;
	/** Each term's own cosine, when the query has more than one (arithmetic, More/Less like this). */
	terms?: { term: string; weight: number; cosine: number }[];
	/** The recognised line that matched the query's words. */
	text?: string;
	/** The tags file's label for the image (and its probability), when a tag: filter or the tags file applies. */
	tag?: { label: string; probability?: number };
	/** A higher hit this one is a near-duplicate of (cosine ≥ 0.95 between the two, or the same content). */
	duplicateOf?: string;
}

/** What explainHits reads of a search: the tags of a file. */
export interface WhyOptions {
	tagsOf?: (rel: string) => { labels: readonly string[]; probability?: number } | undefined;
}

const NEAR_DUPLICATE = 0.95;

/** Adds `why` to the hits ([Note: why]): each term's cosine, the text line, the tag, a near-duplicate of a higher hit. */
export function explainHits<T extends { path: string; score: number; text?: string; why?: Why }>(store: IndexStore, hits: T[], parts: QueryPart[], options: WhyOptions): T[] {
	const seen: { path: string; hash?: string; vector?: Float32Array }[] = [];
	return hits.map(hit => {
		const hash = store.files.get(hit.path)?.hash;
		const v = hash ? store.vectorOf(hash) : undefined;
		const why: Why = { cosine: hit.score };
		if (v && parts.length > 1) {
			why.terms = parts.map(p => ({ term: p.term, weight: p.weight, cosine: dot(v, p.vector) }));
		}
		if (hit.text !== undefined) {
			why.text = hit.text;
		}
		const tags = options.tagsOf?.(hit.path);
		if (tags?.labels.length) {
			why.tag = { label: tags.labels[0], ...(tags.probability !== undefined ? { probability: tags.probability } : {}) };
		}
		const dup = seen.find(s => (hash && s.hash === hash) || (v && s.vector && dot(v, s.vector) >= NEAR_DUPLICATE));
		if (dup) {
			why.duplicateOf = dup.path;
		}
		seen.push({ path: hit.path, hash, vector: v });
		return { ...hit, why };
	});
}
