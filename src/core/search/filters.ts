/**
 * @file Filters in a query: words of the form `key:value` anywhere in it, a leading `-` negating one.
 *
 *   login form type:png after:2025-06-01 -path:vendor/**     meaning, then what the files must be
 *   "error" wider:800 tag:screenshot                          text inside the image, with filters
 *
 * | filter | passes |
 * | `type:png`, `type:jpg,webp` | the image's format, read from its content when indexed |
 * | `after:2025-06-01`, `before:…`, `after:7d` (h, d, w, m, y), `2025-06`, `2025`, `today`, `yesterday` | modified on/after the start of that local day, month or year, or before it |
 * | `larger:200KB`, `smaller:2 MB` | file size at least / under (KB = 1000 bytes, KiB = 1024) |
 * | `wider:1000`, `taller:500px`, `wider:1.5k`, `size:>=512x512` | pixel width / height at least; both sides compared |
 * | `path:icons/**`, `path:animals`, `path:a,b` | a name without a slash at any depth (as in .gitignore); with one, from the folder; any of several |
 * | `tag:screenshot`, `tag:icon,logo` | the label the tags file gives (any of several; every label of a multi-label tag) |
 * | `has:text` | text was read from the image and is not empty |
 *
 * [Note: filters are three-valued] A fact the index does not have (a format not yet recorded, no tags
 * file entry for the image) passes neither a filter nor its negation: `-type:png` means "known not to
 * be a PNG", so an unrecorded image is never returned as what was asked for. The caller says how many
 * such images there were.
 *
 * Only the keys above are filters: `16:9`, `C:\x.png`, `error:` and `text:` stay what they were.
 * [Note: what people type] Other names people use for a filter (`ext:`, `format:`, `width:`,
 * `date:`, `tags:`, `folder:`…) are read as it, and a key one slip from a filter (`tpye:png`) is
 * searched as words with a note that suggests the filter: never silently (the query box searched
 * "cat tpye:png" as words and said nothing). Quoted, a word is always text.
 */
import { GlobBudget, globMatcher, isGlob } from '../common/glob';
import { nearestName } from '../common/suggest';
import { count, FORMAT_ALIASES, invalid, literalPrefix, parseBytes, parsePeriod, parseWhen, pathPattern, splitCommas, UNITS } from './filterValues';

export const FILTER_KEYS = ['type', 'after', 'before', 'larger', 'smaller', 'wider', 'taller', 'size', 'path', 'tag', 'has'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

interface FilterBase {
	/** The word as written (without the `-`). */
	word: string;
	not: boolean;
}

export type QueryFilter = FilterBase &
	(
		| { key: 'type'; formats: string[] }
		| { key: 'after' | 'before'; atMs: number }
		| { key: 'larger' | 'smaller'; bytes: number }
		| { key: 'wider' | 'taller'; pixels: number }
		| { key: 'size'; op: '>=' | '<=' | '>' | '<' | '='; width: number; height: number }
		| { key: 'path'; glob: string; match: (rel: string) => boolean; prefix?: string }
		| { key: 'tag'; tags: string[] }
		| { key: 'has'; what: 'text' }
	);

/** What a filter is tested against; an absent fact is unknown ([Note: filters are three-valued]). */
export interface FileFacts {
	/** Relative to the folder, '/' separators. */
	path: string;
	size: number;
	mtimeMs: number;
	format?: string;
	width?: number;
	height?: number;
	/** The image's labels from the tags file; undefined when the file has no entry (or there is no tags file). */
	tags?: readonly string[];
	/** Whether text was read from it and is not empty; undefined when text was never read for the index. */
	hasText?: boolean;
}

/** Other names for filters, read as them with a note ([Note: what people type]); `date` is a period (after and before). */
const KEY_ALIASES: Record<string, FilterKey | 'date'> = {
	ext: 'type',
	extension: 'type',
	format: 'type',
	filetype: 'type',
	width: 'wider',
	height: 'taller',
	since: 'after',
	until: 'before',
	date: 'date',
	modified: 'date',
	tags: 'tag',
	tagged: 'tag',
	label: 'tag',
	folder: 'path',
	dir: 'path',
};

/** Keys that are never filters nor slips of one (URL schemes, the text-only prefix). */
const NOT_FILTERS = new Set(['text', 'http', 'https', 'ftp', 'file', 'mailto', 'data']);

/**
 * The work all the path: filters of one query may take over `files` paths ([Note: globs from anyone]
 * in common/glob.ts): a pattern's folders are matched once each and a name costs its length, so 100
 * steps a file leaves every pattern people write room, and an agent's 256-alternative pattern is
 * refused in a fraction of a second instead of holding the server for seconds.
 */
export function pathFilterSteps(files: number): number {
	return 1_000_000 + 100 * files;
}
/** The budget when the number of paths is not known (the team store's rows: at most 65,536 come back). */
export const PATH_FILTER_MAX_STEPS = pathFilterSteps(65_536);

function parseOne(key: FilterKey, value: string, word: string, not: boolean, now: number, budget: GlobBudget): QueryFilter {
	if (!value) {
		invalid(word, 'has no value');
	}
	switch (key) {
		case 'type': {
			const formats = value.split(',').map(v => {
				const f = FORMAT_ALIASES[v.trim().toLowerCase().replace(/^\./, '')];
				return f ?? invalid(word, `names an unknown format "${v}" (known: ${Object.keys(FORMAT_ALIASES).join(', ')})`);
			});
			return { key, word, not, formats: [...new Set(formats)] };
		}
		case 'after':
		case 'before':
			return { key, word, not, atMs: parseWhen(word, value, now) };
		case 'larger':
		case 'smaller':
			return { key, word, not, bytes: parseBytes(word, value) };
		case 'wider':
		case 'taller':
			return { key, word, not, pixels: count(word, value) };
		case 'size': {
			const m = /^(>=|<=|>|<|=)?(\d+)x(\d+)$/i.exec(value);
			if (!m) {
				invalid(word, 'needs WIDTHxHEIGHT with an optional comparison: size:>=512x512, size:<100x100, size:1920x1080');
			}
			return { key, word, not, op: (m[1] ?? '=') as '>=' | '<=' | '>' | '<' | '=', width: count(word, m[2]), height: count(word, m[3]) };
		}
		case 'path': {
			const parts = splitCommas(value).map(v => pathPattern(word, v));
			if (!parts.length) {
				invalid(word, 'names no path');
			}
			const patterns = parts.flatMap(({ pattern, anchored }) => {
				const plain = pattern.replace(/\/$/, '');
				const at = anchored ? plain : `**/${plain}`;
				// A name matches a file or a folder of that name anywhere; an anchored glob matches as written.
				return anchored && isGlob(pattern) && !pattern.endsWith('/') ? [at] : [at, `${at}/**`];
			});
			const glob = parts.map(p => p.pattern).join(',');
			const prefix = parts.length === 1 && parts[0].anchored ? literalPrefix(parts[0].pattern) : undefined;
			return { key, word, not, glob, prefix, match: globMatcher(patterns, { nocase: true, source: `the filter ${word}`, budget }) };
		}
		case 'tag': {
			const tags = value.split(',').map(t => t.trim().toLowerCase()).filter(Boolean);
			return tags.length ? { key, word, not, tags } : invalid(word, 'names no tag');
		}
		case 'has':
			return value.toLowerCase() === 'text' ? { key, word, not, what: 'text' } : invalid(word, 'knows only has:text');
	}
}

/** What parseFilters found: the query without its filters, the filters, and what a person should know of how it read them. */
export interface ParsedFilters {
	rest: string;
	filters: QueryFilter[];
	/** [Note: what people type]: a name read as a filter, a word that looks like a mistyped filter. */
	notes: string[];
	/** The words that look like mistyped filters, with the filter meant (a search box offers the corrected query). */
	corrections: { word: string; meant: string }[];
}

/**
 * Takes the filters out of a query: what is left is the query as before (terms, arithmetic, quoted
 * text). Quoted text is never read as a filter; a filter's value may be quoted (path:"my icons/**").
 * `now` makes relative dates testable; `pathSteps` bounds the path: filters' matching work.
 */
export function parseFilters(query: string, now: number = Date.now(), pathSteps = PATH_FILTER_MAX_STEPS): ParsedFilters {
	const filters: QueryFilter[] = [];
	const notes: string[] = [];
	const corrections: { word: string; meant: string }[] = [];
	const budget = new GlobBudget(pathSteps);
	let rest = '';
	let i = 0;
	const keyed = /^(-?)([a-z][a-z-]{1,15}):/i;
	const candidates = [...FILTER_KEYS, ...Object.keys(KEY_ALIASES)];
	while (i < query.length) {
		const c = query[i];
		if (c === '"' || c === "'") {
			const end = query.indexOf(c, i + 1);
			const stop = end < 0 ? query.length : end + 1;
			rest += query.slice(i, stop);
			i = stop;
			continue;
		}
		const atWord = i === 0 || /\s/.test(query[i - 1]);
		const m = atWord ? keyed.exec(query.slice(i)) : null;
		const given = m?.[2].toLowerCase() ?? '';
		const valued = !!m && /\S/.test(query[i + m[0].length] ?? '');
		// A filter's own key with no value is an error it names; another name needs a value to be read as one.
		const key = (FILTER_KEYS as readonly string[]).includes(given) ? (given as FilterKey) : valued ? KEY_ALIASES[given] : undefined;
		if (!m || !key) {
			if (m && valued && !NOT_FILTERS.has(given)) {
				const near = nearestName(given, candidates, { strict: true });
				if (near) {
					const word = query.slice(i).split(/\s/)[0];
					const meant = `${m[1]}${KEY_ALIASES[near] === 'date' ? near : (KEY_ALIASES[near] ?? near)}:${word.slice(m[0].length)}`;
					notes.push(`"${word}" is not a filter, so it was searched as words: did you mean ${meant}? (Quoted, "${word}" is searched as words without this note.)`);
					corrections.push({ word, meant });
				}
			}
			rest += c;
			i++;
			continue;
		}
		let j = i + m[0].length;
		let value: string;
		if (query[j] === '"') {
			const end = query.indexOf('"', j + 1);
			if (end < 0) {
				invalid(query.slice(i + m[1].length).split(/\s/)[0], 'has an unclosed "');
			}
			value = query.slice(j + 1, end);
			j = end + 1;
		} else {
			const end = query.slice(j).search(/\s/);
			value = end < 0 ? query.slice(j) : query.slice(j, j + end);
			j += value.length;
			// `larger:2 MB`: a unit after a bare size belongs to it.
			const unit = /^\s+([a-z]+)(?=\s|$)/i.exec(query.slice(j));
			if ((key === 'larger' || key === 'smaller') && /^\d+(\.\d+)?$/.test(value) && unit && UNITS[unit[1].toLowerCase()] !== undefined) {
				value += unit[1];
				j += unit[0].length;
			}
		}
		const not = m[1] === '-';
		if (key === 'date') {
			// date:2025-06 is that month: after its start, before its end (a time back: after it).
			const word = `${given}:${value}`;
			const period = parsePeriod(word, value, now);
			if (not && period.end !== undefined) {
				invalid(`-${word}`, `is not taken (outside a period is two ranges): use before:${value} or after:${value}`);
			}
			filters.push({ key: 'after', word: period.end === undefined ? `after:${value}` : word, not, atMs: period.start });
			if (period.end !== undefined) {
				filters.push({ key: 'before', word, not, atMs: period.end });
			}
			notes.push(`"${word}" was read as ${period.end === undefined ? `after:${value}` : `after:${value} before the end of it`}.`);
		} else {
			const word = `${key}:${value}`;
			if (given !== key) {
				notes.push(`"${given}:${value}" was read as ${word}${key === 'wider' || key === 'taller' ? ` (at least ${key === 'wider' ? 'that wide' : 'that tall'})` : ''}.`);
			}
			filters.push(parseOne(key, value, word, not, now, budget));
		}
		i = j;
	}
	return { rest: rest.replace(/\s+/g, ' ').trim(), filters, notes, corrections };
}

/** Whether a filter holds for the facts: true, false, or undefined when a fact it needs is unknown. */
function holds(f: QueryFilter, facts: FileFacts): boolean | undefined {
	switch (f.key) {
		case 'type':
			return facts.format === undefined ? undefined : f.formats.includes(facts.format);
		case 'after':
			return facts.mtimeMs >= f.atMs;
		case 'before':
			return facts.mtimeMs < f.atMs;
		case 'larger':
			return facts.size >= f.bytes;
		case 'smaller':
			return facts.size < f.bytes;
		case 'wider':
			return facts.width === undefined ? undefined : facts.width >= f.pixels;
		case 'taller':
			return facts.height === undefined ? undefined : facts.height >= f.pixels;
		case 'size': {
			if (facts.width === undefined || facts.height === undefined) {
				return undefined;
			}
			const cmp = (a: number, b: number): boolean =>
				f.op === '>=' ? a >= b : f.op === '<=' ? a <= b : f.op === '>' ? a > b : f.op === '<' ? a < b : a === b;
			return cmp(facts.width, f.width) && cmp(facts.height, f.height);
		}
		case 'path':
			return f.match(facts.path);
		case 'tag':
			return facts.tags === undefined ? undefined : facts.tags.some(t => f.tags.includes(t.toLowerCase()));
		case 'has':
			return facts.hasText;
	}
}

/** True when every filter holds (a negated one: known not to hold). */
export function passesFilters(filters: readonly QueryFilter[], facts: FileFacts): boolean {
	for (const f of filters) {
		const h = holds(f, facts);
		if (h === undefined || h === f.not) {
			return false;
		}
	}
	return true;
}

/** Whether any filter needs a fact of this kind (the caller reads tags, formats or text only then). */
export function needs(filters: readonly QueryFilter[], what: 'tags' | 'image' | 'text'): boolean {
	return filters.some(f => (what === 'tags' ? f.key === 'tag' : what === 'text' ? f.key === 'has' : ['type', 'wider', 'taller', 'size'].includes(f.key)));
}

/** The filters as applied, for JSON answers (so an agent sees what was applied). */
export function describeFilters(filters: readonly QueryFilter[]): Record<string, unknown>[] {
	return filters.map(f => {
		const base = { filter: `${f.not ? '-' : ''}${f.word}`, key: f.key, not: f.not };
		switch (f.key) {
			case 'type':
				return { ...base, formats: f.formats };
			case 'after':
			case 'before':
				return { ...base, time: new Date(f.atMs).toISOString() };
			case 'larger':
			case 'smaller':
				return { ...base, bytes: f.bytes };
			case 'wider':
			case 'taller':
				return { ...base, pixels: f.pixels };
			case 'size':
				return { ...base, op: f.op, width: f.width, height: f.height };
			case 'path':
				return { ...base, glob: f.glob };
			case 'tag':
				return { ...base, tags: f.tags };
			case 'has':
				return { ...base, has: f.what };
		}
	});
}
