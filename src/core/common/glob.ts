/**
 * @file Glob patterns (include/exclude settings, a class's examples) matched in bounded time.
 *
 * [Note: globs from anyone] A classes file and workspace settings come with a repository. Regex-based
 * glob libraries compile `*a*a*a*a*a*a*a*a*a*a*b.png` into a regular expression that backtracks
 * exponentially (81 s of CPU against one 44-character name). Here each path segment is matched by the
 * classic wildcard algorithm that backtracks only to the last `*` (at most length × pattern steps),
 * and `**` by a table over segments, so no pattern takes more than polynomial time; patterns are also
 * capped in length and in the alternatives their braces expand to.
 *
 * Syntax: `*` (any characters but '/'), `?` (one), `[abc]`, `[a-z]`, `[!a]` / `[^a]`, `**` as a whole
 * segment (any number of folders), `{a,b}` (nested too), `\` escapes, a leading `!` negates. Like the
 * matcher it replaces (picomatch with `dot: true`): a pattern without '/' matches at the top only, and
 * `*` matches names that start with a dot. Extended globs (`+(a|b)`, `@(…)`) are refused.
 */
import { ClipError } from './errors';

export const MAX_PATTERN_LENGTH = 512;
export const MAX_ALTERNATIVES = 256;

export interface GlobOptions {
	/** Case-insensitive (the walker's include/exclude). */
	nocase?: boolean;
	/** Where the pattern comes from, for errors ("clipSearch.include", a classes file's class). */
	source?: string;
	/** The steps all matching with this pattern may take (a query's filters: GlobBudget). */
	budget?: GlobBudget;
}

type Token = { kind: 'char'; c: string } | { kind: 'any' } | { kind: 'star' } | { kind: 'class'; negate: boolean; ranges: [string, string][] };
type Segment = { kind: 'globstar' } | { kind: 'literal'; text: string } | { kind: 'tokens'; tokens: Token[] };

/** Whether the text has glob syntax (a plain path is looked up, not matched). */
export function isGlob(pattern: string): boolean {
	return /[*?[\]{}]/.test(pattern.replace(/\\./g, '')) || pattern.startsWith('!');
}

function refuse(pattern: string, why: string, options: GlobOptions): never {
	throw new ClipError('LimitExceeded', `${options.source ? `${options.source}: ` : ''}the pattern "${pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern}" ${why}.`);
}

/** {a,b{c,d}} → a, bc, bd (escapes kept for the parser). */
function expandBraces(pattern: string, original: string, options: GlobOptions): string[] {
	let depth = 0;
	let open = -1;
	for (let i = 0; i < pattern.length; i++) {
		const c = pattern[i];
		if (c === '\\') {
			i++;
		} else if (c === '{') {
			if (depth++ === 0) {
				open = i;
			}
		} else if (c === '}' && depth > 0 && --depth === 0) {
			const inner = pattern.slice(open + 1, i);
			const parts: string[] = [];
			let d = 0;
			let start = 0;
			for (let j = 0; j < inner.length; j++) {
				const ch = inner[j];
				if (ch === '\\') {
					j++;
				} else if (ch === '{') {
					d++;
				} else if (ch === '}') {
					d--;
				} else if (ch === ',' && d === 0) {
					parts.push(inner.slice(start, j));
					start = j + 1;
				}
			}
			parts.push(inner.slice(start));
			if (parts.length === 1) {
				continue; // {x}: literal braces
			}
			const out: string[] = [];
			for (const p of parts) {
				for (const rest of expandBraces(pattern.slice(0, open) + p + pattern.slice(i + 1), original, options)) {
					out.push(rest);
					if (out.length > MAX_ALTERNATIVES) {
						refuse(original, `expands to more than ${MAX_ALTERNATIVES} alternatives`, options);
					}
				}
			}
			return out;
		}
	}
	return [pattern];
}

function parseSegment(seg: string, original: string, options: GlobOptions): Segment {
	if (seg === '**') {
		return { kind: 'globstar' };
	}
	const tokens: Token[] = [];
	let literal = true;
	for (let i = 0; i < seg.length; i++) {
		const c = seg[i];
		if (c === '\\' && i + 1 < seg.length) {
			tokens.push({ kind: 'char', c: seg[++i] });
		} else if ('@!+*?'.includes(c) && seg[i + 1] === '(') {
			refuse(original, 'uses an extended glob, which is not supported (use {a,b} instead)', options);
		} else if (c === '*') {
			literal = false;
			if (tokens[tokens.length - 1]?.kind !== 'star') {
				tokens.push({ kind: 'star' });
			}
		} else if (c === '?') {
			literal = false;
			tokens.push({ kind: 'any' });
		} else if (c === '[') {
			const end = seg.indexOf(']', i + 2);
			if (end < 0) {
				tokens.push({ kind: 'char', c });
				continue;
			}
			literal = false;
			let body = seg.slice(i + 1, end);
			const negate = body[0] === '!' || body[0] === '^';
			body = negate ? body.slice(1) : body;
			const ranges: [string, string][] = [];
			for (let j = 0; j < body.length; j++) {
				const from = body[j] === '\\' && j + 1 < body.length ? body[++j] : body[j];
				if (body[j + 1] === '-' && j + 2 < body.length) {
					ranges.push([from, body[j + 2]]);
					j += 2;
				} else {
					ranges.push([from, from]);
				}
			}
			tokens.push({ kind: 'class', negate, ranges });
			i = end;
		} else {
			tokens.push({ kind: 'char', c });
		}
	}
	return literal ? { kind: 'literal', text: tokens.map(t => (t as { c: string }).c).join('') } : { kind: 'tokens', tokens };
}

function tokenMatches(t: Token, c: string): boolean {
	switch (t.kind) {
		case 'char':
			return t.c === c;
		case 'any':
			return true;
		case 'class':
			return t.ranges.some(([a, b]) => c >= a && c <= b) !== t.negate;
		default:
			return false;
	}
}

/**
 * A shared count of matching steps with a ceiling: a query's filters are matched against every file
 * of an index, so their cost is bounded as a whole, not only by the pattern's length (an agent's
 * 101-character path: filter cost 3.2 s a search on 20,400 files). Past the ceiling the match is
 * refused (LimitExceeded) naming the pattern.
 */
export class GlobBudget {
	steps = 0;
	constructor(readonly maxSteps: number) {}
}

/** Tokens as parallel arrays for the inner loop: the kind, the character code (char), the token (class). */
interface TokenTable {
	kinds: Uint8Array;
	codes: Uint16Array;
	tokens: Token[];
	/** `*` followed by characters only (`*.png`): a suffix test. */
	suffix?: string;
}
const CHAR = 0;
const ANY = 1;
const STAR = 2;
const CLASS = 3;
const tables = new WeakMap<Token[], TokenTable>();

function tableOf(tokens: Token[]): TokenTable {
	let table = tables.get(tokens);
	if (!table) {
		const kinds = Uint8Array.from(tokens, t => (t.kind === 'char' ? CHAR : t.kind === 'any' ? ANY : t.kind === 'star' ? STAR : CLASS));
		const codes = Uint16Array.from(tokens, t => (t.kind === 'char' ? t.c.charCodeAt(0) : 0));
		const suffix = tokens.length > 1 && tokens[0].kind === 'star' && tokens.every((x, i) => i === 0 || x.kind === 'char') ? tokens.slice(1).map(x => (x as { c: string }).c).join('') : undefined;
		table = { kinds, codes, tokens, suffix };
		tables.set(tokens, table);
	}
	return table;
}

/** One segment against one name: backtracking only to the last star, so at most |name| × |tokens| steps. */
function segmentMatches(tokens: Token[], name: string, spend: (n: number) => void): boolean {
	const { kinds, codes, suffix } = tableOf(tokens);
	if (suffix !== undefined) {
		spend(1);
		return name.endsWith(suffix);
	}
	const T = kinds.length;
	let t = 0;
	let n = 0;
	let starT = -1;
	let starN = 0;
	let steps = 0;
	let matched = true;
	while (n < name.length) {
		steps++;
		const k = t < T ? kinds[t] : -1;
		if (k === STAR) {
			starT = t++;
			starN = n;
		} else if (k >= 0 && (k === ANY || (k === CHAR ? codes[t] === name.charCodeAt(n) : tokenMatches(tokens[t], name[n])))) {
			t++;
			n++;
		} else if (starT >= 0) {
			t = starT + 1;
			n = ++starN;
		} else {
			matched = false;
			break;
		}
	}
	spend(steps);
	if (!matched) {
		return false;
	}
	while (t < T && kinds[t] === STAR) {
		t++;
	}
	return t === T;
}

/** Folders whose walk state a matcher remembers before it starts again (a bound on its memory). */
const MAX_REMEMBERED_FOLDERS = 65_536;

/**
 * One pattern without braces as a walk over a path's parts: the states are the pattern segments
 * reachable so far (a `**` stays put while it takes a part). [Note: each folder once] The state after
 * a folder is remembered by the folder's path, so the folders a thousand files share are matched
 * once and each file costs one step: its own name (for a query's patterns, which meet every file of
 * an index).
 */
function compileOne(pattern: string, original: string, options: GlobOptions): (parts: string[], folderKey?: string) => boolean {
	const compiled = pattern
		.split('/')
		.filter(Boolean)
		.map(s => parseSegment(options.nocase ? s.toLowerCase() : s, original, options));
	const P = compiled.length;
	const budget = options.budget;
	const spend = (n: number): void => {
		if (budget && (budget.steps += n) > budget.maxSteps) {
			refuse(original, `needs more than ${budget.maxSteps.toLocaleString('en')} matching steps over these paths: use a simpler pattern`, options);
		}
	};
	const segMatch = (seg: Segment, name: string): boolean => {
		if (seg.kind === 'literal') {
			spend(1);
			return seg.text === name;
		}
		return seg.kind === 'globstar' || segmentMatches(seg.tokens, name, spend);
	};
	/** The states reachable from `states` without taking a part: past each `**`, which may take none. */
	const closure = (states: number[]): number[] => {
		const out = new Set<number>();
		for (let i of states) {
			out.add(i);
			while (i < P && compiled[i].kind === 'globstar') {
				out.add(++i);
			}
		}
		return [...out].sort((a, b) => a - b);
	};
	const step = (states: number[], part: string): number[] => {
		const next: number[] = [];
		for (const i of states) {
			if (i === P) {
				continue;
			}
			if (compiled[i].kind === 'globstar') {
				next.push(i);
			} else if (segMatch(compiled[i], part)) {
				next.push(i + 1);
			}
		}
		return closure(next);
	};
	const start = closure([0]);
	// Remembered only where many paths are matched against one query's patterns (a budget is given):
	// the walker's and .gitignore's matchers see each path once, and a repository may have 5,000 of them.
	const folders = budget ? new Map<string, number[]>() : undefined;
	/** The states after the first n parts; `key` is those parts joined (the folder's path). */
	const statesOf = (parts: string[], n: number, key: string): number[] => {
		if (n === 0) {
			return start;
		}
		const parent = (): string => key.slice(0, Math.max(0, key.lastIndexOf('/')));
		if (!folders) {
			const before = statesOf(parts, n - 1, '');
			return before.length ? step(before, parts[n - 1]) : before;
		}
		let states = folders.get(key);
		if (!states) {
			const before = statesOf(parts, n - 1, parent());
			states = before.length ? step(before, parts[n - 1]) : before;
			if (folders.size >= MAX_REMEMBERED_FOLDERS) {
				folders.clear();
			}
			folders.set(key, states);
		}
		return states;
	};
	// done[i]: the segments from i on are all `**` (they may take nothing), so reaching i is a match.
	const done = compiled.map((_, i) => compiled.slice(i).every(c => c.kind === 'globstar')).concat(true);
	return (parts, folderKey) => {
		if (!parts.length) {
			return start.includes(P);
		}
		// The last part (the file's name) is checked without building a state: it is the one step a file costs.
		spend(1);
		const name = parts[parts.length - 1];
		for (const i of statesOf(parts, parts.length - 1, folders ? (folderKey ?? parts.slice(0, -1).join('/')) : '')) {
			if (i < P && (compiled[i].kind === 'globstar' ? done[i] : done[i + 1] && segMatch(compiled[i], name))) {
				return true;
			}
		}
		return false;
	};
}

/**
 * [Note: the forms people write] Patterns are relative to the folder, and people write the same
 * pattern several ways: `./private/**` (the `.` segment was compared literally and matched nothing,
 * so those files were indexed and pushed to a team store), `/private/**` (anchored at the folder, as
 * in a .gitignore), `private/` (the folder: everything below it). They are normalised to
 * `private/**` before matching; picomatch agrees on `./x`, and takes `/x` as an absolute path and
 * `x/` as matching only the folder itself, which no walker asks for.
 */
export function normalizeGlob(pattern: string): string {
	let p = pattern;
	while (p.startsWith('./')) {
		p = p.slice(2);
	}
	if (p.startsWith('/') && !p.startsWith('//')) {
		p = p.slice(1);
	}
	if (p.length > 1 && p.endsWith('/') && !p.endsWith('\\/')) {
		p = `${p}**`;
	}
	return p;
}

/** One compiled pattern (no negation): a predicate over a path's '/'-separated parts. */
export function compileGlob(pattern: string, options: GlobOptions = {}): (parts: string[]) => boolean {
	if (pattern.length > MAX_PATTERN_LENGTH) {
		refuse(pattern, `is longer than ${MAX_PATTERN_LENGTH} characters`, options);
	}
	const alternatives = expandBraces(normalizeGlob(pattern), pattern, options).map(p => compileOne(p, pattern, options));
	if (alternatives.length === 1) {
		return alternatives[0];
	}
	// The folder's path is worked out once for all the alternatives (their states are remembered by it).
	return parts => {
		const key = options.budget ? parts.slice(0, -1).join('/') : undefined;
		return alternatives.some(m => m(parts, key));
	};
}

/**
 * A predicate over '/'-separated relative paths that is true when any of the patterns matches (a
 * leading `!` negates one). Throws LimitExceeded, naming the pattern and `source`, for a pattern
 * longer than MAX_PATTERN_LENGTH, with too many brace alternatives, or with extended globs.
 */
export function globMatcher(patterns: string | readonly string[], options: GlobOptions = {}): (rel: string) => boolean {
	const list = typeof patterns === 'string' ? [patterns] : patterns;
	const matchers: { negate: boolean; test: (parts: string[]) => boolean }[] = [];
	for (const raw of list) {
		if (raw.length > MAX_PATTERN_LENGTH) {
			refuse(raw, `is longer than ${MAX_PATTERN_LENGTH} characters`, options);
		}
		const negate = raw.startsWith('!');
		matchers.push({ negate, test: compileGlob(negate ? raw.slice(1) : raw, options) });
	}
	return rel => {
		const parts = (options.nocase ? rel.toLowerCase() : rel).split('/').filter(Boolean);
		return matchers.some(m => m.test(parts) !== m.negate);
	};
}
