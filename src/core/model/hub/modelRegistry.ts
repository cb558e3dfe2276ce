/**
 * @file The models the product knows by id, each pinned to a revision of its Hugging Face
 * repository, with the files each variant needs, what each costs and what it is for.
 *
 * [Note: what is verified] For the large files (the ONNX graphs and tokenizer.json) the SHA-256
 * below is pinned: it was taken from the repository's Git LFS pointers at this revision (the
 * same values are recorded independently by several public projects that pin this revision).
 * The small JSON files are plain Git files whose hashes could not be established here; for
 * them the downloader checks the hash the server states: Hugging Face sends a Git blob SHA-1
 * as the ETag of a plain file (and the content SHA-256 as X-Linked-Etag of an LFS file).
 *
 * [Note: what could not be verified here] This workplace has no access to Hugging Face. The
 * revisions, file lists, sizes and hashes below were taken from public pages that quote them
 * (commit pages with LFS pointers, tree listings, a mirror that pins onnx-community's SigLIP 2
 * commit). Where only a rounded size is public it is kept as `approxSize` (shown, never checked),
 * and the hash the server states is checked instead. MobileCLIP-S2 is pinned to the commit that
 * added its quantized files (PR #1's head; the merge commit on main has the same files).
 */
import { formatBytes } from '../../common/sizes';
import type { ModelVariant } from '../layouts/modelSpec';

export interface ModelFile {
	/** Path inside the repository (and inside the local model folder). */
	path: string;
	/** Content SHA-256 when pinned. */
	sha256?: string;
	/** Size in bytes, when known exactly (checked after the download, and shown before it). */
	size?: number;
	/** A rounded size from a public listing: shown before the download, never checked. */
	approxSize?: number;
	/** Which variants need the file; all when absent. */
	variants?: ModelVariant[];
}

/**
 * [Note: model licences] The weights' licence, shown before any download (`clip-search models`,
 * Select Model, the README). A model whose licence forbids commercial use is flagged wherever it is
 * offered and is never a default. MobileCLIP's weights moved from a permissive licence (July 2024,
 * LICENSE_weights_data) to Apple's research-only model licence on 2025-08-28 (apple/ml-mobileclip
 * LICENSE_MODELS): a person who downloads them now gets them under the latter.
 */
export interface ModelLicence {
	/** An SPDX id where there is one. */
	id: string;
	/** A short name for tables. */
	name: string;
	/** False when the weights may not be used commercially (research only, non-commercial). */
	commercial: boolean;
	/** Where the licence is stated. */
	source: string;
}

/**
 * [Note: quality figures] Public figures, each with its source, never measured here (no trained
 * weights can be downloaded to this workplace): ImageNet-1k zero-shot top-1 and COCO text→image
 * recall@1 (mlfoundations/open_clip docs/openclip_results.csv and openclip_retrieval_results.csv;
 * big_vision README_siglip2.md for SigLIP 2; apple/ml-mobileclip README for MobileCLIP), and
 * Crossmodal-3600 English recall (the mean of R@1, R@5, R@10; Immich's docs/features/searching.md).
 */
export interface ModelQuality {
	imagenet?: number;
	cocoTextToImage?: number;
	crossmodal3600?: number;
	source: string;
}

export interface KnownModel {
	id: string;
	/** The Hugging Face repository, when it is not the id (one model of a repository holding several). */
	repo?: string;
	/**
	 * Why no commit is pinned (rclip squashes its repository's history on every upload, so no commit
	 * id lasts): the files come from `main`, are checked against the hashes the hub states, and the
	 * model's key in an index is the downloaded files' fingerprint (a new upload is a new model).
	 */
	unpinned?: string;
	/** A short name for pickers and tables. */
	label: string;
	revision: string;
	description: string;
	/** What it is good for, in a sentence (Select Model, README). */
	goodFor: string;
	/** The variants offered (fp32: full precision; quantized: int8 weights). */
	variants: ModelVariant[];
	files: ModelFile[];
	licence: ModelLicence;
	quality: ModelQuality;
	/**
	 * The trained logit scale (its log) and bias, for models whose split files do not carry them
	 * (logitParams.ts: what the folder says first, these last).
	 */
	logitParams?: { logScale: number; bias: number; source: string };
	/**
	 * Images per second and ms per text query measured by `npm run bench -- --only families` (random
	 * weights, the same architecture and graph layout; the median of three runs) on a 2-core AMD EPYC
	 * (AVX2, no VNNI): the time estimate shown before switching.
	 */
	speed?: Partial<Record<ModelVariant, { imagesPerSecond: number; textQueryMs: number }>>;
}

/**
 * The files of Immich's ViT-B/32 exports (OpenCLIP's ViT-B-32 config is 196 bytes, its preprocess_cfg
 * 197; the rest rounded on the tree pages): what its runtime reads, not the Arm NN / RKNN builds.
 */
const IMMICH_VIT_B32_FILES: ModelFile[] = [
	{ path: 'config.json', size: 196 },
	{ path: 'visual/preprocess_cfg.json', size: 197 },
	{ path: 'textual/tokenizer_config.json', approxSize: 704 },
	{ path: 'textual/special_tokens_map.json', approxSize: 472 },
	{ path: 'textual/tokenizer.json', approxSize: 2_220_000 },
	{ path: 'textual/model.onnx', approxSize: 254_000_000 },
	{ path: 'visual/model.onnx', approxSize: 351_000_000 },
];

export const DEFAULT_MODEL_ID = 'Xenova/clip-vit-base-patch32';

export const KNOWN_MODELS: readonly KnownModel[] = [
	{
		id: 'Xenova/clip-vit-base-patch32',
		label: 'CLIP ViT-B/32',
		revision: 'd15189d7028b43f1d3e65039190477f6af591c2a',
		description: "OpenAI's CLIP ViT-B/32 (224 px, 512-d), ONNX export for transformers.js",
		goodFor: 'The default: quick to download and to index, English queries. The weakest at retrieval (Crossmodal-3600 English 59.4 on Immich’s table).',
		variants: ['quantized', 'fp32'],
		licence: { id: 'MIT', name: 'MIT', commercial: true, source: 'openai/CLIP LICENSE' },
		quality: { imagenet: 63.32, cocoTextToImage: 30.44, crossmodal3600: 59.37, source: 'open_clip results CSVs (ViT-B-32 openai); Immich docs (XM3600)' },
		speed: { fp32: { imagesPerSecond: 18.5, textQueryMs: 15 }, quantized: { imagesPerSecond: 19.6, textQueryMs: 9 } },
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
	{
		id: 'Xenova/mobileclip_s2',
		label: 'MobileCLIP-S2',
		revision: '0eea44b862f8fec754b64e92b2af112ad7617c8c',
		description: "Apple's MobileCLIP-S2 (256 px, 512-d; FastViT-MCi2 image tower), ONNX export for transformers.js",
		goodFor: 'Better than ViT-B/32 at recognising things (ImageNet zero-shot 74.4 vs ~63; Apple’s figures) with a smaller image tower, though about half its speed on this CPU. English. Offered in full precision only: its int8 image file is reported numerically broken.',
		variants: ['fp32'],
		licence: { id: 'LicenseRef-Apple-AMLR', name: 'Apple ML Research Model licence: research only', commercial: false, source: 'apple/ml-mobileclip LICENSE_MODELS (since 2025-08-28)' },
		quality: { imagenet: 74.4, cocoTextToImage: 45.4, source: 'apple/ml-mobileclip README (MobileCLIP-S2)' },
		// int8 measured 3.4 img/s against 8.0 fp32 (its convolutions run on slow ConvInteger kernels): one more reason not to offer it.
		speed: { fp32: { imagesPerSecond: 8.0, textQueryMs: 45 } },
		files: [
			{ path: 'config.json' },
			{ path: 'preprocessor_config.json' },
			{ path: 'tokenizer_config.json' },
			{ path: 'special_tokens_map.json' },
			{ path: 'tokenizer.json', approxSize: 2_220_000 },
			{ path: 'onnx/text_model.onnx', approxSize: 254_000_000, variants: ['fp32'] },
			{ path: 'onnx/vision_model.onnx', approxSize: 143_000_000, variants: ['fp32'] },
		],
	},
	{
		id: 'onnx-community/siglip2-base-patch16-224-ONNX',
		label: 'SigLIP 2 base/16',
		revision: 'ba1f3b0843f24bc5417d38e19c37b287d719b2f4',
		description: "Google's SigLIP 2 base, patch 16, 224 px (768-d), ONNX export for transformers.js",
		goodFor: 'The best retrieval of these (Crossmodal-3600 English 75.2 on Immich’s table), and queries in many languages (Gemma tokenizer, multilingual training). About a quarter of ViT-B/32’s speed here, and a larger download.',
		variants: ['quantized', 'fp32'],
		logitParams: { logScale: 4.724453449249268, bias: -16.771724700927734, source: 'onnx-community/siglip2-base-patch16-224-ONNX@ba1f3b0 (pinned)' },
		licence: { id: 'Apache-2.0', name: 'Apache-2.0', commercial: true, source: 'google-research/big_vision (SigLIP 2), the model card' },
		quality: { imagenet: 78.2, cocoTextToImage: 52.1, crossmodal3600: 75.19, source: 'big_vision README_siglip2.md (B/16 224); Immich docs (XM3600, ViT-B-16-SigLIP2__webli)' },
		speed: { fp32: { imagesPerSecond: 4.0, textQueryMs: 83 }, quantized: { imagesPerSecond: 4.3, textQueryMs: 71 } },
		files: [
			{ path: 'config.json' },
			{ path: 'preprocessor_config.json' },
			{ path: 'tokenizer_config.json' },
			{ path: 'special_tokens_map.json' },
			{ path: 'tokenizer.json', sha256: 'cb9140fae3ac5122c972d37adf83e1248471a38147ad76f8215c8872c6fd8322', size: 34_363_039 },
			{ path: 'onnx/text_model.onnx', approxSize: 1_130_000_000, variants: ['fp32'] },
			{ path: 'onnx/vision_model.onnx', approxSize: 372_000_000, variants: ['fp32'] },
			{ path: 'onnx/text_model_quantized.onnx', approxSize: 283_000_000, variants: ['quantized'] },
			{ path: 'onnx/vision_model_quantized.onnx', approxSize: 95_000_000, variants: ['quantized'] },
		],
	},
	{
		id: 'pulsejet/siglip-base-patch16-256-multilingual-onnx',
		label: 'SigLIP base/16 multilingual',
		revision: '443f7a60fb4cd33e220fcf9e6a9a1fdc948e8d82',
		description: "Google's SigLIP base, patch 16, 256 px, multilingual (768-d), ONNX for transformers.js (a community export)",
		goodFor: 'Queries in other languages (trained on WebLI without a language filter; SentencePiece tokenizer). Zero-shot probabilities are relative only: its trained bias is not published with the split files.',
		variants: ['quantized', 'fp32'],
		licence: { id: 'Apache-2.0', name: 'Apache-2.0', commercial: true, source: 'google/siglip-base-patch16-256-multilingual model card' },
		quality: { source: 'no public ImageNet, COCO or Crossmodal-3600 figure for this checkpoint was found' },
		speed: { fp32: { imagesPerSecond: 2.8, textQueryMs: 85 }, quantized: { imagesPerSecond: 3.2, textQueryMs: 68 } },
		files: [
			{ path: 'config.json' },
			{ path: 'preprocessor_config.json' },
			{ path: 'tokenizer_config.json' },
			{ path: 'special_tokens_map.json' },
			{ path: 'tokenizer.json', approxSize: 16_400_000 },
			{ path: 'onnx/text_model.onnx', approxSize: 1_110_000_000, variants: ['fp32'] },
			{ path: 'onnx/vision_model.onnx', approxSize: 372_000_000, variants: ['fp32'] },
			{ path: 'onnx/text_model_quantized.onnx', approxSize: 280_000_000, variants: ['quantized'] },
			{ path: 'onnx/vision_model_quantized.onnx', approxSize: 95_000_000, variants: ['quantized'] },
		],
	},
	{
		id: 'immich-app/ViT-B-32__openai',
		label: 'CLIP ViT-B/32 (Immich)',
		revision: '4d90bf223889957cff8f6a9933e355ecaaffd7e9',
		description: "OpenAI's CLIP ViT-B/32 (224 px, 512-d) as Immich exports it (OpenCLIP, batch-1 graphs)",
		goodFor: 'The model Immich installs by default, in its own layout: the same weights as CLIP ViT-B/32, so an Immich user gets the vectors Immich stores. Full precision only.',
		variants: ['fp32'],
		licence: { id: 'MIT', name: 'MIT', commercial: true, source: 'openai/CLIP LICENSE' },
		quality: { imagenet: 63.32, cocoTextToImage: 30.44, crossmodal3600: 59.37, source: 'open_clip results CSVs (ViT-B-32 openai); Immich docs (XM3600)' },
		speed: { fp32: { imagesPerSecond: 13.0, textQueryMs: 48 } },
		files: IMMICH_VIT_B32_FILES,
	},
	{
		id: 'immich-app/ViT-B-32__laion2b-s34b-b79k',
		label: 'OpenCLIP ViT-B/32 LAION-2B (Immich)',
		revision: '927497311ca58ec911247a796e4ac5bb49efe4f0',
		description: 'OpenCLIP ViT-B/32 trained on LAION-2B (224 px, 512-d) as Immich exports it (batch-1 graphs)',
		goodFor: 'ViT-B/32’s speed with clearly better retrieval (COCO text→image R@1 39.3 vs 30.4; Crossmodal-3600 68.8 vs 59.4) and some French and German. Full precision only.',
		variants: ['fp32'],
		licence: { id: 'MIT', name: 'MIT', commercial: true, source: 'OpenCLIP (mlfoundations/open_clip LICENSE); LAION model cards' },
		quality: { imagenet: 66.56, cocoTextToImage: 39.34, crossmodal3600: 68.78, source: 'open_clip results CSVs (ViT-B-32 laion2b_s34b_b79k); Immich docs (XM3600)' },
		speed: { fp32: { imagesPerSecond: 13.0, textQueryMs: 48 } },
		files: IMMICH_VIT_B32_FILES,
	},
	{
		id: 'immich-app/ViT-B-32-SigLIP2-256__webli',
		label: 'SigLIP 2 base/32 256 (Immich)',
		revision: 'main',
		unpinned: 'no page of this repository could be read from this workplace, so no commit is pinned yet',
		description: "Google's SigLIP 2 base, patch 32, 256 px (768-d) as Immich exports it (OpenCLIP, batch-1 graphs)",
		goodFor: 'The fastest SigLIP 2: near base/16’s retrieval (Crossmodal-3600 73.2 vs 75.2) at about half its image cost, and queries in many languages (German 84.4, French 82.3 on Immich’s table). A large text model (Gemma’s 256k vocabulary). Full precision only.',
		variants: ['fp32'],
		licence: { id: 'Apache-2.0', name: 'Apache-2.0', commercial: true, source: 'google-research/big_vision (SigLIP 2); timm model cards' },
		quality: { imagenet: 74.0, cocoTextToImage: 47.2, crossmodal3600: 73.15, source: 'big_vision README_siglip2.md (B/32 256); Immich docs (XM3600)' },
		// Sizes estimated from the architecture (parameters × 4 bytes) and timm's tokenizer files: no listing could be read.
		speed: { fp32: { imagesPerSecond: 10.7, textQueryMs: 88 } },
		files: [
			{ path: 'config.json' },
			{ path: 'visual/preprocess_cfg.json' },
			{ path: 'textual/tokenizer_config.json', approxSize: 46_400 },
			{ path: 'textual/special_tokens_map.json', approxSize: 327 },
			{ path: 'textual/tokenizer.json', approxSize: 34_400_000 },
			{ path: 'textual/model.onnx', approxSize: 1_130_000_000 },
			{ path: 'visual/model.onnx', approxSize: 380_000_000 },
		],
	},
	{
		id: 'rclip/ViT-B-32-256-datacomp_s34b_b86k',
		repo: 'yurijmikhalevich/rclip-models',
		label: 'OpenCLIP ViT-B/32 256 DataComp (rclip)',
		revision: 'main',
		unpinned: "rclip's converter squashes the repository's history on every upload (scripts/convert_model.py), so no commit id lasts",
		description: 'OpenCLIP ViT-B/32 at 256 px trained on DataComp-1B (512-d), as rclip exports it (rclip’s default since v3)',
		goodFor: 'The best ViT-B/32 there is (ImageNet 72.8, COCO text→image R@1 39.9) at about 1.3× ViT-B/32’s image cost. English. Full precision only.',
		variants: ['fp32'],
		licence: { id: 'MIT', name: 'MIT', commercial: true, source: "yurijmikhalevich/rclip-models card and THIRD_PARTY_NOTICES (OpenCLIP's and OpenAI CLIP's MIT)" },
		quality: { imagenet: 72.81, cocoTextToImage: 39.93, source: 'open_clip results CSVs (ViT-B-32-256 datacomp_s34b_b86k)' },
		speed: { fp32: { imagesPerSecond: 12.2, textQueryMs: 47 } },
		files: [
			// OpenAI's merge file, as open_clip ships it (and rclip copies it unchanged).
			{ path: 'tokenizer/bpe_simple_vocab_16e6.txt.gz', sha256: '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a', size: 1_356_917 },
			{ path: 'ViT-B-32-256-datacomp_s34b_b86k/textual.onnx', approxSize: 254_000_000 },
			{ path: 'ViT-B-32-256-datacomp_s34b_b86k/visual.onnx', approxSize: 351_000_000 },
		],
	},
];

export function findKnownModel(id: string): KnownModel | undefined {
	return KNOWN_MODELS.find(m => m.id.toLowerCase() === id.toLowerCase());
}

export function filesForVariant(model: KnownModel, variant: ModelVariant): ModelFile[] {
	return model.files.filter(f => !f.variants || f.variants.includes(variant));
}

/** Bytes to download for a variant (exact sizes, else the public rounded ones). */
export function downloadSize(model: KnownModel, variant: ModelVariant): number {
	return filesForVariant(model, variant).reduce((sum, f) => sum + (f.size ?? f.approxSize ?? 0), 0);
}

/**
 * The download size for people: "≈ 605 MB" when a file's size is only a public rounded one or an
 * estimate (small config files without a size count as nothing).
 */
export function downloadSizeText(model: KnownModel, variant: ModelVariant): string {
	const exact = filesForVariant(model, variant).every(f => f.approxSize === undefined);
	return `${exact ? '' : '≈ '}${formatBytes(downloadSize(model, variant))}`;
}

/** The variant to use: the one asked for when the model offers it, else its first. */
export function offeredVariant(model: KnownModel, variant: ModelVariant): ModelVariant {
	return model.variants.includes(variant) ? variant : model.variants[0];
}

/**
 * The new model's images per second on this machine: its bench speed, scaled by how this machine
 * did against the bench with the current model (a run of this window that embedded enough images to
 * time); the bench speed alone when there is no such run or the current model has no bench figure.
 */
export function estimatedRate(
	benchRate: number,
	currentModel: string,
	currentVariant: ModelVariant,
	folders: readonly { lastResult?: { embedded: number; seconds: number } }[],
): { imagesPerSecond: number; calibrated: boolean } {
	const current = findKnownModel(currentModel);
	const currentBench = current?.speed?.[offeredVariant(current, currentVariant)]?.imagesPerSecond;
	const run = folders.map(f => f.lastResult).find(r => r && r.embedded >= 32 && r.seconds > 0);
	if (!currentBench || !run) {
		return { imagesPerSecond: benchRate, calibrated: false };
	}
	return { imagesPerSecond: benchRate * (run.embedded / run.seconds / currentBench), calibrated: true };
}

/** "MIT", or the licence's name with a warning when it forbids commercial use ([Note: model licences]). */
export function licenceText(m: Pick<KnownModel, 'licence'>): string {
	return m.licence.commercial ? m.licence.name : `⚠ ${m.licence.name} (no commercial use)`;
}

/** "ImageNet 63.3 · COCO R@1 30.4 · XM3600 59.4": a model's public quality figures ([Note: quality figures]). */
export function qualityText(m: Pick<KnownModel, 'quality'>): string {
	const q = m.quality;
	const parts = [
		q.imagenet !== undefined ? `ImageNet ${q.imagenet.toFixed(1)}` : '',
		q.cocoTextToImage !== undefined ? `COCO R@1 ${q.cocoTextToImage.toFixed(1)}` : '',
		q.crossmodal3600 !== undefined ? `XM3600 ${q.crossmodal3600.toFixed(1)}` : '',
	].filter(Boolean);
	return parts.length ? parts.join(' · ') : 'no public quality figures';
}
