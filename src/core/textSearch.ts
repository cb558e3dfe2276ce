/**
 * @file Full-text search over the text recognised in images (MiniSearch): case-insensitive, prefix
 * and fuzzy matching for OCR's single-character errors, and a space-free field for the spaces OCR
 * misses ("loginfailed").
 */
import MiniSearch from 'minisearch';
import type { IndexStore } from './indexStore';

interface Doc {
	id: string;
	text: string;
	squashed: string;
}

export interface TextHit {
	hash: string;
	/** MiniSearch's relevance, divided by the best hit's: 1 for the best. */
	relevance: number;
	/** The share of the query's words the image's text holds (0–1]. */
	coverage: number;
	/** The recognised line that matched best. */
	line: string;
}

const squash = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

const cache = new WeakMap<IndexStore, { version: number; index: MiniSearch<Doc>; lines: Map<string, string[]> }>();

function indexOf(store: IndexStore): { index: MiniSearch<Doc>; lines: Map<string, string[]> } {
	const known = cache.get(store);
	if (known && known.version === store.textVersion) {
		return known;
	}
	const index = new MiniSearch<Doc>({ fields: ['text', 'squashed'], storeFields: [] });
	const lines = new Map<string, string[]>();
	for (const e of store.textEntries()) {
		index.add({ id: e.hash, text: e.lines.join('\n'), squashed: e.lines.map(squash).join(' ') });
		lines.set(e.hash, e.lines);
	}
	const entry = { version: store.textVersion, index, lines };
	cache.set(store, entry);
	return entry;
}

/** Images whose text matches the query, best first. */
export function searchText(store: IndexStore, query: string, limit = 50): TextHit[] {
	const { index, lines } = indexOf(store);
	if (!index.documentCount || !query.trim()) {
		return [];
	}
	const options = { prefix: true, fuzzy: (term: string) => (term.length > 3 ? 0.2 : 0), boost: { text: 2 } };
	const terms = query.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
	let coverage = (h: { queryTerms: string[] }): number => Math.min(1, new Set(h.queryTerms).size / Math.max(1, new Set(terms).size));
	let hits = index.search(query, { ...options, combineWith: 'AND' });
	if (!hits.length) {
		// Every word of the query may be there with its spaces lost: search it squashed too.
		hits = index.search(squash(query), { ...options, fields: ['squashed'] });
		coverage = () => 1;
	}
	if (!hits.length) {
		hits = index.search(query, { ...options, combineWith: 'OR' });
		coverage = (h: { queryTerms: string[] }): number => Math.min(1, new Set(h.queryTerms).size / Math.max(1, new Set(terms).size));
	}
	const best = hits[0]?.score ?? 1;
	return hits.slice(0, limit).map(h => {
		const own = lines.get(h.id as string) ?? [];
		const line = own.map(l => ({ l, n: terms.filter(t => l.toLowerCase().includes(t) || squash(l).includes(t)).length })).sort((a, b) => b.n - a.n)[0]?.l ?? '';
		return { hash: h.id as string, relevance: h.score / best, coverage: coverage(h), line };
	});
}
