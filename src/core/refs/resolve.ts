/**
 * @file Where a reference points: the files inside the folder a target may name, in the order a
 * site or a bundler would try them, or why it points nowhere the product follows.
 *
 * [Note: resolving references] A target is read as the tools that serve it read it:
 * - URLs with a scheme (`https:`, `data:`, `mailto:`, …) and protocol-relative `//host/…` are not
 *   files of the folder: left alone, never fetched;
 * - a query and a fragment are dropped (`logo.png?v=3#dark`), percent-encoding is decoded (`my%20logo.png`);
 * - `/x.png` is root-relative: read from the public roots (`public/`, `static/`, the folder itself,
 *   and any given), the first that holds it;
 * - an alias of tsconfig.json's or jsconfig.json's `compilerOptions.paths` (`@/assets/x.png`) maps to
 *   its folders; `~pkg/x.png` and a bare import specifier that names an installed package are
 *   dependencies, left alone;
 * - anything else is relative to the referencing file, then (a page's relative URL, as a static
 *   site serves it) to each public root;
 * - a path that leaves the folder (`../../x.png` past its root) is reported, never followed.
 */
import * as path from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { MAX_JSON_BYTES, readRegularTextIfExists } from '../common/confine';
import { bareTarget, type ReferenceSyntax } from './extract';

export interface ResolveRules {
	/** Folders (relative, '/'-separated; '' is the folder itself) root-relative targets are read from, in order. */
	publicRoots: string[];
	/** tsconfig/jsconfig path aliases: a prefix and the folders it stands for (relative to the folder). */
	aliases: { prefix: string; exact: boolean; targets: string[] }[];
	/** Top-level names of installed packages (node_modules/<name>): bare specifiers that are dependencies. */
	packages: Set<string>;
}

export type Resolution =
	| { kind: 'ignored'; why: 'url' | 'dependency' | 'empty' }
	/** Relative paths inside the folder, in the order they are tried; the first is the one a missing target is reported as. */
	| { kind: 'local'; candidates: string[]; rootRelative: boolean }
	| { kind: 'outside'; path: string };

/** The folders root-relative targets are read from when nothing else is said. */
export const DEFAULT_PUBLIC_ROOTS = ['public', 'static', ''];

/** The rules of a folder: its public roots (the defaults and `extra`), its tsconfig/jsconfig aliases, its installed packages. */
export async function loadResolveRules(root: string, extraPublicRoots: string[] = [], packages: Iterable<string> = []): Promise<ResolveRules> {
	const aliases: ResolveRules['aliases'] = [];
	for (const name of ['tsconfig.json', 'jsconfig.json']) {
		// [Note: every read is bounded] in common/confine.ts; a config that does not parse adds nothing.
		const text = await readRegularTextIfExists(path.join(root, name), { maxBytes: MAX_JSON_BYTES, what: `the ${name} file`, within: root }).catch(() => undefined);
		const config = text ? (parseJsonc(text) as { compilerOptions?: { baseUrl?: unknown; paths?: unknown } } | undefined) : undefined;
		const options = config?.compilerOptions;
		if (!options || typeof options.paths !== 'object' || options.paths === null) {
			continue;
		}
		const base = typeof options.baseUrl === 'string' ? options.baseUrl : '.';
		for (const [key, values] of Object.entries(options.paths as Record<string, unknown>)) {
			if (!Array.isArray(values)) {
				continue;
			}
			const exact = !key.endsWith('*');
			const targets = values
				.filter((v): v is string => typeof v === 'string')
				.map(v => path.posix.normalize(path.posix.join(base.replace(/\\/g, '/'), v.replace(/\*$/, '').replace(/\\/g, '/'))).replace(/^\.(?:\/|$)|\/+$/g, ''))
				.filter(t => !t.startsWith('..'));
			if (targets.length) {
				aliases.push({ prefix: exact ? key : key.slice(0, -1), exact, targets });
			}
		}
	}
	// Longer prefixes first: `@/assets/` before `@/`.
	aliases.sort((a, b) => b.prefix.length - a.prefix.length);
	const publicRoots = [...new Set([...extraPublicRoots.map(p => p.replace(/\\/g, '/').replace(/^\.?\/+|\/+$/g, '')), ...DEFAULT_PUBLIC_ROOTS])];
	return { publicRoots, aliases, packages: new Set(packages) };
}

function decode(target: string): string {
	try {
		return decodeURIComponent(target);
	} catch {
		return target;
	}
}

/** Joins and normalises relative paths; undefined when the result leaves the folder. */
function inside(...parts: string[]): string | undefined {
	const joined = path.posix.normalize(path.posix.join(...parts.filter(p => p !== '')));
	if (joined === '..' || joined.startsWith('../') || path.posix.isAbsolute(joined)) {
		return undefined;
	}
	return joined === '.' ? '' : joined.replace(/^\.\//, '');
}

/** Where `target`, written in the file `fromRel` (relative to the folder), points ([Note: resolving references]). */
export function resolveTarget(fromRel: string, target: string, syntax: ReferenceSyntax, rules: ResolveRules): Resolution {
	const raw = target.trim();
	if (/^[a-z][a-z0-9+.-]*:/i.test(raw) || raw.startsWith('//')) {
		return { kind: 'ignored', why: 'url' };
	}
	const bare = decode(bareTarget(raw)).replace(/\\/g, '/');
	if (!bare) {
		return { kind: 'ignored', why: 'empty' };
	}
	const dir = path.posix.dirname(fromRel) === '.' ? '' : path.posix.dirname(fromRel);
	if (bare.startsWith('/')) {
		const candidates = rules.publicRoots.map(p => inside(p, bare.slice(1))).filter((c): c is string => c !== undefined);
		return candidates.length ? { kind: 'local', candidates, rootRelative: true } : { kind: 'outside', path: bare };
	}
	for (const alias of rules.aliases) {
		if (alias.exact ? bare === alias.prefix : bare.startsWith(alias.prefix)) {
			const rest = alias.exact ? '' : bare.slice(alias.prefix.length);
			const candidates = alias.targets.map(t => (alias.exact ? inside(t) : inside(t, rest))).filter((c): c is string => c !== undefined);
			return candidates.length ? { kind: 'local', candidates, rootRelative: false } : { kind: 'outside', path: bare };
		}
	}
	if (bare.startsWith('~')) {
		return { kind: 'ignored', why: 'dependency' }; // webpack's ~pkg/…
	}
	const explicit = bare.startsWith('./') || bare.startsWith('../');
	if (!explicit && (syntax === 'string' || syntax === 'css') && rules.packages.has(bare.startsWith('@') ? bare.split('/').slice(0, 2).join('/') : bare.split('/')[0])) {
		return { kind: 'ignored', why: 'dependency' };
	}
	const relative = inside(dir, bare);
	if (relative === undefined) {
		return { kind: 'outside', path: bare };
	}
	// A page's relative URL, served from a public root, as a second try (a bare name only).
	const served = explicit ? [] : rules.publicRoots.map(p => inside(p, bare)).filter((c): c is string => c !== undefined && c !== relative);
	return { kind: 'local', candidates: [relative, ...served], rootRelative: false };
}
