/**
 * @file Filters in a query: words of the form `key:value` anywhere in it, a leading `-` negating one.
 *
 *   login form type:png after:2025-06-01 -path:vendor/**     meaning, then what the files must be
 *   "error" wider:800 tag:screenshot                          text inside the image, with filters
 *
 * | filter | passes |
 * | `type:png`, `type:jpg,webp` | the image's format, read from its content when indexed |
 * | `after:2025-06-01`, `before:…`, `after:7d` (d, w, m, y) | modified on/after that local day, or before it |
 * | `larger:200KB`, `smaller:2MB` | file size at least / under (KB = 1000 bytes, KiB = 1024) |
 * | `wider:1000`, `taller:500`, `size:>=512x512` | pixel width / height at least; both sides compared |
 * | `path:icons/**`, `path:icons` | a glob relative to the folder (the settings' matcher); a plain path is that file or folder |
 * | `tag:screenshot`, `tag:icon,logo` | the label the tags file gives (any of several; every label of a multi-label tag) |
 * | `has:text` | text was read from the image and is not empty |
 *
 * [Note: filters are three-valued] A fact the index does not have (a format not yet recorded, no tags
 * file entry for the image) passes neither a filter nor its negation: `-type:png` means "known not to
 * be a PNG", so an unrecorded image is never returned as what was asked for. The caller says how many
 * such images there were.
 *
 * Only the keys above are filters: `16:9`, `C:\x.png`, `error:` and `text:` stay what they were.
 */
import { ClipError } from '../common/errors';
import { GlobBudget, globMatcher, isGlob } from '../common/glob';

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
		| { key: 'path'; glob: string; match: (rel: string) => boolean }
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

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1e3, m: 1e6, g: 1e9 };
const DAY_MS = 86_400_000;

function invalid(word: string, why: string): never {
	throw new ClipError('InvalidQuery', `The filter "${word}" ${why}.`);
}

function count(word: string, text: string): number {
	if (!/^\d+$/.test(text) || Number(text) > 1_000_000) {
		invalid(word, 'needs a whole number of pixels up to 1000000, e.g. wider:1000');
	}
	return Number(text);
}

/**
 * A date: `YYYY-MM-DD` (the start of that local day), a full ISO time, or a time back from `now`:
 * `7d`, `2w`, `3m` (calendar months), `1y`.
 */
function parseWhen(word: string, text: string, now: number): number {
	const rel = /^(\d{1,5})([dwmy])$/i.exec(text);
	if (rel) {
		const n = Number(rel[1]);
		const unit = rel[2].toLowerCase();
		if (unit === 'd' || unit === 'w') {
			return now - n * (unit === 'w' ? 7 : 1) * DAY_MS;
		}
		const d = new Date(now);
		d.setMonth(d.getMonth() - (unit === 'y' ? 12 * n : n));
		return d.getTime();
	}
	const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
	if (day) {
		const [y, m, dd] = [Number(day[1]), Number(day[2]), Number(day[3])];
		const d = new Date(y, m - 1, dd);
		if (d.getFullYear() !== y || d.getMonth() !== m - 1 || d.getDate() !== dd) {
			invalid(word, `names no day (${text})`);
		}
		return d.getTime();
	}
	if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})?$/.test(text) && Number.isFinite(Date.parse(text))) {
		return Date.parse(text);
	}
	return invalid(word, 'needs a date: 2025-06-01 (a local day), 2025-06-01T12:00Z, or a time back from now: 7d, 2w, 3m, 1y');
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
	return parts.join('/') + (folder && parts.length ? '/' : '');
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
			const glob = normalizePathPattern(word, value);
			const plain = glob.replace(/\/$/, '');
			const patterns = isGlob(glob) ? [glob] : [plain, `${plain}/**`];
			return { key, word, not, glob, match: globMatcher(patterns, { nocase: true, source: `the filter ${word}`, budget }) };
		}
		case 'tag': {
			const tags = value.split(',').map(t => t.trim().toLowerCase()).filter(Boolean);
			return tags.length ? { key, word, not, tags } : invalid(word, 'names no tag');
		}
		case 'has':
			return value.toLowerCase() === 'text' ? { key, word, not, what: 'text' } : invalid(word, 'knows only has:text');
	}
}

/**
 * Takes the filters out of a query: what is left is the query as before (terms, arithmetic, quoted
 * text). Quoted text is never read as a filter; a filter's value may be quoted (path:"my icons/**").
 * `now` makes relative dates testable; `pathSteps` bounds the path: filters' matching work.
 */
export function parseFilters(query: string, now: number = Date.now(), pathSteps = PATH_FILTER_MAX_STEPS): { rest: string; filters: QueryFilter[] } {
	const filters: QueryFilter[] = [];
	const budget = new GlobBudget(pathSteps);
	let rest = '';
	let i = 0;
	const keys = new RegExp(`^(-?)(${FILTER_KEYS.join('|')}):`, 'i');
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
		const m = atWord ? keys.exec(query.slice(i)) : null;
		if (!m) {
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
		}
		const word = `${m[2].toLowerCase()}:${value}`;
		filters.push(parseOne(m[2].toLowerCase() as FilterKey, value, word, m[1] === '-', now, budget));
		i = j;
	}
	return { rest: rest.replace(/\s+/g, ' ').trim(), filters };
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
