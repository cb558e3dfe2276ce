/**
 * @file The tags file (`.vscode/image-tags.json`, or `clip-search label --out`): read back at start-up
 * so tags survive a reload, and written atomically so a crash or a second writer never leaves half a
 * file. Its content is tagsFileContent() in labeler.ts.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomicFile';
import { confinePath, MAX_TAGS_FILE_BYTES, readRegularTextIfExists } from '../common/confine';
import { ClipError, describeError } from '../common/errors';
import { isSafeRelativePath } from '../common/safePaths';
import { isImagePath } from '../index/imageFiles';
import { type ImageLabel, type LabelClass, tagsFileContent } from './labeler';

export interface TagRecord {
	label: string | null;
	score: number;
	labels?: string[];
}

export interface TagsFile {
	model: string;
	classes: string[];
	/** The labeller's key when the tags were made (classes, examples, model): another key means they are stale. */
	key?: string;
	/** Relative path ('/'-separated) → tag. */
	images: Record<string, TagRecord>;
}

/**
 * Parses a tags file's text. InvalidArgument naming the file when it is not a tags file (not JSON,
 * or not what tagsFileContent writes: version 1, a classes list, an images object). Keys that are not
 * plain relative paths inside the folder ("../../.ssh/id_rsa", "/etc/passwd") are left out and
 * listed in `refused`: a tags file comes with a repository, and its keys are never trusted.
 */
export function parseTagsText(text: string, file: string): TagsFile & { refused: string[] } {
	let json: unknown;
	try {
		json = JSON.parse(text.replace(/^\uFEFF/, ''));
	} catch (err) {
		throw new ClipError('InvalidArgument', `${file} is not valid JSON (${(err as Error).message}). Fix it, or delete it and label the images again.`, { file, cause: err });
	}
	const o = json as (Partial<TagsFile> & { version?: unknown }) | null;
	if (!o || typeof o !== 'object' || o.version !== 1 || !Array.isArray(o.classes) || typeof o.images !== 'object' || o.images === null || Array.isArray(o.images)) {
		throw new ClipError('InvalidArgument', `${file} is not a tags file (version 1, with "classes" and "images"). Delete it and label the images again.`, { file });
	}
	const images: Record<string, TagRecord> = {};
	const refused: string[] = [];
	for (const [rel, t] of Object.entries(o.images)) {
		if (!isSafeRelativePath(rel)) {
			refused.push(rel);
			continue;
		}
		if (t && typeof t === 'object' && (typeof t.label === 'string' || t.label === null) && typeof t.score === 'number') {
			images[rel] = { label: t.label, score: t.score, ...(Array.isArray(t.labels) ? { labels: t.labels.filter(l => typeof l === 'string') } : {}) };
		}
	}
	return {
		model: typeof o.model === 'string' ? o.model : '',
		classes: o.classes.filter(c => typeof c === 'string'),
		key: typeof o.key === 'string' ? o.key : undefined,
		images,
		refused,
	};
}

/** Where a folder's tags live unless told otherwise: the file the extension keeps (and agents read). */
export function defaultTagsFile(root: string): string {
	return path.join(root, '.vscode', 'image-tags.json');
}

/** An image's tags (relative path → its labels, best first, and the best one's probability). */
export type TagsLookup = (rel: string) => { labels: string[]; probability?: number } | undefined;

/**
 * The tags of each image, for the query filters' `tag:` and a hit's `why`; undefined when there is
 * no tags file. Inside `within` when given (agents: links followed, [Note: confinement]).
 */
export async function tagsLookup(file: string, within?: string): Promise<TagsLookup | undefined> {
	if (within !== undefined) {
		if (!(await fs.lstat(file).then(() => true, () => false))) {
			return undefined;
		}
		await confinePath(within, file, 'file');
	}
	const tags = await readTagsFile(file, within);
	if (!tags) {
		return undefined;
	}
	return rel => {
		const t = Object.prototype.hasOwnProperty.call(tags.images, rel) ? tags.images[rel] : undefined;
		if (!t) {
			return undefined;
		}
		const labels = t.labels?.length ? t.labels : t.label ? [t.label] : [];
		return { labels, ...(t.label ? { probability: t.score } : {}) };
	};
}

/**
 * Reads a tags file: undefined when there is none; see parseTagsText. Read as every file a folder
 * provides is ([Note: every read is bounded] in common/confine.ts): a FIFO or a link to /dev/zero at
 * .vscode/image-tags.json is refused at once.
 */
export async function readTagsFile(file: string, within?: string): Promise<(TagsFile & { refused: string[] }) | undefined> {
	const text = await readRegularTextIfExists(file, { maxBytes: MAX_TAGS_FILE_BYTES, what: 'the tags file', within });
	return text === undefined ? undefined : parseTagsText(text, file);
}

/** What a search gets of a folder's tags: the lookup, or why the tags file could not be used. */
export interface TagsForSearch {
	tagsOf?: TagsLookup;
	/** The tags file is there but unusable: a tag: filter fails with this; other queries note it and go on. */
	tagsProblem?: ClipError;
}

/** tagsLookup for a search: never throws; a tags file that cannot be used is a problem to report, not a failed search. */
export async function tagsForSearch(file: string, within?: string): Promise<TagsForSearch> {
	try {
		return { tagsOf: await tagsLookup(file, within) };
	} catch (err) {
		return { tagsProblem: ClipError.is(err) ? err : new ClipError('FileUnreadable', `Cannot read the tags file ${file}: ${describeError(err)}.`, { file, cause: err }) };
	}
}

/**
 * The text of the tags file at `file` before it is replaced, after checking that replacing it loses
 * nothing: refused (WouldOverwrite) when it is the classes file, an image, or an existing file that
 * is not a tags file (notes, a config, a hand-edited file that no longer parses). An empty file may
 * be replaced. undefined when there is no file yet.
 */
export async function tagsFileToReplace(file: string, options: { classesFile?: string; within?: string } = {}): Promise<string | undefined> {
	if (options.within !== undefined) {
		await confinePath(options.within, file, 'file'); // before anything outside is even read
	}
	const real = await fs.realpath(file).catch(() => path.resolve(file));
	if (options.classesFile && real === (await fs.realpath(options.classesFile).catch(() => path.resolve(options.classesFile!)))) {
		throw new ClipError('WouldOverwrite', `${file} is the classes file: tags are not written over it. Give the tags another file.`, { file });
	}
	if (isImagePath(real)) {
		throw new ClipError('WouldOverwrite', `${file} is an image: tags are not written over it. Give the tags a .json file.`, { file });
	}
	let text: string | undefined;
	try {
		text = await readRegularTextIfExists(file, { maxBytes: MAX_TAGS_FILE_BYTES, what: 'the tags file' });
	} catch (err) {
		if (await fs.stat(file).then(st => st.isDirectory(), () => false)) {
			throw new ClipError('WouldOverwrite', `${file} is a folder: give the tags a file.`, { file });
		}
		throw new ClipError('FileUnreadable', `Cannot read ${file} before replacing it: ${describeError(err)} Nothing was written.`, { file, cause: err });
	}
	if (text === undefined) {
		return undefined;
	}
	if (text.trim()) {
		try {
			parseTagsText(text, file);
		} catch (err) {
			throw new ClipError('WouldOverwrite', `${file} exists and is not a tags file, so it was not replaced (${describeError(err)}). Give the tags another file, or delete this one first.`, { file, cause: err });
		}
	}
	return text;
}

/**
 * Writes the tags file atomically (temp + rename), creating its folder, after tagsFileToReplace's
 * checks. With `within` (every surface but a person's own `--out`), the file and its folder stay
 * inside that folder, links followed ([Note: confinement] in common/confine.ts).
 */
export async function writeTagsFile(file: string, labels: ImageLabel[], meta: { model: string; classes: LabelClass[]; key?: string; classesFile?: string; within?: string }): Promise<void> {
	await tagsFileToReplace(file, { classesFile: meta.classesFile, within: meta.within });
	if (meta.within === undefined) {
		await fs.mkdir(path.dirname(file), { recursive: true });
	}
	await writeFileAtomic(file, tagsFileContent(labels, meta), { within: meta.within });
}
