/**
 * @file Turns what the user names as a model (a folder path or a known id) into a ModelSpec,
 * downloading a known model on first use when that is allowed.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DownloadOptions, downloadModel, missingFiles, modelCacheDir } from './download';
import { ClipError } from '../../common/errors';
import { DEFAULT_MODEL_ID, findKnownModel, type KnownModel, KNOWN_MODELS, offeredVariant } from './modelRegistry';
import { type ModelParts, type ModelSpec, type ModelVariant } from '../layouts/modelSpec';
import { loadModelSpec } from '../layouts/loadModelSpec';
import { defaultModelCache } from '../../common/paths';

export interface ResolveOptions extends DownloadOptions {
	variant?: ModelVariant;
	cacheDir?: string;
	/** What is needed of the folder (default: all of it). */
	parts?: ModelParts;
	/** Cache folders an older version downloaded into: a complete model there is moved, not downloaded again. */
	legacyCacheDirs?: string[];
	/** When false, a known model that is not in the cache is an error instead of a download. */
	allowDownload?: boolean;
}

async function isDirectory(p: string): Promise<boolean> {
	return (await fs.stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * [Note: shared model cache] The extension and the CLI download known models into one per-user
 * cache (paths.ts). Versions before 0.2 of the extension downloaded into VS Code's global storage:
 * a model complete there is moved into the shared cache instead of being downloaded again.
 */
async function adoptLegacyModel(known: KnownModel, variant: ModelVariant, dir: string, legacyCacheDirs: string[] = []): Promise<void> {
	if ((await missingFiles(dir, known, variant)).length === 0) {
		return;
	}
	for (const legacy of legacyCacheDirs) {
		const old = modelCacheDir(legacy, known);
		if (path.resolve(old) !== path.resolve(dir) && (await isDirectory(old)) && (await missingFiles(old, known, variant)).length === 0) {
			await fs.mkdir(path.dirname(dir), { recursive: true });
			await fs.rm(dir, { recursive: true, force: true });
			await fs.rename(old, dir).catch(async () => {
				await fs.cp(old, dir, { recursive: true });
				await fs.rm(old, { recursive: true, force: true });
			});
			return;
		}
	}
}

/**
 * [Note: ids are not paths] A model is named by a known id ("Xenova/clip-vit-base-patch32") or by a
 * path: absolute, or starting with ./, ../ or ~/. A bare name is never looked up as a folder, so a
 * cloned repository that holds a folder named like a known id cannot stand in for the pinned
 * download (a plain `clip-search index .` inside it resolves the id to the cache).
 */
export function isModelPath(ref: string): boolean {
	return path.isAbsolute(ref) || /^(\.{1,2}|~)([\\/]|$)/.test(ref);
}

/** The variant of a known model when none is asked for: its int8 weights (offeredVariant falls back where it has none). */
export const DEFAULT_KNOWN_VARIANT: ModelVariant = 'quantized';

/** A model path with ~ expanded, made absolute. */
function modelPath(ref: string): string {
	return path.resolve(/^~([\\/]|$)/.test(ref) ? path.join(os.homedir(), ref.slice(1)) : ref);
}

/** True when `ref` names a known model whose files are not all in the cache yet. */
export async function needsDownload(ref: string, options: Pick<ResolveOptions, 'variant' | 'cacheDir' | 'legacyCacheDirs'> = {}): Promise<boolean> {
	const known = isModelPath(ref) ? undefined : findKnownModel(ref);
	if (!known) {
		return false;
	}
	const variant = offeredVariant(known, options.variant ?? DEFAULT_KNOWN_VARIANT);
	const dir = modelCacheDir(options.cacheDir ?? defaultModelCache(), known);
	await adoptLegacyModel(known, variant, dir, options.legacyCacheDirs);
	return (await missingFiles(dir, known, variant)).length > 0;
}

export async function resolveModel(ref: string | undefined, options: ResolveOptions = {}): Promise<ModelSpec> {
	const name = ref ?? DEFAULT_MODEL_ID;
	// [Note: one default model] A known model's int8 weights unless asked otherwise (the extension's
	// default too: 4× smaller to download, and as fast or faster on every CPU measured); a folder's fp32
	// graphs, which every layout has.
	const variant = options.variant ?? (isModelPath(name) ? 'fp32' : DEFAULT_KNOWN_VARIANT);
	if (isModelPath(name)) {
		const dir = modelPath(name);
		if (!(await isDirectory(dir))) {
			throw new ClipError('ModelNotFound', `Model folder not found: ${dir}.`, { file: dir });
		}
		return loadModelSpec(dir, { variant, parts: options.parts });
	}
	const known = findKnownModel(name);
	if (!known) {
		const folder = (await isDirectory(path.resolve(name))) ? ` There is a folder of that name here: give it as ./${name}.` : '';
		throw new ClipError(
			'ModelNotFound',
			`Unknown model "${name}": not one of the known ids (${KNOWN_MODELS.map(m => m.id).join(', ')}). A model folder on this machine is given as a path: absolute, or starting with ./, ../ or ~/ (e.g. ./${name}).${folder}`,
			{ file: name },
		);
	}
	// A variant the model does not offer (MobileCLIP has no int8) falls back to the one it does.
	const offered = offeredVariant(known, variant);
	const dir = modelCacheDir(options.cacheDir ?? defaultModelCache(), known);
	await adoptLegacyModel(known, offered, dir, options.legacyCacheDirs);
	const missing = await missingFiles(dir, known, offered);
	if (missing.length) {
		if (options.allowDownload === false) {
			throw new ClipError(
				'ModelNotFound',
				`${known.id} (${offered}) is not downloaded yet (missing ${missing.map(f => f.path).join(', ')} in ${dir}). Download it first, or pass a local model folder.`,
				{ file: dir },
			);
		}
		await downloadModel(known, offered, dir, options);
	}
	// An unpinned model's key is its files' fingerprint ([Note: local fingerprint]): 'main' could be other weights tomorrow.
	return loadModelSpec(dir, { variant: offered, id: known.id, revision: known.unpinned ? undefined : known.revision, parts: options.parts, logitParams: known.logitParams });
}
