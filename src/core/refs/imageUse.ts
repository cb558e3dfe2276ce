/**
 * @file The questions asked of a folder's references: which images nothing uses (and which a pattern
 * may use), which references are broken and what they should say instead, and how a reference
 * to an image is written from another file.
 *
 * [Note: a broken link's suggestion] A reference whose target is missing is answered from what the
 * index remembers ([Note: what left the index] in index/indexStore.ts): the content the missing path
 * held, found again under another path (moved or renamed: `git mv media/chart.png media/moved/`), or,
 * when no file holds that content any more (replaced, re-exported), the image nearest to it by
 * cosine (0.9 or more, marked as such); else an image of the same name elsewhere. A name that
 * exists only in another case suggests its real case ([Note: case on every disk]).
 */
import * as path from 'node:path';
import type { IndexStore } from '../index/indexStore';
import type { ReferenceSyntax } from './extract';
import type { RefIndex, ResolvedReference } from './refIndex';
import { DEFAULT_PUBLIC_ROOTS, type ResolveRules } from './resolve';

export interface ImageFile {
	path: string;
	size: number;
}

export interface UnusedAnswer {
	/** Images nothing references, biggest first. */
	unused: ImageFile[];
	/** Images only a pattern may name (`icons/${name}.png`): never reported unused. */
	possiblyUsed: (ImageFile & { by: { file: string; line: number; pattern: string }[] })[];
	/** The bytes the unused images hold. */
	bytes: number;
}

/** Images of `images` that no reference names, and those only a pattern may name. */
export async function unusedImages(refs: RefIndex, images: readonly ImageFile[]): Promise<UnusedAnswer> {
	const used = new Set([...(await refs.uses()).keys()].map(p => p.toLowerCase()));
	// Patterns by the path prefix they resolve to: an image is checked against the prefixes it starts
	// with (one lookup per character of its path), not against every pattern of the folder.
	const byPrefix = new Map<string, { suffix: string; by: { file: string; line: number; pattern: string } }[]>();
	for (const p of refs.patterns()) {
		const by = { file: p.ref.file, line: p.ref.line, pattern: `${p.ref.pattern!.prefix}*${p.ref.pattern!.suffix}` };
		for (const prefix of new Set(p.prefixes.map(x => x.toLowerCase()))) {
			const list = byPrefix.get(prefix) ?? [];
			list.push({ suffix: p.suffix.toLowerCase(), by });
			byPrefix.set(prefix, list);
		}
	}
	const unused: ImageFile[] = [];
	const possiblyUsed: UnusedAnswer['possiblyUsed'] = [];
	for (const image of images) {
		const lower = image.path.toLowerCase();
		if (used.has(lower)) {
			continue;
		}
		const by: { file: string; line: number; pattern: string }[] = [];
		for (let k = 0; k <= lower.length && by.length < 10; k++) {
			for (const p of byPrefix.get(lower.slice(0, k)) ?? []) {
				if (lower.endsWith(p.suffix) && lower.length >= k + p.suffix.length && by.length < 10) {
					by.push(p.by);
				}
			}
		}
		if (by.length) {
			possiblyUsed.push({ ...image, by });
		} else {
			unused.push(image);
		}
	}
	const bySize = (a: ImageFile, b: ImageFile): number => b.size - a.size || (a.path < b.path ? -1 : 1);
	return { unused: unused.sort(bySize), possiblyUsed: possiblyUsed.sort(bySize), bytes: unused.reduce((n, i) => n + i.size, 0) };
}

export type BrokenReason = 'missing' | 'wrong case' | 'missing srcset candidate' | 'outside the folder';

export interface BrokenLink {
	file: string;
	line: number;
	column: number;
	/** The target as written. */
	target: string;
	/** How it was written (a rewrite encodes the new path as this syntax needs). */
	syntax: ReferenceSyntax;
	/** The path in the folder the target names (where it was looked for first), when it names one inside. */
	expected?: string;
	reason: BrokenReason;
	/** What the target should say instead (relative to the referencing file, or root-relative as it was), when something is known. */
	suggestion?: string;
	/** The image suggested, and why ([Note: a broken link's suggestion]). */
	suggested?: { path: string; why: 'real case' | 'moved' | 'same name' | 'similar'; cosine?: number };
	/** Where the rewrite goes in the file (offset and length of the target). */
	offset: number;
	length: number;
}

/** Syntaxes whose targets are URLs (percent-encoded): a path written there encodes what a URL cannot hold as is. */
const URL_SYNTAX = new Set<ReferenceSyntax>(['markdown', 'markdown-image', 'html', 'srcset', 'css']);

/** A relative path as a URL path: `%`, spaces, quotes, parentheses, `#` and `?` encoded, the rest as it is. */
/** A path as a URL path: the characters a Markdown, HTML or CSS reader would take as something else, percent-encoded. */
export function asUrlPath(p: string): string {
	return p.replace(/[% "'()#?<>]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * How `file` refers to `image`: relative to the file; root-relative (`/…` from a public root) when the
 * original was, and the image lies under a public root. In a URL (Markdown, HTML, CSS) the path is
 * percent-encoded where it must be (`photo one.png` → `photo%20one.png`); in a script or data file
 * (a bundler's file path) it is written as it is.
 */
export function targetFor(
	file: string,
	image: string,
	original: string,
	rules: Pick<ResolveRules, 'publicRoots'> & Partial<Pick<ResolveRules, 'aliases'>> = { publicRoots: DEFAULT_PUBLIC_ROOTS },
	syntax: ReferenceSyntax = 'markdown',
): string {
	const encode = URL_SYNTAX.has(syntax) ? asUrlPath : (p: string) => p;
	// Keep a query or fragment the original had (`logo.png?v=2`).
	const tail = /[?#].*$/.exec(original)?.[0] ?? '';
	// Through the same alias when the original used one and the image lies under it (`@/assets/x.png`).
	for (const alias of rules.aliases ?? []) {
		if (!alias.exact && original.startsWith(alias.prefix)) {
			const target = alias.targets.find(t => !t || image.startsWith(`${t}/`));
			if (target !== undefined) {
				return `${alias.prefix}${encode(target ? image.slice(target.length + 1) : image)}${tail}`;
			}
		}
	}
	if (original.startsWith('/')) {
		for (const root of rules.publicRoots) {
			if (!root || image.startsWith(`${root}/`)) {
				return `/${encode(root ? image.slice(root.length + 1) : image)}${tail}`;
			}
		}
	}
	const dir = path.posix.dirname(file);
	let rel = path.posix.relative(dir === '.' ? '' : dir, image);
	if (!rel.startsWith('.') && (original.startsWith('./') || original.startsWith('../') || syntax === 'string')) {
		// `./` when the original had it; always in an import (a bare name there is a package).
		rel = `./${rel}`;
	}
	return encode(rel) + tail;
}

/** One reference rewritten to name another image: where, what it says now, what it will say. */
export interface Rewrite {
	file: string;
	line: number;
	column: number;
	offset: number;
	length: number;
	/** The target as written now. */
	from: string;
	to: string;
}

/**
 * The rewrites that make every reference to `others` name `keep` instead (Use This One Everywhere):
 * each target recomputed from its own file, in its own form (relative or root-relative, encoded as
 * its syntax needs, query kept). Patterns are not rewritten (they name no one image).
 */
export async function rewritesTo(refs: RefIndex, keep: string, others: readonly string[]): Promise<Rewrite[]> {
	const wanted = new Set(others);
	const out: Rewrite[] = [];
	for (const r of await refs.resolveAll()) {
		if ((r.status === 'ok' || r.status === 'wrong-case') && r.image && wanted.has(r.image) && r.image !== keep) {
			out.push({ file: r.file, line: r.line, column: r.column, offset: r.offset, length: r.length, from: r.target, to: targetFor(r.file, keep, r.target, refs.rulesOf(), r.syntax) });
		}
	}
	return out;
}

/** The image of the index nearest to what a missing path held ([Note: a broken link's suggestion]). */
function suggestFromIndex(index: IndexStore | undefined, expected: string, byName: () => Map<string, string[]>): BrokenLink['suggested'] | undefined {
	if (!index) {
		return undefined;
	}
	const gone = index.removedFile(expected);
	if (gone) {
		const now = index.filesOfLabel(index.labelOf(gone.hash) ?? -1);
		if (now.length) {
			const base = path.posix.basename(expected);
			return { path: now.find(p => path.posix.basename(p) === base) ?? now[0], why: 'moved' };
		}
		const vector = index.vectorOf(gone.hash);
		const [best] = vector ? index.search(vector, 1) : [];
		if (best && best.score >= 0.9) {
			return { path: index.filesOfLabel(best.label)[0], why: 'similar', cosine: Math.round(best.score * 1e4) / 1e4 };
		}
	}
	const same = byName().get(path.posix.basename(expected).toLowerCase()) ?? [];
	return same.length === 1 ? { path: same[0], why: 'same name' } : undefined;
}

/** The broken references of the folder, with what each should say where something is known. */
export async function brokenLinks(refs: RefIndex, index: IndexStore | undefined, rules: Pick<ResolveRules, 'publicRoots'> & Partial<Pick<ResolveRules, 'aliases'>>): Promise<BrokenLink[]> {
	const out: BrokenLink[] = [];
	const resolved: ResolvedReference[] = await refs.resolveAll();
	// The index's images by file name, made once for this answer (when a missing reference needs it).
	let names: Map<string, string[]> | undefined;
	const byName = (): Map<string, string[]> => {
		if (!names) {
			names = new Map();
			for (const p of index?.files.keys() ?? []) {
				const base = path.posix.basename(p).toLowerCase();
				const list = names.get(base) ?? [];
				list.push(p);
				names.set(base, list);
			}
		}
		return names;
	};
	for (const r of resolved) {
		if (r.status === 'ok' || r.status === 'ignored') {
			continue;
		}
		const base: Omit<BrokenLink, 'reason'> = { file: r.file, line: r.line, column: r.column, target: r.target, syntax: r.syntax, offset: r.offset, length: r.length };
		if (r.status === 'outside') {
			out.push({ ...base, reason: 'outside the folder' });
			continue;
		}
		base.expected = r.expected;
		const suggested = r.status === 'wrong-case' ? { path: r.image!, why: 'real case' as const } : suggestFromIndex(index, r.expected!, byName);
		out.push({
			...base,
			reason: r.status === 'wrong-case' ? 'wrong case' : r.syntax === 'srcset' ? 'missing srcset candidate' : 'missing',
			...(suggested ? { suggestion: targetFor(r.file, suggested.path, r.target, rules, r.syntax), suggested } : {}),
		});
	}
	return out;
}
