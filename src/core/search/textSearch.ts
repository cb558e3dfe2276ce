/**
 * @file Full-text search over the text recognised in images (MiniSearch): case-insensitive, prefix
 * and fuzzy matching for OCR's single-character errors, and a space-free field for the spaces OCR
 * misses ("loginfailed").
 */
import MiniSearch from 'minisearch';
import type { IndexStore } from '../index/indexStore';

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

/**
 * The full-text index of a store's recognised text, brought up to date by difference when the
 * text changed (the text pass adds an image at a time while searches go on): only added, changed
 * or gone images are touched.
 */
function indexOf(store: IndexStore): { index: MiniSearch<Doc>; lines: Map<string, string[]> } {
	let entry = cache.get(store);
	if (entry && entry.version === store.textVersion) {
		return entry;
	}
	entry ??= { version: -1, index: new MiniSearch<Doc>({ fields: ['text', 'squashed'], storeFields: [] }), lines: new Map() };
	const current = new Set<string>();
	for (const e of store.textEntries()) {
		current.add(e.hash);
		const known = entry.lines.get(e.hash);
		if (known === e.lines) {
			continue;
		}
		if (known) {
			entry.index.discard(e.hash);
		}
		entry.index.add({ id: e.hash, text: e.lines.join('\n'), squashed: e.lines.map(squash).join(' ') });
		entry.lines.set(e.hash, e.lines);
	}
	for (const hash of [...entry.lines.keys()]) {
		if (!current.has(hash)) {
			entry.index.discard(hash);
			entry.lines.delete(hash);
		}
	}
	entry.version = store.textVersion;
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
	const share = (h: { queryTerms: string[] }): number => Math.min(1, new Set(h.queryTerms).size / Math.max(1, new Set(terms).size));
	// Every word, as words; and the whole query with its spaces removed, for text whose spaces OCR
	// lost ("loginfailed"): an image found either way is a full match.
	const found = new Map<string, { score: number; coverage: number }>();
	const keep = (id: string, score: number, coverage: number): void => {
		const known = found.get(id);
		if (!known || score > known.score) {
			found.set(id, { score, coverage });
		}
	};
	index.search(query, { ...options, combineWith: 'AND' }).forEach(h => keep(h.id as string, h.score, 1));
	index.search(squash(query), { ...options, fields: ['squashed'] }).forEach(h => keep(h.id as string, h.score, 1));
	if (!found.size) {
		// Some of the words: coverage says how many.
		index.search(query, { ...options, combineWith: 'OR' }).forEach(h => keep(h.id as string, h.score, share(h)));
	}
	const hits = [...found].map(([id, h]) => ({ id, ...h })).sort((a, b) => b.score - a.score);
	const best = hits[0]?.score ?? 1;
	return hits.slice(0, limit).map(h => {
		const own = lines.get(h.id) ?? [];
		const line = own.map(l => ({ l, n: terms.filter(t => l.toLowerCase().includes(t) || squash(l).includes(t)).length })).sort((a, b) => b.n - a.n)[0]?.l ?? '';
		return { hash: h.id, relevance: h.score / best, coverage: h.coverage, line };
	});
}
