/**
 * @file A .gitignore's rules, matched in bounded time with the glob matcher (glob.ts).
 *
 * [Note: .gitignore files from anyone] A repository's .gitignore went to a regex-based matcher: the
 * line `**\/a/` repeated 14 times then `b`, over 34 nested `a/` folders with one image, took indexing
 * from under a second to 85 s, and each level deeper multiplied it. Here each line becomes a glob for
 * compileGlob (segments matched by a table, so a line costs at most |pattern| × |path| steps), lines
 * longer than MAX_PATTERN_LENGTH are passed over and reported, and a file's rules are capped at
 * MAX_GITIGNORE_RULES (the rest are passed over and reported).
 *
 * Git's rules as they apply here: blank lines and `#` comments are skipped; trailing spaces go unless
 * escaped; `!` re-includes; `\#` and `\!` are literal; a trailing `/` matches folders only; a pattern
 * with a `/` before its end is anchored at the .gitignore's folder (a leading `/` too), one without
 * matches at any depth; the last matching line decides. Case-insensitive, like the matcher this
 * replaces (the `ignore` package's default).
 */
import { ClipError } from './errors';
import { compileGlob, MAX_PATTERN_LENGTH } from './glob';

export const MAX_GITIGNORE_RULES = 5000;

interface Rule {
	negate: boolean;
	dirOnly: boolean;
	test: (parts: string[]) => boolean;
}

export interface GitIgnoreRules {
	/** true: ignored, false: re-included by a `!` line, undefined: no line matches. `rel` is relative to the file's folder. */
	decide(rel: string, isDir: boolean): boolean | undefined;
	/** Lines passed over, each with why (too long, past the cap, not a pattern this matcher takes). */
	skipped: ClipError[];
}

function strip(line: string): string {
	// Trailing spaces go, unless the last one is escaped with a backslash.
	let end = line.length;
	while (end > 0 && line[end - 1] === ' ' && line[end - 2] !== '\\') {
		end--;
	}
	return line.slice(0, end);
}

export function parseGitIgnore(text: string, source = '.gitignore'): GitIgnoreRules {
	const rules: Rule[] = [];
	const skipped: ClipError[] = [];
	const lines = text.split('\n');
	for (let n = 0; n < lines.length; n++) {
		let line = strip(lines[n].replace(/\r$/, ''));
		if (!line || line.startsWith('#')) {
			continue;
		}
		if (rules.length >= MAX_GITIGNORE_RULES) {
			skipped.push(new ClipError('LimitExceeded', `${source}: more than ${MAX_GITIGNORE_RULES} rules; lines from ${n + 1} on are passed over.`));
			break;
		}
		if (line.length > MAX_PATTERN_LENGTH) {
			skipped.push(new ClipError('LimitExceeded', `${source}, line ${n + 1}: longer than ${MAX_PATTERN_LENGTH} characters; passed over.`));
			continue;
		}
		const negate = line.startsWith('!');
		if (negate) {
			line = line.slice(1);
		} else if (line.startsWith('\\!') || line.startsWith('\\#')) {
			line = line.slice(1);
		}
		const dirOnly = line.endsWith('/') && !line.endsWith('\\/');
		if (dirOnly) {
			line = line.slice(0, -1);
		}
		if (!line) {
			continue;
		}
		const anchored = line.slice(0, -1).includes('/') || line.startsWith('/');
		const glob = anchored ? line.replace(/^\/+/, '') : `**/${line}`;
		try {
			// Braces are literal in git: escaped here so that {a,b} is not expanded.
			rules.push({ negate, dirOnly, test: compileGlob(glob.replace(/[{}]/g, c => `\\${c}`), { nocase: true, source: `${source}, line ${n + 1}` }) });
		} catch (err) {
			skipped.push(ClipError.is(err) ? err : new ClipError('LimitExceeded', `${source}, line ${n + 1}: ${String(err)}`));
		}
	}
	return {
		skipped,
		decide: (rel, isDir) => {
			const parts = rel.toLowerCase().split('/').filter(Boolean);
			for (let i = rules.length - 1; i >= 0; i--) {
				const r = rules[i];
				if ((!r.dirOnly || isDir) && r.test(parts)) {
					return !r.negate;
				}
			}
			return undefined;
		},
	};
}
