/** @file The worker's auto-tagging of one folder: its classes file, the model, the tags file (core/labels/autoTag.ts). */
import { promises as fs } from 'node:fs';
import { ClipError, describeError } from '../../core/common/errors';
import { sameModel, stampOf } from '../../core/index/indexSession';
import type { IndexStore } from '../../core/index/indexStore';
import { updateTagsFile } from '../../core/labels/autoTag';
import { readClassesFile } from '../../core/labels/classesFile';
import { describeWarning, Labeler } from '../../core/labels/labeler';
import type { ModelSpec } from '../../core/model/layouts/modelSpec';
import type { ClipEncoder } from '../../core/model/runtime/encoder';
import type { AutoTagOutcome, AutoTagRef } from './protocol';

export interface AutoTagDeps {
	/** The worker's model, never downloading it (ModelNotFound then). */
	model(allowDownload: false): Promise<{ spec: ModelSpec; encoder: ClipEncoder }>;
	log(message: string): void;
}

/** Auto-tags a folder after an index run or a change of its classes file; never throws (a bad classes file is reported). */
export async function autoTagStore(store: IndexStore, ref: AutoTagRef, changed: string[], deps: AutoTagDeps): Promise<AutoTagOutcome> {
	const { model, log } = deps;
	try {
		if (!(await fs.access(ref.classesFile).then(() => true, () => false))) {
			return { kind: 'noClasses' };
		}
		const classes = await readClassesFile(ref.classesFile, { within: store.root });
		const ready = await model(false).catch((err: unknown) => {
			if (ClipError.is(err, 'ModelNotFound')) {
				return undefined; // tagged once the model is there (the next index run)
			}
			throw err;
		});
		if (!ready) {
			return { kind: 'noModel' };
		}
		const { encoder: enc, spec } = ready;
		if (!sameModel(store.model, stampOf(spec))) {
			return { kind: 'failed', error: `The index of ${store.root} was made with another model: the tags are updated once it is indexed again.` };
		}
		const labeler = await Labeler.create(enc, classes, { store });
		log(`auto-tag ${store.root}: ${labeler.describeChoice()}`);
		const update = await updateTagsFile(ref.tagsFile, store, labeler, { changed, threshold: ref.threshold, classesFile: ref.classesFile, within: store.root });
		if (update.written) {
			log(`auto-tag ${store.root}: ${update.full ? 'all images' : `${update.labelled} new or changed image(s)`} labelled, ${update.dropped} dropped, ${update.images} tagged → ${ref.tagsFile}`);
		}
		return { kind: 'updated', update, warnings: labeler.warnings.map(w => describeWarning(w, ref.classesFile)) };
	} catch (err) {
		return { kind: 'failed', error: describeError(err), file: ClipError.is(err) ? err.file : undefined };
	}
}
