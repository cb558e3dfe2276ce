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
import { ClipError } from '../common/errors';
import { GlobBudget, globMatcher, isGlob } from '../common/glob';
import { nearestName } from '../common/suggest';

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

/** Format names as sharp reports them (avif and heic told apart by compression: preprocess.ts imageInfo). */
const FORMAT_ALIASES: Record<string, string> = {
	png: 'png',
	jpg: 'jpeg',
	jpeg: 'jpeg',
	jpe: 'jpeg',
	jfif: 'jpeg',
	webp: 'webp',
	gif: 'gif',
	svg: 'svg',
	tif: 'tiff',
	tiff: 'tiff',
	avif: 'avif',
	heic: 'heic',
	heif: 'heic',
	bmp: 'bmp',
	ico: 'ico',
};

const UNITS: Record<string, number> = { b: 1, byte: 1, bytes: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1e3, m: 1e6, g: 1e9 };

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
const DAY_MS = 86_400_000;

function invalid(word: string, why: string): never {
	throw new ClipError('InvalidQuery', `The filter "${word}" ${why}.`);
}

/** Pixels: 1000, 1000px, 1.5k. */
function count(word: string, text: string): number {
	const m = /^(\d+(?:\.\d+)?)(k)?(?:px)?$/i.exec(text);
	const n = m ? Math.round(Number(m[1]) * (m[2] ? 1000 : 1)) : NaN;
	if (!m || !Number.isSafeInteger(n) || n > 1_000_000 || (!m[2] && !/^\d+$/.test(m[1]))) {
		invalid(word, 'needs a whole number of pixels up to 1000000: wider:1000, wider:1000px or wider:1.5k');
	}
	return n;
}

/**
 * A date as a period, from its start: `YYYY-MM-DD` or `YYYY/MM/DD` (a local day), `YYYY-MM` (a
 * month), `YYYY` (a year), `today`, `yesterday`, a full ISO time (a moment), or a time back from
 * `now`: `12h`, `7d`, `2w`, `3m` (calendar months), `1y`. `end` is where the period stops (a day,
 * month or year: for `date:`), undefined for a moment or a time back.
 */
function parsePeriod(word: string, text: string, now: number): { start: number; end?: number } {
	const rel = /^(\d{1,5})([hdwmy])$/i.exec(text);
	if (rel) {
		const n = Number(rel[1]);
		const unit = rel[2].toLowerCase();
		if (unit === 'h' || unit === 'd' || unit === 'w') {
			return { start: now - n * (unit === 'w' ? 7 * DAY_MS : unit === 'd' ? DAY_MS : DAY_MS / 24) };
		}
		const d = new Date(now);
		d.setMonth(d.getMonth() - (unit === 'y' ? 12 * n : n));
		return { start: d.getTime() };
	}
	const lower = text.toLowerCase();
	if (lower === 'today' || lower === 'yesterday') {
		const d = new Date(now);
		const day = new Date(d.getFullYear(), d.getMonth(), d.getDate() - (lower === 'yesterday' ? 1 : 0));
		return { start: day.getTime(), end: new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1).getTime() };
	}
	const ymd = /^(\d{4})(?:([-/])(\d{1,2})(?:\2(\d{1,2}))?)?$/.exec(text);
	if (ymd) {
		const y = Number(ymd[1]);
		const m = ymd[3] === undefined ? 1 : Number(ymd[3]);
		const dd = ymd[4] === undefined ? 1 : Number(ymd[4]);
		const d = new Date(y, m - 1, dd);
		if (d.getFullYear() !== y || d.getMonth() !== m - 1 || d.getDate() !== dd) {
			invalid(word, `names no day (${text})`);
		}
		const end = ymd[4] !== undefined ? new Date(y, m - 1, dd + 1) : ymd[3] !== undefined ? new Date(y, m, 1) : new Date(y + 1, 0, 1);
		return { start: d.getTime(), end: end.getTime() };
	}
	if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})?$/.test(text) && Number.isFinite(Date.parse(text))) {
		return { start: Date.parse(text) };
	}
	return invalid(word, 'needs a date: 2025-06-01, 2025/06/01, 2025-06, 2025, today, yesterday, 2025-06-01T12:00Z, or a time back from now: 12h, 7d, 2w, 3m, 1y');
}

function parseWhen(word: string, text: string, now: number): number {
	return parsePeriod(word, text, now).start;
}

/**
 * A size in whole bytes. [Note: one filter, one meaning] A fraction of a byte is rounded up, which
 * keeps `larger:` (at least) and `smaller:` (under) exact for files, whose sizes are whole: the team
 * store's bigint column took neither 0.1KiB (102.4) nor a 22-digit size, while the local search did.
 */
function parseBytes(word: string, text: string): number {
	const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
	const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
	if (!m || unit === undefined) {
		invalid(word, 'needs a size: 200KB, 2MB, 1.5GB, 512KiB or a number of bytes');
	}
	const bytes = Math.ceil(Number(m[1]) * unit);
	if (!Number.isSafeInteger(bytes)) {
		invalid(word, `is more than any file can hold (at most ${Number.MAX_SAFE_INTEGER} bytes)`);
	}
	return bytes;
}

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

/**
 * A path: filter's pattern in one form, so that the local search and the team store read it alike:
 * `\` before a glob character escapes it (`report\[final\].png` names that file), any other `\` is a
 * folder separator; `.` segments and repeated `/` go (`././copies/*` is `copies/*`); a leading `/`
 * anchors at the folder, as it always is. `..` and drive letters are refused.
 */
export function normalizePathPattern(word: string, value: string): string {
	return pathPattern(word, value).pattern;
}

/**
 * One pattern of a path: filter, normalised (normalizePathPattern) and whether it is anchored at the
 * folder: it starts with `/` or `./`, or has a `/` before its last part. A bare name (`animals`,
 * `*.jpg`) matches at any depth, as a .gitignore line and code search's path: do.
 */
function pathPattern(word: string, value: string): { pattern: string; anchored: boolean } {
	let out = '';
	for (let i = 0; i < value.length; i++) {
		const c = value[i];
		if (c === '\\' && i + 1 < value.length && GLOB_SPECIAL.includes(value[i + 1])) {
			out += c + value[++i];
		} else {
			out += c === '\\' ? '/' : c;
		}
	}
	const folder = out.endsWith('/');
	const parts = out.split('/').filter(p => p !== '' && p !== '.');
	if (parts.includes('..') || /^[a-z]:/i.test(out)) {
		invalid(word, 'must stay inside the folder: a glob relative to it, e.g. path:icons/**');
	}
	const anchored = /^\.?\//.test(out) || parts.length !== 1;
	return { pattern: parts.join('/') + (folder && parts.length ? '/' : ''), anchored };
}

/** Splits a path: value at its commas, except inside braces or after a `\\` (`{a,b}` is one pattern's alternatives). */
function splitCommas(value: string): string[] {
	const out: string[] = [];
	let depth = 0;
	let start = 0;
	for (let i = 0; i < value.length; i++) {
		const c = value[i];
		if (c === '\\') {
			i++;
		} else if (c === '{') {
			depth++;
		} else if (c === '}') {
			depth = Math.max(0, depth - 1);
		} else if (c === ',' && depth === 0) {
			out.push(value.slice(start, i));
			start = i + 1;
		}
	}
	out.push(value.slice(start));
	return out.map(v => v.trim()).filter(Boolean);
}

/** The folders before the first glob character of an anchored pattern (a prefix the team store can narrow its scan by), else undefined. */
function literalPrefix(pattern: string): string | undefined {
	const fixed: string[] = [];
	for (const part of pattern.split('/').slice(0, -1)) {
		if (/[*?[\]{}]/.test(part.replace(/\\./g, ''))) {
			break;
		}
		fixed.push(part.replace(/\\(.)/g, '$1'));
	}
	return fixed.length ? fixed.join('/') : undefined;
}

const GLOB_SPECIAL = '*?[]{}(),!\\';

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
