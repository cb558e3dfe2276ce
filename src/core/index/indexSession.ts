/**
 * @file Opening an index together with the model its vectors came from: for writing (create,
 * or reset when the model changed) and for reading (the model is the one the catalog names).
 */
import * as path from 'node:path';
import { ClipError } from '../common/errors';
import { IndexStore, type ModelStamp } from './indexStore';
import { resolveModel, type ResolveOptions } from '../model/modelResolver';
import { modelKey, type ModelSpec, type ModelVariant } from '../model/modelSpec';

export function stampOf(spec: ModelSpec): ModelStamp {
	return { key: modelKey(spec), id: spec.id, revision: spec.revision, variant: spec.variant, dim: spec.dim };
}

/**
 * The index of `root` in `dir`, ready to be updated with vectors of `spec`. An index made with
 * another model is replaced by an empty one (its vectors cannot be mixed with the new model's);
 * `log` says so.
 */
export async function openIndexForWriting(
	dir: string,
	root: string,
	spec: ModelSpec,
	log: (m: string) => void = () => undefined,
	options: { fresh?: boolean } = {},
): Promise<IndexStore> {
	const stamp = stampOf(spec);
	const committed = (await IndexStore.generationOnDisk(dir)) ?? 0;
	if (options.fresh || !(await IndexStore.exists(dir))) {
		return IndexStore.create(dir, root, stamp, committed);
	}
	let store: IndexStore;
	try {
		store = await IndexStore.load(dir);
	} catch (err) {
		if (ClipError.is(err, 'IndexCorrupt')) {
			log(`${err.message} Starting a new index.`);
			return IndexStore.create(dir, root, stamp, committed);
		}
		throw err;
	}
	if (path.resolve(store.root) !== path.resolve(root)) {
		throw new ClipError(
			'InvalidArgument',
			`The index in ${dir} belongs to ${store.root}, not ${path.resolve(root)}. Use another --index folder (or none, for the default one).`,
		);
	}
	if (store.model.key !== stamp.key) {
		log(`The model changed (${store.model.key} → ${stamp.key}): every image will be embedded again with the new model.`);
		return IndexStore.create(dir, root, stamp, committed);
	}
	return store;
}

/** Loads an index and resolves the model that made it (downloading it only if allowed). */
export async function openIndexForReading(dir: string, options: ResolveOptions = {}): Promise<{ store: IndexStore; spec: ModelSpec }> {
	const store = await IndexStore.load(dir);
	const spec = await resolveModel(store.model.id, { ...options, variant: store.model.variant as ModelVariant });
	if (modelKey(spec) !== store.model.key) {
		throw new ClipError(
			'ModelMismatch',
			`The index in ${dir} was made with ${store.model.key}, but that model now resolves to ${modelKey(spec)}. Index the folder again to use the new model.`,
		);
	}
	return { store, spec };
}
