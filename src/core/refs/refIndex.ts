/**
 * @file Where each image of a folder is used: the image references of its text files, read once
 * and kept up to date file by file, and the four questions asked of them (what uses this image,
 * which images nothing uses, which references are broken, how many uses each image has).
 *
 * [Note: references kept up to date] A cold scan reads every text file the walk rules allow
 * (.gitignore, excludes, no dependencies or build output: textFiles.ts), bounded a file; a change
 * re-reads only the files it names. What a reference points to is worked out when a question is
 * asked, from the folders' listings (folderListing.ts), so an image added, moved or deleted is seen
 * at once without reading any text again.
 */
import * as path from 'node:path';
import { isMissingFile, readRegularFile } from '../common/confine';
import { describeError } from '../common/errors';
import { isImagePath } from '../index/imageFiles';
import { statPaths, walkImages } from '../index/walker';
import { extractReferences, type Occurrence } from './extract';
import { type Found, FolderListing } from './folderListing';
import { type Resolution, type ResolveRules, resolveTarget } from './resolve';
import { BUILD_EXCLUDES, looksLikeText, MAX_TEXT_FILE_BYTES, OWN_FILES, TEXT_INCLUDE, textKindOf } from './textFiles';

/** A pattern's resolution: it names no one image (patterns() reads it). */
const PATTERN: Resolution = { kind: 'ignored', why: 'empty' };

/** One reference, where it is and what it says. */
export interface Reference extends Occurrence {
	/** The referencing file, relative to the folder ('/'-separated). */
	file: string;
}

/** A reference with where it points now. */
export interface ResolvedReference extends Reference {
	status: 'ok' | 'wrong-case' | 'missing' | 'outside' | 'ignored';
	/** The image it names (its real path, for a wrong case), when it names one. */
	image?: string;
	/** Where a missing target was looked for first (what a person would create). */
	expected?: string;
}

export interface RefScanStats {
	files: number;
	references: number;
	/** Text files passed over: too large, binary, or unreadable (each counted). */
	skipped: { tooLarge: number; binary: number; unreadable: number };
	seconds: number;
}

export interface RefIndexOptions {
	/** Globs of files and folders never read (the index's excludes, files.exclude, --exclude), beside BUILD_EXCLUDES. */
	exclude?: string[];
	gitignore?: boolean;
	rules: ResolveRules;
	log?: (message: string) => void;
}

/** A pattern (a template literal, a concatenation) with the path prefixes it may name images under. */
export interface PatternRef {
	ref: Reference;
	prefixes: string[];
	suffix: string;
}

interface FileRefs {
	size: number;
	mtimeMs: number;
	refs: Reference[];
	/** Where each reference points by its text alone (resolveTarget), worked out once when the file is read. */
	targets: Resolution[];
	/** Its patterns with the path prefixes they resolve to, worked out once when the file is read. */
	patterns: PatternRef[];
	/** Where each reference points now, kept while the listings are unchanged (`epoch`). */
	resolved?: { epoch: number; refs: ResolvedReference[] };
	/** Why the file was passed over (kept, so that an unchanged one is not read again). */
	skipped?: keyof RefScanStats['skipped'];
}

export class RefIndex {
	private readonly files = new Map<string, FileRefs>();
	private readonly listing: FolderListing;
	/** Counts changes of the listings (what references point to) and of the files read (what they say). */
	private epoch = 0;
	private version = 0;
	/** Answers kept for one `version`: the sorted text files and the use counts. */
	private kept: { version: number; textFiles?: string[]; uses?: Map<string, number> } = { version: -1 };
	readonly stats: RefScanStats = { files: 0, references: 0, skipped: { tooLarge: 0, binary: 0, unreadable: 0 }, seconds: 0 };

	constructor(
		readonly root: string,
		private readonly options: RefIndexOptions,
	) {
		this.root = path.resolve(root);
		this.listing = new FolderListing(this.root);
	}

	private walkOptions(signal?: AbortSignal) {
		return {
			include: TEXT_INCLUDE,
			exclude: [...BUILD_EXCLUDES, ...OWN_FILES, ...(this.options.exclude ?? [])],
			gitignore: this.options.gitignore,
			signal,
			onError: (rel: string, err: unknown) => this.options.log?.(`references: cannot read ${rel}: ${describeError(err)}`),
		};
	}

	/** Reads every text file of the folder (a cold scan). */
	async scan(signal?: AbortSignal): Promise<RefScanStats> {
		const started = performance.now();
		this.files.clear();
		this.forgetListings();
		const pending: Promise<void>[] = [];
		for await (const file of walkImages(this.root, this.walkOptions(signal))) {
			pending.push(this.read(file.rel, file.abs, file.size, file.mtimeMs));
			if (pending.length >= 16) {
				await Promise.all(pending.splice(0));
			}
		}
		await Promise.all(pending);
		this.count();
		this.stats.seconds = (performance.now() - started) / 1000;
		return this.stats;
	}

	/**
	 * Brings every file up to date without a watcher (the MCP server, a second question in one run):
	 * a walk that re-reads only the files whose size or time changed, forgets the ones gone, and
	 * forgets the listings (images may have moved).
	 */
	async refresh(signal?: AbortSignal): Promise<RefScanStats> {
		const started = performance.now();
		this.forgetListings();
		const seen = new Set<string>();
		for await (const file of walkImages(this.root, this.walkOptions(signal))) {
			seen.add(file.rel);
			const known = this.files.get(file.rel);
			if (!known || known.size !== file.size || known.mtimeMs !== file.mtimeMs) {
				await this.read(file.rel, file.abs, file.size, file.mtimeMs);
			}
		}
		for (const rel of [...this.files.keys()]) {
			if (!seen.has(rel)) {
				this.files.delete(rel);
				this.version++;
			}
		}
		this.count();
		this.stats.seconds = (performance.now() - started) / 1000;
		return this.stats;
	}

	/** Re-reads the changed paths (files, or folders created, moved or deleted); others are kept. */
	async update(paths: Iterable<string>, signal?: AbortSignal): Promise<void> {
		const list = [...paths];
		// A text file's change changes what it says, not what exists: only images and folders (created,
		// moved, deleted) make the listings, and so every kept resolution, out of date.
		const others = list.filter(rel => !textKindOf(rel));
		if (others.length) {
			this.listing.forget(others);
			this.epoch++;
			this.version++;
		}
		const texts = list.filter(rel => !isImagePath(rel));
		if (!texts.length) {
			return;
		}
		const changes = await statPaths(this.root, texts, this.walkOptions(signal));
		const gone = [...changes.gone, ...changes.walkedFolders.map(f => `${f}/`)];
		const seen = new Set(changes.files.map(f => f.rel));
		for (const rel of [...this.files.keys()]) {
			if (!seen.has(rel) && gone.some(g => (g.endsWith('/') ? rel.startsWith(g) : rel === g || rel.startsWith(`${g}/`)))) {
				this.files.delete(rel);
				this.version++;
			}
		}
		for (const file of changes.files) {
			const known = this.files.get(file.rel);
			if (!known || known.size !== file.size || known.mtimeMs !== file.mtimeMs) {
				await this.read(file.rel, file.abs, file.size, file.mtimeMs);
			}
		}
		this.count();
	}

	private forgetListings(): void {
		this.listing.clear();
		this.epoch++;
		this.version++;
	}

	private count(): void {
		const skipped = { tooLarge: 0, binary: 0, unreadable: 0 };
		let files = 0;
		let references = 0;
		for (const f of this.files.values()) {
			if (f.skipped) {
				skipped[f.skipped]++;
			} else {
				files++;
				references += f.refs.length;
			}
		}
		Object.assign(this.stats, { files, references, skipped });
	}

	private async read(rel: string, abs: string, size: number, mtimeMs: number): Promise<void> {
		const kind = textKindOf(rel);
		if (!kind) {
			return;
		}
		this.version++;
		const skip = (why: keyof RefScanStats['skipped']): void => void this.files.set(rel, { size, mtimeMs, refs: [], targets: [], patterns: [], skipped: why });
		if (size > MAX_TEXT_FILE_BYTES) {
			return skip('tooLarge');
		}
		let bytes: Buffer;
		try {
			bytes = await readRegularFile(abs, { maxBytes: MAX_TEXT_FILE_BYTES, what: 'the text file', within: this.root });
		} catch (err) {
			if (isMissingFile(err)) {
				this.files.delete(rel);
				return;
			}
			this.options.log?.(`references: ${describeError(err)}`);
			return skip('unreadable');
		}
		if (!looksLikeText(bytes)) {
			return skip('binary');
		}
		const refs = extractReferences(bytes.toString('utf8'), kind, { yaml: /\.ya?ml$/i.test(rel) }).map(o => ({ ...o, file: rel }));
		const targets = refs.map(r => (r.pattern ? PATTERN : resolveTarget(r.file, r.target, r.syntax, this.options.rules)));
		this.files.set(rel, { size, mtimeMs, refs, targets, patterns: refs.filter(r => r.pattern).map(r => this.patternOf(r)) });
	}

	private patternOf(ref: Reference): PatternRef {
		const { prefix, suffix } = ref.pattern!;
		// A prefix is resolved as a target would be (relative, root-relative, an alias); an empty one matches anywhere.
		const r = prefix ? resolveTarget(ref.file, `${prefix}x`, 'string', this.options.rules) : undefined;
		const prefixes = !prefix ? [''] : r?.kind === 'local' ? r.candidates.map(c => c.slice(0, -1)) : [];
		return { ref, prefixes, suffix: suffix.replace(/[?#].*$/, '') };
	}

	/** Changes whenever what exists may have changed (images, folders): answers about images are kept until it does. */
	get listingsEpoch(): number {
		return this.epoch;
	}

	/** The resolve rules the index reads targets with (public roots, aliases). */
	rulesOf(): ResolveRules {
		return this.options.rules;
	}

	/** The text files read. */
	textFiles(): string[] {
		const kept = this.keptAnswers();
		kept.textFiles ??= [...this.files.keys()].filter(f => !this.files.get(f)!.skipped).sort();
		return kept.textFiles;
	}

	private keptAnswers(): RefIndex['kept'] {
		if (this.kept.version !== this.version) {
			this.kept = { version: this.version };
		}
		return this.kept;
	}

	/** The listings' answers for a resolution's candidates, without waiting when they are known. */
	private findAll(r: Resolution): Found[] | Promise<Found[]> {
		if (r.kind !== 'local') {
			return [];
		}
		const known = r.candidates.map(c => this.listing.known(c));
		return known.includes('unknown') ? Promise.all(r.candidates.map(c => this.listing.find(c))) : (known as Found[]);
	}

	private resolveAs(ref: Reference, r: Resolution, found: Found[]): ResolvedReference {
		if (r.kind === 'ignored') {
			return { ...ref, status: 'ignored' };
		}
		if (r.kind === 'outside') {
			return { ...ref, status: 'outside', expected: r.path };
		}
		let wrongCase: string | undefined;
		for (const [i, candidate] of r.candidates.entries()) {
			const f = found[i];
			if (f?.exact) {
				return { ...ref, status: 'ok', image: candidate };
			}
			if (f && !wrongCase) {
				wrongCase = f.real;
			}
		}
		if (wrongCase) {
			return { ...ref, status: 'wrong-case', image: wrongCase, expected: r.candidates[0] };
		}
		return { ...ref, status: 'missing', expected: r.candidates[0] };
	}

	/**
	 * Every reference with where it points now. [Note: references kept up to date]: targets are
	 * worked out when a file is read, and the listings' answers are kept until a change touches their
	 * folder, so a question after a change costs a pass over the references, not a look at the disk.
	 */
	async resolveAll(): Promise<ResolvedReference[]> {
		// The files as they are now, taken before any await: a change that lands meanwhile (update,
		// refresh) replaces entries of the map, never these.
		const files = this.textFiles().map(name => this.files.get(name)!);
		const out: ResolvedReference[] = [];
		for (const f of files) {
			for (const r of await this.resolvedIn(f)) {
				out.push(r);
			}
		}
		return out;
	}

	/** One file's references with where they point now, kept until the listings change. */
	private async resolvedIn(f: FileRefs): Promise<ResolvedReference[]> {
		if (f.resolved?.epoch === this.epoch) {
			return f.resolved.refs;
		}
		const epoch = this.epoch;
		const refs: ResolvedReference[] = [];
		for (const [i, ref] of f.refs.entries()) {
			const r = f.targets[i];
			const found = this.findAll(r);
			refs.push(this.resolveAs(ref, r, Array.isArray(found) ? found : await found));
		}
		if (epoch === this.epoch) {
			f.resolved = { epoch, refs };
		}
		return refs;
	}

	/** The references that name `image` (relative to the folder), exactly or in another case. */
	async referencesTo(image: string): Promise<ResolvedReference[]> {
		const want = image.toLowerCase();
		return (await this.resolveAll()).filter(r => (r.status === 'ok' || r.status === 'wrong-case') && r.image?.toLowerCase() === want);
	}

	/** How many references name each image (its real path). */
	async uses(): Promise<Map<string, number>> {
		const version = this.version;
		const kept = this.keptAnswers().uses;
		if (kept) {
			return kept;
		}
		const counts = new Map<string, number>();
		for (const r of await this.resolveAll()) {
			if ((r.status === 'ok' || r.status === 'wrong-case') && r.image) {
				counts.set(r.image, (counts.get(r.image) ?? 0) + 1);
			}
		}
		if (version === this.version) {
			this.keptAnswers().uses = counts;
		}
		return counts;
	}

	/** The patterns (template literals, concatenations) with the path prefixes they resolve to. */
	patterns(): PatternRef[] {
		return this.textFiles().flatMap(f => this.files.get(f)!.patterns);
	}
}
