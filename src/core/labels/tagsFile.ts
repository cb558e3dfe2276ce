/**
 * @file The tags file (`.vscode/image-tags.json`, or `clip-search label --out`): read back at start-up
 * so tags survive a reload, and written atomically so a crash or a second writer never leaves half a
 * file. Its content is tagsFileContent() in labeler.ts.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomicFile';
import { ClipError } from '../common/errors';
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
 * Reads a tags file. undefined when there is none; InvalidArgument naming the file when it is not
 * a tags file (a person may have edited it).
 */
export async function readTagsFile(file: string): Promise<TagsFile | undefined> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
			return undefined;
		}
		throw new ClipError('FileUnreadable', `Cannot read the tags file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, { file, cause: err });
	}
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (err) {
		throw new ClipError('InvalidArgument', `${file} is not valid JSON (${(err as Error).message}). Fix it, or delete it and label the images again.`, { file, cause: err });
	}
	const o = json as Partial<TagsFile> | null;
	if (!o || typeof o !== 'object' || typeof o.images !== 'object' || o.images === null || Array.isArray(o.images)) {
		throw new ClipError('InvalidArgument', `${file} is not a tags file: it has no "images" object. Delete it and label the images again.`, { file });
	}
	const images: Record<string, TagRecord> = {};
	for (const [rel, t] of Object.entries(o.images)) {
		if (t && typeof t === 'object' && (typeof t.label === 'string' || t.label === null) && typeof t.score === 'number') {
			images[rel] = { label: t.label, score: t.score, ...(Array.isArray(t.labels) ? { labels: t.labels.filter(l => typeof l === 'string') } : {}) };
		}
	}
	return {
		model: typeof o.model === 'string' ? o.model : '',
		classes: Array.isArray(o.classes) ? o.classes.filter(c => typeof c === 'string') : [],
		key: typeof o.key === 'string' ? o.key : undefined,
		images,
	};
}

/** Writes the tags file atomically (temp + rename), creating its folder. */
export async function writeTagsFile(file: string, labels: ImageLabel[], meta: { model: string; classes: LabelClass[]; key?: string }): Promise<void> {
	await fs.mkdir(path.dirname(file), { recursive: true });
	await writeFileAtomic(file, tagsFileContent(labels, meta));
}
