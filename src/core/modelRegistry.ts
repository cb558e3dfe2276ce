/**
 * @file The models the product knows by id, each pinned to a revision of its Hugging Face
 * repository, with the files each variant needs.
 *
 * [Note: what is verified] For the large files (the ONNX graphs and tokenizer.json) the SHA-256
 * below is pinned: it was taken from the repository's Git LFS pointers at this revision (the
 * same values are recorded independently by several public projects that pin this revision).
 * The small JSON files are plain Git files whose hashes could not be established here; for
 * them the downloader checks the hash the server states: Hugging Face sends a Git blob SHA-1
 * as the ETag of a plain file (and the content SHA-256 as X-Linked-Etag of an LFS file).
 */
import type { ModelVariant } from './modelSpec';

export interface ModelFile {
	/** Path inside the repository (and inside the local model folder). */
	path: string;
	/** Content SHA-256 when pinned. */
	sha256?: string;
	/** Size in bytes, when known (progress and the size shown before a download). */
	size?: number;
	/** Which variants need the file; all when absent. */
	variants?: ModelVariant[];
}

export interface KnownModel {
	id: string;
	revision: string;
	description: string;
	files: ModelFile[];
}

export const DEFAULT_MODEL_ID = 'Xenova/clip-vit-base-patch32';

export const KNOWN_MODELS: readonly KnownModel[] = [
	{
		id: 'Xenova/clip-vit-base-patch32',
		revision: 'd15189d7028b43f1d3e65039190477f6af591c2a',
		description: "OpenAI's CLIP ViT-B/32 (224 px, 512-d), ONNX export for transformers.js",
		files: [
			{ path: 'config.json' },
			{ path: 'preprocessor_config.json' },
			{ path: 'tokenizer_config.json' },
			{ path: 'tokenizer.json', sha256: 'f7f3b7af117d467b58374797691a6438d3e6b9e9cef800dfd5dced7f697a90cd', size: 2_224_119 },
			{
				path: 'onnx/text_model.onnx',
				sha256: '3f6571f5bad13a97c469c1622e1cfc4d9aef78b79fdbfcff804ca357bfada8cc',
				size: 254_058_553,
				variants: ['fp32'],
			},
			{
				path: 'onnx/vision_model.onnx',
				sha256: 'fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40',
				size: 351_685_709,
				variants: ['fp32'],
			},
			{
				path: 'onnx/text_model_quantized.onnx',
				sha256: '73baab855d406190da9faa498cfedf65f15cf309f4cc7385b7b032e6d08e5c3a',
				size: 64_504_507,
				variants: ['quantized'],
			},
			{
				path: 'onnx/vision_model_quantized.onnx',
				sha256: '583fd1110a514667812fee7d684952aaf82a99b959760c8d7dca7e0ab9839299',
				size: 89_117_001,
				variants: ['quantized'],
			},
		],
	},
];

export function findKnownModel(id: string): KnownModel | undefined {
	return KNOWN_MODELS.find(m => m.id.toLowerCase() === id.toLowerCase());
}

export function filesForVariant(model: KnownModel, variant: ModelVariant): ModelFile[] {
	return model.files.filter(f => !f.variants || f.variants.includes(variant));
}

/** Bytes to download for a variant (known sizes only). */
export function downloadSize(model: KnownModel, variant: ModelVariant): number {
	return filesForVariant(model, variant).reduce((sum, f) => sum + (f.size ?? 0), 0);
}
