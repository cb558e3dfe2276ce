/**
 * @file Opening an index together with the model its vectors came from: for writing (create,
 * or reset when the model changed) and for reading (the model is the one the catalog names).
 */
import * as path from 'node:path';
import { ClipError } from '../common/errors';
import { IndexStore, type ModelStamp } from './indexStore';
import { resolveModel, type ResolveOptions } from '../model/hub/modelResolver';
import { modelKey, type ModelSpec, type ModelVariant } from '../model/layouts/modelSpec';

export function stampOf(spec: ModelSpec): ModelStamp {
	return { key: modelKey(spec), id: spec.id, revision: spec.revision, variant: spec.variant, dim: spec.dim };
}

const isLocal = (id: string): boolean => path.isAbsolute(id) || /^[a-zA-Z]:[\\/]/.test(id);

/**
 * [Note: a model folder that moved] A local model folder is known by the fingerprint of its files
 * (its revision), not by where it lies: after `mv models/clip models/clip-v1` the index's vectors are
 * still that model's. Two stamps are the same model when their keys agree, or when both are local
 * folders with the same fingerprint, variant and dimension; the index then takes the new place
 * without embedding anything again.
 */
export function sameModel(a: Pick<ModelStamp, 'key' | 'id' | 'revision' | 'variant' | 'dim'>, b: Pick<ModelStamp, 'key' | 'id' | 'revision' | 'variant' | 'dim'>): boolean {
	return a.key === b.key || (isLocal(a.id) && isLocal(b.id) && a.revision === b.revision && a.variant === b.variant && a.dim === b.dim);
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
	if (!sameModel(store.model, stamp)) {
		log(`The model changed (${store.model.key} → ${stamp.key}): every image will be embedded again with the new model.`);
		return IndexStore.create(dir, root, stamp, committed);
	}
	if (store.model.key !== stamp.key) {
		log(`The model folder moved (${store.model.id} → ${stamp.id}, the same files): nothing is embedded again.`);
		store.restamp(stamp);
	}
	return store;
}

/**
 * Loads an index and resolves the model that made it (downloading it only if allowed), or `model`
 * when given (a folder the index's model folder moved to: [Note: a model folder that moved]).
 */
export async function openIndexForReading(dir: string, options: ResolveOptions & { model?: string } = {}): Promise<{ store: IndexStore; spec: ModelSpec }> {
	const store = await IndexStore.load(dir);
	const spec = await resolveModel(options.model ?? store.model.id, { ...options, variant: store.model.variant as ModelVariant }).catch((err: unknown) => {
		if (ClipError.is(err, 'ModelNotFound') && isLocal(store.model.id) && !options.model) {
			throw new ClipError(
				'ModelNotFound',
				`The model folder this index was made with is gone (${store.model.id}). If it moved, give its new place with --model <folder> (the same files are the same model); else index again with another model.`,
				{ file: store.model.id, cause: err },
			);
		}
		throw err;
	});
	if (options.model && !sameModel(stampOf(spec), store.model)) {
		throw new ClipError('ModelMismatch', `The index in ${dir} was made with ${store.model.key}; --model ${options.model} is ${modelKey(spec)}, another model. Give the model the index was made with, or index again with this one.`);
	}
	if (!options.model && modelKey(spec) !== store.model.key) {
		throw new ClipError(
			'ModelMismatch',
			`The index in ${dir} was made with ${store.model.key}, but that model now resolves to ${modelKey(spec)}. Index the folder again to use the new model.`,
		);
	}
	return { store, spec };
}
