/**
 * @file Tags kept current: after an index run, only the images that are new or changed are labelled
 * again and the ones that are gone are dropped; everything is labelled again when the classes (or
 * their examples, or the model) changed — the labeller's key says so. The tags file is rewritten
 * atomically, in path order, and only when a tag changed.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomicFile';
import type { IndexStore } from '../index/indexStore';
import { type ImageLabel, type Labeler, type LabelOptions, tagsFileContent } from './labeler';
import { parseTagsText, tagsFileToReplace } from './tagsFile';

export interface TagUpdate {
	/** True when the tags file was rewritten (some tag changed). */
	written: boolean;
	/** Every image was labelled again (no tags yet, or the classes changed). */
	full: boolean;
	/** Images labelled in this update. */
	labelled: number;
	/** Tags dropped for images that are gone. */
	dropped: number;
	/** Tagged images now in the file. */
	images: number;
}

export async function updateTagsFile(
	tagsFile: string,
	store: IndexStore,
	labeler: Labeler,
	options: LabelOptions & { changed?: Iterable<string>; classesFile?: string; within?: string } = {},
): Promise<TagUpdate> {
	// A file that is not a tags file of ours is refused, never written over (tagsFileToReplace); with
	// `within`, one whose path leads out of the folder is refused before it is read.
	const previousText = await tagsFileToReplace(tagsFile, { classesFile: options.classesFile, within: options.within });
	const previous = previousText?.trim() ? parseTagsText(previousText, tagsFile) : undefined;
	const full = !previous || previous.key !== labeler.key || options.changed === undefined;
	let labels: ImageLabel[];
	let labelled: number;
	let dropped = 0;
	if (full) {
		labels = await labeler.labelIndexInSlices(store, options);
		labelled = labels.length;
	} else {
		const kept = new Map<string, ImageLabel>();
		for (const [rel, t] of Object.entries(previous.images)) {
			const entry = store.files.get(rel);
			if (!entry?.hash || entry.error) {
				dropped++;
				continue;
			}
			kept.set(rel, { path: rel, label: t.label, score: t.score, scores: {}, ...(t.labels ? { labels: t.labels } : {}) });
		}
		// New or changed files, and indexed files the tags file does not know (a run it missed).
		const todo = new Set(options.changed);
		for (const [rel, entry] of store.files) {
			if (entry.hash && !entry.error && !kept.has(rel)) {
				todo.add(rel);
			}
		}
		if (!todo.size && !dropped) {
			// Nothing new, nothing gone, the same classes: no tag can have changed.
			return { written: false, full: false, labelled: 0, dropped: 0, images: kept.size };
		}
		const fresh = await labeler.labelIndexInSlices(store, { ...options, paths: todo });
		for (const rel of todo) {
			kept.delete(rel); // labelled again below, or changed into something that cannot be indexed
		}
		for (const l of fresh) {
			kept.set(l.path, l);
		}
		labels = [...kept.values()];
		labelled = fresh.length;
	}
	const content = tagsFileContent(labels, { model: store.model.key, classes: labeler.classes, key: labeler.key });
	const written = content !== previousText;
	if (written) {
		if (options.within === undefined) {
			await fs.mkdir(path.dirname(tagsFile), { recursive: true });
		}
		await writeFileAtomic(tagsFile, content, { within: options.within });
	}
	return { written, full, labelled, dropped, images: labels.length };
}
