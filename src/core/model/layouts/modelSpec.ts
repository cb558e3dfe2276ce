/**
 * @file What a model is, as data: its family, layout, files, inputs and outputs, preprocessing,
 * text rules, embedding size and scores. A spec is made by the loaders (loadModelSpec.ts chooses one
 * by the folder's layout: transformersLayout.ts, immichLayout.ts, rclipLayout.ts) and read by everything else; it
 * calls back into none of them.
 */
export type ModelVariant = 'fp32' | 'quantized';

/** The on-disk layouts a model folder can be in (detectLayout.ts tells which). */
export type ModelLayout = 'transformers.js' | 'immich' | 'rclip';

/** sharp's resize kernels, the ones PIL's resample codes map to. */
export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'lanczos3' | 'mitchell';

export interface PreprocessSpec {
	/** Resize so the shortest side is this many pixels (CLIP), or to exact height/width. */
	resize: { shortestEdge: number } | { height: number; width: number } | undefined;
	crop: { height: number; width: number } | undefined;
	/** How the crop's offset is rounded: down (transformers, Immich), or Python's round, halves to even (rclip). */
	cropRounding?: 'floor' | 'halfEven';
	kernel: ResizeKernel;
	rescaleFactor: number | undefined;
	mean: [number, number, number] | undefined;
	std: [number, number, number] | undefined;
	/** The tensor's spatial size, after resize and crop. */
	height: number;
	width: number;
}

export type ModelFamily = 'clip' | 'siglip';


/**
 * The rules a text goes through before its tokenizer: OpenAI's cleaning (CLIP in the transformers.js
 * layout), the transformers.js SigLIP rules (lowercase, SiglipTokenizer's punctuation), or those of
 * the Immich and rclip runtimes (immichLayout.ts, rclipLayout.ts).
 */
export type TextRules = 'openai' | 'siglip' | 'immich' | 'immich-canonicalize' | 'rclip';

export interface ModelSpec {
	/** The folder's layout (detectLayout.ts): where the files are and which runtime's rules apply. */
	layout: ModelLayout;
	family: ModelFamily;
	/** The graphs' input names, and the text input's integer type (Immich's graphs take int32). */
	inputs: { text: string; image: string; textType: 'int64' | 'int32' };
	/** The graphs take one text or image at a time (Immich's exports: batch fixed at 1). */
	batchOne: boolean;
	textRules: TextRules;
	/** The graph outputs the embeddings are read from. */
	outputs: { text: string; image: string };
	/** A known id (e.g. Xenova/clip-vit-base-patch32) or the absolute folder path. */
	id: string;
	/** A pinned revision for known ids; a fingerprint of the files for local folders. */
	revision: string;
	variant: ModelVariant;
	dir: string;
	textModelPath: string;
	visionModelPath: string;
	tokenizerPath: string;
	tokenizerConfigPath: string | undefined;
	preprocess: PreprocessSpec;
	/** Token context of the text model (77 for OpenAI's CLIP, 64 for SigLIP). */
	contextLength: number;
	/** Pad every text to this many tokens (SigLIP is trained so); undefined: to the longest of the batch. */
	textPadLength: number | undefined;
	/** Lowercase texts before tokenising (tokenizer_config.json's do_lower_case, SigLIP family). */
	lowercase: boolean;
	/**
	 * The text goes through Python's SiglipTokenizer rules: ASCII punctuation removed and spaces
	 * collapsed first, and no attention mask (a graph that takes one sees the padding).
	 */
	siglipTokenizer: boolean;
	/** Size of the joint embedding (projection_dim; SigLIP: the text tower's output size). */
	dim: number;
	/** exp(logit_scale): the temperature that turns cosines into logits for labelling. */
	logitScale: number;
	/** The trained logit bias (SigLIP), undefined when the folder does not say. */
	logitBias: number | undefined;
	/**
	 * How logits become probabilities: a softmax over classes (CLIP), or a sigmoid per class (SigLIP,
	 * when its bias is known; else a softmax, which ranks classes the same way: logged).
	 */
	link: 'softmax' | 'sigmoid';
	/** Where the scale and bias came from (logged). */
	scoringSource: string;
	/** Which parts were loaded (see ModelParts): images need 'all'. */
	parts: ModelParts;
}

/** What identifies the vectors a model produces: vectors of two keys are never mixed. */
export function modelKey(spec: Pick<ModelSpec, 'id' | 'revision' | 'variant'>): string {
	return `${spec.id}@${spec.revision}#${spec.variant}`;
}

/**
 * What a caller needs of a model folder: everything (indexing, labelling), the text tower only
 * (`embed --text`, text queries), or the tokenizer only (`tokenize`). A folder needs only the files
 * of the part asked for.
 */
export type ModelParts = 'all' | 'text' | 'tokenizer';

/** What a layout loader returns: the spec without the fields the caller adds (id, revision, scores). */
export type LayoutSpec = Omit<ModelSpec, 'id' | 'revision' | 'logitScale' | 'logitBias' | 'link' | 'scoringSource'> & { fingerprinted: string[] };

/** The image input when a folder was loaded without its vision part: never used to decode. */
export const NO_PREPROCESS: PreprocessSpec = { resize: undefined, crop: undefined, cropRounding: 'floor', kernel: 'cubic', rescaleFactor: undefined, mean: undefined, std: undefined, height: 0, width: 0 };


export function onnxFileName(tower: 'text' | 'vision', variant: ModelVariant): string {
	return `onnx/${tower}_model${variant === 'quantized' ? '_quantized' : ''}.onnx`;
}

