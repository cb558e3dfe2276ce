/**
 * @file Image references in a text file, as written: where each is (line, column), the target
 * string, and how it was written. Resolving a target to a file is resolve.ts's.
 *
 * [Note: reading references] One reader per kind of text, each a few regular expressions without
 * nested repetition (linear in the text, whatever it holds: a minified one-line bundle is read in
 * the same bounded time as a page), and at most MAX_OCCURRENCES a file:
 * - Markdown: inline images and links `![alt](x.png "title")`, `[text](x.png)`, reference
 *   definitions `[id]: x.png`, and the HTML inside Markdown;
 * - HTML and templates (Vue, Svelte, Astro, JSX/TSX): `src`, `href`, `poster`, `content` (og:image),
 *   `data-src`, `xlink:href` and every candidate of `srcset`; and the scripts and styles inside them;
 * - CSS, SCSS, Less: `url(...)`, and the strings of `image-set(...)`;
 * - JavaScript and TypeScript: string literals (`import`, `require`, `new URL('…', import.meta.url)`
 *   and plain strings), and a template literal or concatenation with a constant prefix or suffix
 *   (`` `icons/${name}.png` ``, `'icons/' + name + '.png'`), which becomes a pattern;
 * - JSON, web manifests, YAML: string values.
 * A target is kept when it names an image (by its extension, a query or fragment aside), or when the
 * syntax itself says it is one (Markdown's `![](…)`); targets with template syntax of other tools
 * (`{{ }}`, `{% %}`, `<% %>`) are left out.
 */
import { isImagePath } from '../index/imageFiles';
import type { TextKind } from './textFiles';

/** How a reference was written. */
export type ReferenceSyntax = 'markdown' | 'markdown-image' | 'html' | 'srcset' | 'css' | 'string' | 'template' | 'data';

export interface Occurrence {
	/** 1-based line and column (UTF-16 units) of the target's first character. */
	line: number;
	column: number;
	/** Offset of the target in the text, and its length (for rewriting it in place). */
	offset: number;
	length: number;
	/** The target as written. */
	target: string;
	syntax: ReferenceSyntax;
	/** A target with a variable part: images whose paths begin and end so may be meant. */
	pattern?: { prefix: string; suffix: string };
	/** The line, trimmed and cut to 200 characters, to show where it is. */
	text: string;
}

/** The most references read from one file (a generated file past it is read no further). */
export const MAX_OCCURRENCES = 5000;

const OTHER_TEMPLATES = /\{\{|\{%|<%|\$\{/;

/** The target without its query and fragment (`x.png?v=2#a` → `x.png`). */
export function bareTarget(target: string): string {
	const cut = target.search(/[?#]/);
	return cut < 0 ? target : target.slice(0, cut);
}

/** Whether a target names an image by its extension. */
export function namesImage(target: string): boolean {
	return isImagePath(bareTarget(target).trim());
}

interface Found {
	offset: number;
	target: string;
	syntax: ReferenceSyntax;
	pattern?: { prefix: string; suffix: string };
}

const MD_INLINE = /(!?)\[[^\]\n]{0,1000}\]\(\s*(<[^>\n]{1,2000}>|[^\s)]{1,2000})/g;
const MD_REFDEF = /^[ \t]{0,3}\[[^\]\n]{1,500}\]:[ \t]*(<[^>\n]{1,2000}>|\S{1,2000})/gm;
const HTML_ATTR = /(?:^|[\s"'{(,])((?:data-)?src|href|poster|content|xlink:href|(?:data-)?srcset)\s*=\s*(?:"([^"]{0,4000})"|'([^']{0,4000})'|([^\s"'=<>`{}]{1,2000}))/gim;
const CSS_URL = /url\(\s*(?:"([^"\n]{0,2000})"|'([^'\n]{0,2000})'|([^)\s'"]{1,2000}))\s*\)/gi;
const STRING = /(["'])((?:(?!\1)[^\\\n]|\\.){1,1000})\1/g;
const TEMPLATE = /`((?:[^`\\]|\\[\s\S]){0,2000})`/g;
const CONCAT = /(["'])([^"'\n\\]{0,500})\1\s*\+\s*[\w$.[\]()]{1,200}\s*(?:\+\s*(["'])([^"'\n\\]{0,200})\3)?/g;
const YAML_BARE = /(?:^|[ \t])(?:[\w.-]+:|-)[ \t]+([^\s'"#[\]{}][^\s#]{0,2000})/gm;

/**
 * The references found so far, each kept only when it may name an image: a minified bundle's
 * thousands of other strings cost a regular expression step each and no memory, and at most
 * MAX_OCCURRENCES are kept.
 */
class Finds {
	readonly list: Found[] = [];
	push(f: Found): void {
		const target = f.target.trim();
		if (this.list.length < MAX_OCCURRENCES * 2 && target && (f.pattern || f.syntax === 'markdown-image' || namesImage(target))) {
			this.list.push(f);
		}
	}
	get full(): boolean {
		return this.list.length >= MAX_OCCURRENCES * 2;
	}
}

/** Each match of `re` in `text` (linear: the expressions have no nested repetition), until enough are kept. */
function* matches(re: RegExp, text: string, out: Finds): Generator<RegExpExecArray> {
	re.lastIndex = 0;
	for (let m = re.exec(text); m && !out.full; m = re.exec(text)) {
		if (m[0].length === 0) {
			re.lastIndex++;
		}
		yield m;
	}
}

function markdown(text: string, out: Finds): void {
	for (const m of matches(MD_INLINE, text, out)) {
		const raw = m[2];
		const at = m.index + m[0].lastIndexOf(raw);
		const angled = raw.startsWith('<');
		out.push({ offset: at + (angled ? 1 : 0), target: angled ? raw.slice(1, -1) : raw, syntax: m[1] ? 'markdown-image' : 'markdown' });
	}
	for (const m of matches(MD_REFDEF, text, out)) {
		const raw = m[1];
		const at = m.index + m[0].lastIndexOf(raw);
		const angled = raw.startsWith('<');
		out.push({ offset: at + (angled ? 1 : 0), target: angled ? raw.slice(1, -1) : raw, syntax: 'markdown' });
	}
}

function html(text: string, out: Finds): void {
	for (const m of matches(HTML_ATTR, text, out)) {
		const value = m[2] ?? m[3] ?? m[4] ?? '';
		const quoted = m[2] !== undefined || m[3] !== undefined;
		const valueAt = m.index + m[0].length - value.length - (quoted ? 1 : 0);
		if (/srcset$/i.test(m[1])) {
			// Every candidate: "a.png 1x, b.png 2x" (a URL, then an optional descriptor).
			let at = 0;
			for (const part of value.split(',')) {
				const lead = part.length - part.trimStart().length;
				const url = part.trim().split(/\s+/)[0] ?? '';
				if (url) {
					out.push({ offset: valueAt + at + lead, target: url, syntax: 'srcset' });
				}
				at += part.length + 1;
			}
		} else if (value) {
			out.push({ offset: valueAt, target: value, syntax: 'html' });
		}
	}
}

function css(text: string, out: Finds): void {
	for (const m of matches(CSS_URL, text, out)) {
		const value = m[1] ?? m[2] ?? m[3] ?? '';
		out.push({ offset: m.index + m[0].indexOf(value, m[0].indexOf('(') + 1), target: value, syntax: 'css' });
	}
}

function strings(text: string, out: Finds, syntax: ReferenceSyntax): void {
	for (const m of matches(STRING, text, out)) {
		out.push({ offset: m.index + 1, target: m[2], syntax });
	}
}

function scripts(text: string, out: Finds): void {
	strings(text, out, 'string');
	for (const m of matches(TEMPLATE, text, out)) {
		const body = m[1];
		const first = body.indexOf('${');
		if (first < 0) {
			out.push({ offset: m.index + 1, target: body, syntax: 'template' });
			continue;
		}
		const last = body.lastIndexOf('}');
		const prefix = body.slice(0, first);
		const suffix = last > first ? body.slice(last + 1) : '';
		if (namesImage(suffix) || (suffix === '' && namesImage(prefix))) {
			out.push({ offset: m.index + 1, target: body, syntax: 'template', pattern: { prefix, suffix } });
		}
	}
	for (const m of matches(CONCAT, text, out)) {
		const prefix = m[2];
		const suffix = m[4] ?? '';
		if (namesImage(suffix)) {
			out.push({ offset: m.index + 1, target: `${prefix}…${suffix}`, syntax: 'template', pattern: { prefix, suffix } });
		}
	}
}

function data(text: string, out: Finds, yaml: boolean): void {
	strings(text, out, 'data');
	if (yaml) {
		for (const m of matches(YAML_BARE, text, out)) {
			out.push({ offset: m.index + m[0].length - m[1].length, target: m[1], syntax: 'data' });
		}
	}
}

/** The start of each line, for line and column numbers. */
function lineStarts(text: string): number[] {
	const starts = [0];
	for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
		starts.push(i + 1);
	}
	return starts;
}

/** The image references in a text of `kind` ([Note: reading references]), in order, each once. */
export function extractReferences(text: string, kind: TextKind, options: { yaml?: boolean } = {}): Occurrence[] {
	const out = new Finds();
	if (kind === 'markdown') {
		markdown(text, out);
		html(text, out);
	} else if (kind === 'html') {
		html(text, out);
		css(text, out);
		scripts(text, out);
	} else if (kind === 'css') {
		css(text, out);
		strings(text, out, 'css');
	} else if (kind === 'script') {
		scripts(text, out);
	} else {
		data(text, out, options.yaml ?? false);
	}
	// One reference a place: the first reader that found it (an HTML attribute before the same string).
	const byOffset = new Map<number, Found>();
	for (const f of out.list) {
		const target = f.target.trim();
		// The place of the target itself (`src=" x.png"`: after the space), so that a rewrite replaces just it.
		const offset = f.offset + (f.target.length - f.target.trimStart().length);
		if (!byOffset.has(offset) && (f.pattern || !OTHER_TEMPLATES.test(target))) {
			byOffset.set(offset, { ...f, offset, target });
		}
	}
	const starts = lineStarts(text);
	const lineOf = (offset: number): number => {
		let lo = 0;
		let hi = starts.length - 1;
		while (lo < hi) {
			const mid = (lo + hi + 1) >> 1;
			if (starts[mid] <= offset) {
				lo = mid;
			} else {
				hi = mid - 1;
			}
		}
		return lo;
	};
	return [...byOffset.values()]
		.sort((a, b) => a.offset - b.offset)
		.slice(0, MAX_OCCURRENCES)
		.map(f => {
			const l = lineOf(f.offset);
			const end = l + 1 < starts.length ? starts[l + 1] - 1 : text.length;
			const lineText = text.slice(starts[l], Math.min(end, starts[l] + 2000)).trim();
			return {
				line: l + 1,
				column: f.offset - starts[l] + 1,
				offset: f.offset,
				length: f.target.length,
				target: f.target,
				syntax: f.syntax,
				...(f.pattern ? { pattern: f.pattern } : {}),
				text: lineText.length > 200 ? `${lineText.slice(0, 197)}…` : lineText,
			};
		});
}
