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

/** One segment against one name: backtracking only to the last star, so at most |name| × |tokens| steps. */
function segmentMatches(tokens: Token[], name: string): boolean {
	// `*.png`, the commonest segment: a suffix test.
	if (tokens.length > 1 && tokens[0].kind === 'star' && tokens.every((x, i) => i === 0 || x.kind === 'char')) {
		return name.length >= tokens.length - 1 && tokens.every((x, i) => i === 0 || (x as { c: string }).c === name[name.length - tokens.length + i]);
	}
	let t = 0;
	let n = 0;
	let starT = -1;
	let starN = 0;
	while (n < name.length) {
		if (t < tokens.length && tokens[t].kind === 'star') {
			starT = t++;
			starN = n;
		} else if (t < tokens.length && tokenMatches(tokens[t], name[n])) {
			t++;
			n++;
		} else if (starT >= 0) {
			t = starT + 1;
			n = ++starN;
		} else {
			return false;
		}
	}
	while (t < tokens.length && tokens[t].kind === 'star') {
		t++;
	}
	return t === tokens.length;
}

function compileOne(pattern: string, original: string, options: GlobOptions): (parts: string[]) => boolean {
	const compiled = pattern
		.split('/')
		.filter(Boolean)
		.map(s => parseSegment(options.nocase ? s.toLowerCase() : s, original, options));
	const segMatch = (seg: Segment, name: string): boolean => {
		if (seg.kind === 'literal') {
			return seg.text === name;
		}
		return seg.kind === 'globstar' || segmentMatches(seg.tokens, name);
	};
	return parts => {
		// memo[i][j]: pattern segments from i match path parts from j.
		const P = compiled.length;
		const S = parts.length;
		const memo = new Int8Array((P + 1) * (S + 1)); // 0 unknown, 1 yes, 2 no
		const go = (i: number, j: number): boolean => {
			const key = i * (S + 1) + j;
			if (memo[key]) {
				return memo[key] === 1;
			}
			let ok: boolean;
			if (i === P) {
				ok = j === S;
			} else if (compiled[i].kind === 'globstar') {
				ok = go(i + 1, j) || (j < S && go(i, j + 1));
			} else {
				ok = j < S && segMatch(compiled[i], parts[j]) && go(i + 1, j + 1);
			}
			memo[key] = ok ? 1 : 2;
			return ok;
		};
		return go(0, 0);
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
	return parts => alternatives.some(m => m(parts));
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
