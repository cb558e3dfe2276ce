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
import { FolderListing } from './folderListing';
import { type ResolveRules, resolveTarget } from './resolve';
import { BUILD_EXCLUDES, looksLikeText, MAX_TEXT_FILE_BYTES, OWN_FILES, TEXT_INCLUDE, textKindOf } from './textFiles';

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

interface FileRefs {
	size: number;
	mtimeMs: number;
	refs: Reference[];
	/** Why the file was passed over (kept, so that an unchanged one is not read again). */
	skipped?: keyof RefScanStats['skipped'];
}

export class RefIndex {
	private readonly files = new Map<string, FileRefs>();
	private readonly listing: FolderListing;
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
		this.listing.clear();
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
		this.listing.clear();
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
			}
		}
		this.count();
		this.stats.seconds = (performance.now() - started) / 1000;
		return this.stats;
	}

	/** Re-reads the changed paths (files, or folders created, moved or deleted); others are kept. */
	async update(paths: Iterable<string>, signal?: AbortSignal): Promise<void> {
		const list = [...paths];
		this.listing.forget(list);
		// Images among them change what references point to (the listings above), not what they say.
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
		const skip = (why: keyof RefScanStats['skipped']): void => void this.files.set(rel, { size, mtimeMs, refs: [], skipped: why });
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
		this.files.set(rel, { size, mtimeMs, refs });
	}

	/** The resolve rules the index reads targets with (public roots, aliases). */
	rulesOf(): ResolveRules {
		return this.options.rules;
	}

	/** Every reference read, by file and position. */
	references(): Reference[] {
		return this.textFiles().flatMap(f => this.files.get(f)!.refs);
	}

	/** The text files read. */
	textFiles(): string[] {
		return [...this.files.keys()].filter(f => !this.files.get(f)!.skipped).sort();
	}

	/** The references of one file (none for a file not read). */
	referencesIn(file: string): Reference[] {
		return this.files.get(file)?.refs ?? [];
	}

	/** Where a reference points now ([Note: resolving references] in resolve.ts, [Note: case on every disk]). */
	async resolve(ref: Reference): Promise<ResolvedReference> {
		if (ref.pattern) {
			return { ...ref, status: 'ignored' };
		}
		const r = resolveTarget(ref.file, ref.target, ref.syntax, this.options.rules);
		if (r.kind === 'ignored') {
			return { ...ref, status: 'ignored' };
		}
		if (r.kind === 'outside') {
			return { ...ref, status: 'outside', expected: r.path };
		}
		let wrongCase: string | undefined;
		for (const candidate of r.candidates) {
			const found = await this.listing.find(candidate);
			if (found?.exact) {
				return { ...ref, status: 'ok', image: candidate };
			}
			if (found && !wrongCase) {
				wrongCase = found.real;
			}
		}
		if (wrongCase) {
			return { ...ref, status: 'wrong-case', image: wrongCase, expected: r.candidates[0] };
		}
		return { ...ref, status: 'missing', expected: r.candidates[0] };
	}

	/** Every reference with where it points now. */
	async resolveAll(): Promise<ResolvedReference[]> {
		const out: ResolvedReference[] = [];
		for (const ref of this.references()) {
			out.push(await this.resolve(ref));
		}
		return out;
	}

	/** The references that name `image` (relative to the folder), exactly or in another case. */
	async referencesTo(image: string): Promise<ResolvedReference[]> {
		const want = image.toLowerCase();
		return (await this.resolveAll()).filter(r => (r.status === 'ok' || r.status === 'wrong-case') && r.image?.toLowerCase() === want);
	}

	/** How many references name each image (its real path). */
	async uses(): Promise<Map<string, number>> {
		const counts = new Map<string, number>();
		for (const r of await this.resolveAll()) {
			if ((r.status === 'ok' || r.status === 'wrong-case') && r.image) {
				counts.set(r.image, (counts.get(r.image) ?? 0) + 1);
			}
		}
		return counts;
	}

	/** The patterns (template literals, concatenations) with the path prefix they resolve to. */
	patterns(): { ref: Reference; prefixes: string[]; suffix: string }[] {
		const out: { ref: Reference; prefixes: string[]; suffix: string }[] = [];
		for (const ref of this.references()) {
			if (!ref.pattern) {
				continue;
			}
			const { prefix, suffix } = ref.pattern;
			// A prefix is resolved as a target would be (relative, root-relative, an alias); an empty one matches anywhere.
			const r = prefix ? resolveTarget(ref.file, `${prefix}x`, 'string', this.options.rules) : undefined;
			const prefixes = !prefix ? [''] : r?.kind === 'local' ? r.candidates.map(c => c.slice(0, -1)) : [];
			out.push({ ref, prefixes, suffix: suffix.replace(/[?#].*$/, '') });
		}
		return out;
	}
}
