/**
 * @file The values of query filters as people write them: formats, dates and periods, sizes, pixels
 * and path patterns, each parsed into one meaning for the local index and the team store alike
 * ([Note: one filter, one meaning]); a malformed value is InvalidQuery naming the filter and the
 * form it takes. filters.ts finds the filters in a query and tests them.
 */
import { ClipError } from '../common/errors';

/** Format names as sharp reports them (avif and heic told apart by compression: preprocess.ts imageInfo). */
export const FORMAT_ALIASES: Record<string, string> = {
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

export const UNITS: Record<string, number> = { b: 1, byte: 1, bytes: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1e3, m: 1e6, g: 1e9 };

const DAY_MS = 86_400_000;

export function invalid(word: string, why: string): never {
	throw new ClipError('InvalidQuery', `The filter "${word}" ${why}.`);
}

/** Pixels: 1000, 1000px, 1.5k. */
export function count(word: string, text: string): number {
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
export function parsePeriod(word: string, text: string, now: number): { start: number; end?: number } {
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

export function parseWhen(word: string, text: string, now: number): number {
	return parsePeriod(word, text, now).start;
}

/**
 * A size in whole bytes. [Note: one filter, one meaning] A fraction of a byte is rounded up, which
 * keeps `larger:` (at least) and `smaller:` (under) exact for files, whose sizes are whole: the team
 * store's bigint column took neither 0.1KiB (102.4) nor a 22-digit size, while the local search did.
 */
export function parseBytes(word: string, text: string): number {
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
export function pathPattern(word: string, value: string): { pattern: string; anchored: boolean } {
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
export function splitCommas(value: string): string[] {
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
export function literalPrefix(pattern: string): string | undefined {
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
