/**
 * @file Full-text search over the text recognised in images (MiniSearch).
 *
 * [Note: text earns its place] A query's words are matched against the recognised text as whole
 * words: "car" does not match "cart", nor "a" every word that starts with one. Words that say
 * nothing of an image's text are left out (stopwords, and the words of a CLIP prompt: "a photo of
 * the sky" asks nothing of "of the"), plural and singular are one word ("frog", "frogs"), and a
 * word of five letters or more may differ by one character (OCR's usual error). A space-free form
 * catches text whose spaces OCR lost ("loginfailed"). Before, prefix matching put "add to cart" first
 * for "red car" and "Abc" for "a frog", above every image that showed one.
 */
import MiniSearch from 'minisearch';
import type { IndexStore } from '../index/indexStore';

interface Doc {
	id: string;
	text: string;
}

export interface TextHit {
	hash: string;
	/** 1 when the text holds the query's words as written (in order, spaces or none); else MiniSearch's score divided by the best hit's, below 1. */
	relevance: number;
	/** The share of the query's content words the image's text holds, as whole words (0–1]. */
	coverage: number;
	/** The recognised line that matched best. */
	line: string;
}

/** English function words, and the words of a CLIP prompt ("a photo of …"): nothing an image's text is searched for. */
const STOPWORDS = new Set(
	(
		'a an the of in on at to for from by with without and or but not no is are was were be been being it its this that these those ' +
		'as into onto over under about than then there here some any all each both very just so such what which who whom whose ' +
		'photo photos picture pictures image images pic pics shot showing shows'
	).split(' '),
);

const squash = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/** An image's text run together (OCR may lose any space), with where its words start. */
interface Squashed {
	text: string;
	starts: Set<number>;
}

function squashText(lines: string[]): Squashed {
	let text = '';
	const starts = new Set<number>();
	let inWord = false;
	for (const c of lines.join('\n')) {
		if (/[\p{L}\p{N}]/u.test(c)) {
			if (!inWord) {
				starts.add(text.length);
			}
			text += c.toLowerCase();
			inWord = true;
		} else {
			inWord = false;
		}
	}
	return { text, starts };
}

/** Whether the words run together appear in the text from the start of one of its words ("red car" is not in "shared cart"). */
function runTogether(squashed: Squashed, joined: string): boolean {
	for (let at = squashed.text.indexOf(joined); at >= 0; at = squashed.text.indexOf(joined, at + 1)) {
		if (squashed.starts.has(at)) {
			return true;
		}
	}
	return false;
}

/** One form for singular and plural ("frogs", "frog"; "cities", "city"), lower case. */
export function wordForm(word: string): string {
	const w = word.toLowerCase().replace(/['’]s$/u, '');
	if (w.length > 4 && w.endsWith('ies')) {
		return `${w.slice(0, -3)}y`;
	}
	if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) {
		return w.slice(0, -1);
	}
	return w;
}

const words = (text: string): string[] => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);

/** The words of a query that text is matched on: without stopwords (all of them when it has nothing else). */
export function contentWords(query: string, keepStopwords = false): string[] {
	const all = [...new Set(words(query))];
	const content = all.filter(w => !STOPWORDS.has(w));
	return keepStopwords && !content.length ? all : content;
}

const cache = new WeakMap<IndexStore, { version: number; index: MiniSearch<Doc>; lines: Map<string, string[]>; squashed: Map<string, Squashed> }>();

/**
 * The full-text index of a store's recognised text, brought up to date by difference when the
 * text changed (the text pass adds an image at a time while searches go on): only added, changed
 * or gone images are touched.
 */
function indexOf(store: IndexStore): { index: MiniSearch<Doc>; lines: Map<string, string[]>; squashed: Map<string, Squashed> } {
	let entry = cache.get(store);
	if (entry && entry.version === store.textVersion) {
		return entry;
	}
	entry ??= {
		version: -1,
		index: new MiniSearch<Doc>({ fields: ['text'], storeFields: [], processTerm: term => (STOPWORDS.has(term.toLowerCase()) ? null : wordForm(term)) }),
		lines: new Map(),
		squashed: new Map(),
	};
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
		entry.index.add({ id: e.hash, text: e.lines.join('\n') });
		entry.lines.set(e.hash, e.lines);
		entry.squashed.set(e.hash, squashText(e.lines));
	}
	for (const hash of [...entry.lines.keys()]) {
		if (!current.has(hash)) {
			entry.index.discard(hash);
			entry.lines.delete(hash);
			entry.squashed.delete(hash);
		}
	}
	entry.version = store.textVersion;
	cache.set(store, entry);
	return entry;
}

/**
 * Images whose text holds the query's content words ([Note: text earns its place]), best first:
 * those that hold them all (coverage 1), then, when `partial`, those that hold some. A text-only
 * query (`text:`, a quoted phrase) made only of stopwords is matched run together ("tobeornottobe").
 */
export function searchText(store: IndexStore, query: string, limit = 50, options: { partial?: boolean; textOnly?: boolean } = {}): TextHit[] {
	const { index, lines, squashed } = indexOf(store);
	const terms = contentWords(query, options.textOnly);
	if (!index.documentCount || !terms.length) {
		return [];
	}
	const forms = new Set(terms.map(wordForm));
	const search = {
		prefix: false,
		fuzzy: (term: string) => (term.length >= 5 ? 1 : 0),
		processTerm: (term: string) => (STOPWORDS.has(term.toLowerCase()) ? null : wordForm(term)),
	};
	const text = terms.join(' ');
	const found = new Map<string, { score: number; coverage: number; phrase?: boolean }>();
	const keep = (id: string, score: number, coverage: number, phrase = false): void => {
		const known = found.get(id);
		if (!known || coverage > known.coverage || (coverage === known.coverage && score > known.score)) {
			found.set(id, { score, coverage, phrase: phrase || known?.phrase });
		} else if (phrase) {
			known.phrase = true;
		}
	};
	index.search(text, { ...search, combineWith: 'AND' }).forEach(h => keep(h.id as string, h.score, 1));
	// Text whose spaces OCR lost ("cancelservicestation", "workerworker"): the content words in the
	// query's order, run together, from the start of a word of the image's text (lines run together too).
	const ordered = words(query).filter(w => options.textOnly && terms.every(t => STOPWORDS.has(t)) ? true : !STOPWORDS.has(w));
	const joined = squash(ordered.join(''));
	if (ordered.length > 1 && joined.length >= 8) {
		for (const [hash, own] of squashed) {
			if (runTogether(own, joined)) {
				keep(hash, found.get(hash)?.score ?? 1, 1, true);
			}
		}
	}
	if (options.partial && forms.size > 1) {
		index.search(text, { ...search, combineWith: 'OR' }).forEach(h => keep(h.id as string, h.score, Math.min(1, new Set(h.queryTerms.map(wordForm)).size / forms.size)));
	}
	const hits = [...found].map(([id, h]) => ({ id, ...h })).sort((a, b) => b.coverage - a.coverage || Number(!!b.phrase) - Number(!!a.phrase) || b.score - a.score);
	const best = Math.max(...hits.map(h => h.score), Number.MIN_VALUE);
	return hits.slice(0, limit).map(h => {
		const own = lines.get(h.id) ?? [];
		const matched = (l: string): number => {
			const lw = new Set(words(l).map(wordForm));
			return [...forms].filter(t => lw.has(t)).length + (joined.length >= 8 && squash(l).includes(joined) ? forms.size : 0);
		};
		const line = own.map(l => ({ l, n: matched(l) })).sort((a, b) => b.n - a.n)[0]?.l ?? '';
		return { hash: h.id, relevance: h.phrase ? 1 : Math.min(0.99, h.score / best), coverage: h.coverage, line };
	});
}
