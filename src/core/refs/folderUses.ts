/**
 * @file The four questions for one folder, as every surface asks them (the CLI, the agent tools,
 * the extension's worker): its references read once, its images (the index's, or a walk when
 * there is no index: `broken` and `refs` need no model), and the answers in the shapes the
 * surfaces print (README.md, "Where each image is used").
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MAX_JSON_BYTES, readRegularTextIfExists } from '../common/confine';
import type { IndexStore } from '../index/indexStore';
import { walkImages } from '../index/walker';
import { brokenLinks, type BrokenLink, type ImageFile, type Rewrite, rewritesTo, unusedImages, type UnusedAnswer } from './imageUse';
import { RefIndex } from './refIndex';
import { loadResolveRules } from './resolve';

export interface FolderUsesOptions {
	/** The folder's index, when it has one: its images, and what it remembers of moved ones. */
	index?: IndexStore;
	/** More public roots (`--public`, clipSearch.publicFolders). */
	publicRoots?: string[];
	/** Globs never read or listed (the index's excludes, --exclude, files.exclude). */
	exclude?: string[];
	/** Image globs, when there is no index (else the index's own). */
	include?: string[];
	gitignore?: boolean;
	log?: (message: string) => void;
	signal?: AbortSignal;
}

/** One place that uses an image, as `refs` prints it. */
export interface ReferenceRow {
	file: string;
	line: number;
	column: number;
	text: string;
	/** How it was written (markdown-image, html, srcset, css, string, template, data). */
	syntax: string;
	/** The target as written. */
	target: string;
	/** Set when the reference names the image in another letter case (it breaks on Linux and in git). */
	wrongCase?: true;
}

/** A broken reference as `broken --json` prints it. */
export type BrokenRow = Omit<BrokenLink, 'offset' | 'length'>;

/** The packages a bare import may name: package.json's dependencies and node_modules' folders. */
async function installedPackages(root: string): Promise<string[]> {
	const names = new Set<string>();
	const text = await readRegularTextIfExists(path.join(root, 'package.json'), { maxBytes: MAX_JSON_BYTES, what: 'the package.json file', within: root }).catch(() => undefined);
	try {
		const pkg = text ? (JSON.parse(text) as Record<string, unknown>) : {};
		for (const key of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
			const deps = pkg[key];
			if (deps && typeof deps === 'object') {
				Object.keys(deps).forEach(n => names.add(n));
			}
		}
	} catch {
		// A package.json that does not parse names no packages.
	}
	const modules = path.join(root, 'node_modules');
	for (const entry of await fs.readdir(modules, { withFileTypes: true }).catch(() => [])) {
		if (entry.name.startsWith('@') && entry.isDirectory()) {
			for (const sub of await fs.readdir(path.join(modules, entry.name)).catch(() => [] as string[])) {
				names.add(`${entry.name}/${sub}`);
			}
		} else if (!entry.name.startsWith('.')) {
			names.add(entry.name);
		}
	}
	return [...names];
}

/** A folder's references and images, and the four questions asked of them. */
export class FolderUses {
	/** The last walk's images (no index), kept while the references' listings are unchanged. */
	private walked?: { epoch: number; images: ImageFile[] };

	private constructor(
		readonly root: string,
		readonly refs: RefIndex,
		private readonly options: FolderUsesOptions,
	) {}

	/** The index whose images and memory the answers use (a new generation, or none). */
	setIndex(index: IndexStore | undefined): void {
		this.options.index = index;
	}

	/** Reads the folder's references (a cold scan: [Note: references kept up to date] in refIndex.ts). */
	static async open(root: string, options: FolderUsesOptions = {}): Promise<FolderUses> {
		const abs = path.resolve(root);
		const exclude = [...(options.index?.walk?.exclude ?? []), ...(options.exclude ?? [])];
		const rules = await loadResolveRules(abs, options.publicRoots ?? [], await installedPackages(abs));
		const refs = new RefIndex(abs, { rules, exclude, gitignore: options.gitignore, log: options.log });
		await refs.scan(options.signal);
		return new FolderUses(abs, refs, { ...options, exclude });
	}

	/** The folder's images: the index's files, else those a walk finds (kept until an image or folder changes). */
	async images(): Promise<ImageFile[]> {
		const index = this.options.index;
		if (index) {
			return [...index.files.entries()].map(([p, e]) => ({ path: p, size: e.size })).sort((a, b) => (a.path < b.path ? -1 : 1));
		}
		const epoch = this.refs.listingsEpoch;
		if (this.walked?.epoch === epoch) {
			return this.walked.images;
		}
		const out: ImageFile[] = [];
		for await (const f of walkImages(this.root, { include: this.options.include, exclude: this.options.exclude, gitignore: this.options.gitignore, signal: this.options.signal })) {
			out.push({ path: f.rel, size: f.size });
		}
		if (epoch === this.refs.listingsEpoch) {
			this.walked = { epoch, images: out };
		}
		return out;
	}

	/** Every place that uses `image` (relative to the folder), in file order. */
	async referencesTo(image: string): Promise<ReferenceRow[]> {
		return (await this.refs.referencesTo(image)).map(r => ({
			file: r.file,
			line: r.line,
			column: r.column,
			text: r.text,
			syntax: r.syntax,
			target: r.target,
			...(r.status === 'wrong-case' ? { wrongCase: true as const } : {}),
		}));
	}

	/** Images nothing references (under `scope`, a folder of the root, when given). */
	async unused(scope?: string): Promise<UnusedAnswer> {
		const prefix = scope ? `${scope}/` : '';
		return unusedImages(
			this.refs,
			(await this.images()).filter(i => i.path.startsWith(prefix)),
		);
	}

	/** Broken references (of files under `scope`, when given), each with what it should say where known. */
	async broken(scope?: string): Promise<BrokenLink[]> {
		const prefix = scope ? `${scope}/` : '';
		return (await brokenLinks(this.refs, this.options.index, this.refs.rulesOf())).filter(b => b.file.startsWith(prefix));
	}

	/** The rewrites that make every reference to `others` name `keep` (Use This One Everywhere). */
	rewrites(keep: string, others: readonly string[]): Promise<Rewrite[]> {
		return rewritesTo(this.refs, keep, others);
	}

	/** Duplicate groups with how many places use each image. */
	async withUses<G extends { paths: string[] }>(groups: G[]): Promise<(G & { images: { path: string; uses: number }[] })[]> {
		const uses = await this.refs.uses();
		return groups.map(g => ({ ...g, images: g.paths.map(p => ({ path: p, uses: uses.get(p) ?? 0 })) }));
	}
}

/** A broken link without where it lies in the file (what --json and the agent tools print). */
export function brokenRow(b: BrokenLink): BrokenRow {
	const { offset: _offset, length: _length, ...row } = b;
	return row;
}

/**
 * The FolderUses of each folder a long-lived process serves (the MCP server, the extension's worker),
 * opened once. `watched`: a watcher tells the process what changed (update()); else each question
 * refreshes first (a walk that re-reads only changed files). One refresh or update at a time a folder.
 */
export class FolderUsesCache {
	private readonly open = new Map<string, Promise<FolderUses>>();
	private readonly queue = new Map<string, Promise<unknown>>();

	constructor(
		private readonly optionsFor: (root: string) => FolderUsesOptions,
		private readonly watched = false,
	) {}

	private serial<T>(root: string, work: () => Promise<T>): Promise<T> {
		const next = (this.queue.get(root) ?? Promise.resolve()).catch(() => undefined).then(work);
		this.queue.set(root, next);
		return next;
	}

	/** The folder's uses, over `index` (its current generation, or none), up to date. */
	async get(root: string, index: IndexStore | undefined): Promise<FolderUses> {
		const key = path.resolve(root);
		let opened = this.open.get(key);
		const first = !opened;
		if (!opened) {
			const opening = this.serial(key, () => FolderUses.open(key, { ...this.optionsFor(key), index }));
			this.open.set(key, opening);
			// Forgotten when it fails, unless a newer one took its place meanwhile (forget(), then a new get()).
			opening.catch(() => this.open.get(key) === opening && this.open.delete(key));
			opened = opening;
		}
		const uses = await opened;
		if (index) {
			// A caller whose read of the index failed does not take it away from the others in flight.
			uses.setIndex(index);
		}
		if (!first && !this.watched) {
			await this.serial(key, () => uses.refs.refresh());
		}
		return uses;
	}

	/** Paths of the folder that changed (a watcher's batch): re-read, when the folder is open. */
	async update(root: string, paths: string[]): Promise<void> {
		const opened = this.open.get(path.resolve(root));
		if (opened) {
			const uses = await opened;
			await this.serial(path.resolve(root), () => uses.refs.update(paths));
		}
	}

	/** Forgets a folder (removed from the workspace, or its settings changed: read again on the next question). */
	forget(root?: string): void {
		if (root === undefined) {
			this.open.clear();
		} else {
			this.open.delete(path.resolve(root));
		}
	}
}
