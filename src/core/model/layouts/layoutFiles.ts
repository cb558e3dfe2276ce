/**
 * @file What the layouts other than transformers.js share: checking a folder's files, and the
 * image input of a folder loaded without its vision part.
 *
 * [Note: where the product differs on purpose] Both runtimes drop alpha (the colour under
 * transparent pixels shows) and ignore EXIF orientation when they read an original file; the
 * product composites transparency on white and applies the orientation, for every layout, so a
 * rotated photo is embedded as it is seen. (Immich itself sends its service an oriented preview
 * without alpha, so the product's vectors are what Immich stores for such files.) Neither layout
 * carries a trained logit scale or bias: labels use CLIP's scale 100 with a softmax, and SigLIP's
 * probabilities are relative (the registry pins the values where they are published).
 */
import { promises as fs } from 'node:fs';
import { ClipError } from '../../common/errors';
import type { ModelParts, PreprocessSpec } from './modelSpec';

export async function isFile(p: string): Promise<boolean> {
	return fs.stat(p).then(
		s => s.isFile(),
		() => false,
	);
}

/** The files of a layout that the part asked for needs (the text part: no visual/ file; the tokenizer: no graph). */
export function need(files: string[], parts: ModelParts): string[] {
	return parts === 'all' ? files : parts === 'text' ? files.filter(f => !/visual/.test(f)) : files.filter(f => !/\.onnx$/.test(f) && !/visual/.test(f));
}

export async function requireFiles(files: string[]): Promise<void> {
	for (const file of files) {
		const st = await fs.stat(file).catch(() => undefined);
		if (!st) {
			throw new ClipError('ModelNotFound', `Model file missing: ${file}. Re-download the model or complete the folder.`, { file });
		}
		if (!st.isFile()) {
			// [Note: every read is bounded] in common/confine.ts: said as such, not as missing.
			throw new ClipError('ModelInvalid', `Model file ${file} is not a regular file (${st.isDirectory() ? 'a folder' : 'a device, a pipe or a socket'}). Re-download the model or complete the folder.`, { file });
		}
	}
}

/** The image input when a folder was loaded without its vision part: never used to decode. */
export const NO_PREPROCESS_LAYOUT: PreprocessSpec = { resize: undefined, crop: undefined, cropRounding: 'floor', kernel: 'cubic', rescaleFactor: undefined, mean: undefined, std: undefined, height: 0, width: 0 };

export const OPENAI_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
