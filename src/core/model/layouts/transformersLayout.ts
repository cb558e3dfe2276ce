/**
 * @file Reads a CLIP-like model folder in the transformers.js layout and describes it. Everything
 * model-specific (family, image size, crop, resample, mean/std, rescale, context length, padding,
 * lowercasing, embedding size, temperature and bias) comes from the folder's files, never from
 * constants in the code.
 *
 * [Note: model families] config.json's `model_type` names the family:
 * - `clip` (OpenAI CLIP, MobileCLIP in Xenova's export): outputs `text_embeds` / `image_embeds`,
 *   OpenAI's truncation (start, text, end), padding to the longest text — or to the graph's fixed
 *   sequence length where the text graph has one (read from the ONNX input at session time) —,
 *   zero-shot probabilities a softmax over classes at the logit scale.
 * - `siglip` / `siglip2` (SigLIP, SigLIP 2): outputs `pooler_output`, the tokenizer's own
 *   template (an end token appended), every text padded to the model's length with the pad id its
 *   tokenizer config names, lowercased where tokenizer_config.json says `do_lower_case`, and
 *   probabilities a sigmoid of scale × cosine + bias per class (logitParams.ts says where those
 *   two numbers are found).
 * The preprocessing of both is preprocessor_config.json's (SigLIP: a squash resize to a fixed
 * size, no crop, mean/std 0.5; MobileCLIP: bilinear, crop, no normalisation).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClipError } from '../../common/errors';
import { readModelJson, readOptionalModelJson } from '../files/modelFiles';
import { localFingerprint } from './fingerprint';
import { findLogitParams, type LogitParams } from './logitParams';
import { type ModelFamily, type ModelParts, type ModelSpec, type ModelVariant, NO_PREPROCESS, onnxFileName, type PreprocessSpec, type ResizeKernel } from './modelSpec';

/** config.json's model_type → family. */
const FAMILIES: Record<string, ModelFamily> = { clip: 'clip', siglip: 'siglip', siglip2: 'siglip' };

function requiredFiles(parts: ModelParts): string[] {
	return parts === 'all' ? ['config.json', 'preprocessor_config.json', 'tokenizer.json'] : ['config.json', 'tokenizer.json'];
}


function readJson(file: string): Promise<Record<string, unknown>> {
	return readModelJson(file);
}

function num(value: unknown): number | undefined {
	return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function triple(value: unknown, file: string, key: string): [number, number, number] | undefined {
	if (value === undefined) {
		return undefined;
	}
	if (typeof value === 'number') {
		return [value, value, value];
	}
	if (Array.isArray(value) && value.length === 3 && value.every(v => typeof v === 'number')) {
		return [value[0], value[1], value[2]];
	}
	throw new ClipError('ModelInvalid', `${file}: "${key}" must be a number or three numbers.`, { file });
}

function hw(value: unknown): { height: number; width: number } | undefined {
	if (typeof value === 'number') {
		return { height: value, width: value };
	}
	if (typeof value === 'object' && value !== null) {
		const v = value as Record<string, unknown>;
		const h = num(v.height);
		const w = num(v.width);
		if (h && w) {
			return { height: h, width: w };
		}
	}
	return undefined;
}

/** PIL's resample codes (what preprocessor_config.json stores) to sharp's kernels. */
const RESAMPLE_KERNELS: Record<number, ResizeKernel> = {
	0: 'nearest',
	1: 'lanczos3',
	2: 'linear',
	3: 'cubic',
	4: 'linear', // box: sharp has no box kernel; bilinear is the nearest in effect
	5: 'linear', // hamming
};

export function parsePreprocessorConfig(cfg: Record<string, unknown>, file: string): PreprocessSpec {
	const flag = (key: string, fallback: boolean): boolean => (typeof cfg[key] === 'boolean' ? (cfg[key] as boolean) : fallback);
	let resize: PreprocessSpec['resize'];
	if (flag('do_resize', true)) {
		const size = cfg.size;
		if (typeof size === 'number') {
			resize = { shortestEdge: size };
		} else if (typeof size === 'object' && size !== null && num((size as Record<string, unknown>).shortest_edge)) {
			resize = { shortestEdge: num((size as Record<string, unknown>).shortest_edge)! };
		} else if (hw(size)) {
			resize = hw(size);
		} else {
			throw new ClipError('ModelInvalid', `${file}: "size" is missing or not understood.`, { file });
		}
	}
	const crop = flag('do_center_crop', true) ? hw(cfg.crop_size) : undefined;
	const cropRounding = 'floor' as const;
	const rescaleFactor = flag('do_rescale', true) ? (num(cfg.rescale_factor) ?? 1 / 255) : undefined;
	const mean = flag('do_normalize', true) ? triple(cfg.image_mean, file, 'image_mean') : undefined;
	const std = flag('do_normalize', true) ? triple(cfg.image_std, file, 'image_std') : undefined;
	const resample = num(cfg.resample) ?? 3;
	const kernel = RESAMPLE_KERNELS[resample];
	if (!kernel) {
		throw new ClipError('ModelInvalid', `${file}: unknown "resample" ${resample}.`, { file });
	}
	let height: number;
	let width: number;
	if (crop) {
		({ height, width } = crop);
	} else if (resize && 'height' in resize) {
		({ height, width } = resize);
	} else {
		throw new ClipError('ModelInvalid', `${file}: without a crop_size or a fixed size the input size is unknown.`, { file });
	}
	return { resize, crop, cropRounding, kernel, rescaleFactor, mean, std, height, width };
}

/**
 * The spec of a folder in the transformers.js layout ([Note: model families]): config.json,
 * preprocessor_config.json, tokenizer.json (+ tokenizer_config.json) and onnx/*.onnx.
 */
export async function loadTransformersSpec(abs: string, variant: ModelVariant, parts: ModelParts, options: { id?: string; revision?: string; logitParams?: LogitParams }): Promise<ModelSpec> {
	for (const name of requiredFiles(parts)) {
		await fs.access(path.join(abs, name)).catch(err => {
			throw new ClipError('ModelNotFound', `Model file missing: ${path.join(abs, name)}. Re-download the model or complete the folder.`, {
				file: path.join(abs, name),
				cause: err,
			});
		});
	}
	const textModelPath = path.join(abs, onnxFileName('text', variant));
	const visionModelPath = path.join(abs, onnxFileName('vision', variant));
	for (const file of parts === 'all' ? [textModelPath, visionModelPath] : parts === 'text' ? [textModelPath] : []) {
		const st = await fs.stat(file).catch(() => undefined);
		if (!st?.isFile()) {
			const other = variant === 'fp32' ? 'quantized' : 'fp32';
			throw new ClipError(
				'ModelNotFound',
				`Model file missing: ${file}. Re-download the model, or try the ${other} variant if that is what the folder holds.`,
				{ file },
			);
		}
		if (st.size < 16) {
			throw new ClipError('ModelInvalid', `Model file is empty or truncated: ${file}. Re-download the model.`, { file });
		}
	}
	const configFile = path.join(abs, 'config.json');
	const preFile = path.join(abs, 'preprocessor_config.json');
	const config = await readJson(configFile);
	const pre = parts === 'all' ? await readJson(preFile) : undefined;
	const textConfig = (typeof config.text_config === 'object' && config.text_config !== null ? config.text_config : {}) as Record<string, unknown>;
	const visionConfig = (typeof config.vision_config === 'object' && config.vision_config !== null ? config.vision_config : {}) as Record<string, unknown>;
	const modelType = typeof config.model_type === 'string' ? config.model_type : 'clip';
	const family = FAMILIES[modelType];
	if (!family) {
		throw new ClipError(
			'ModelInvalid',
			`${configFile}: "model_type" is "${modelType}", not a family this extension reads (${Object.keys(FAMILIES).join(', ')}). Use a CLIP, MobileCLIP or SigLIP export in the transformers.js layout.`,
			{ file: configFile },
		);
	}
	// SigLIP configs often omit sizes equal to transformers' defaults (hidden_size 768, 64 tokens);
	// the embedding's real size is checked against the graph's output on the first inference.
	const dim = family === 'clip' ? (num(config.projection_dim) ?? num(textConfig.projection_dim)) : (num(textConfig.projection_size) ?? num(textConfig.hidden_size) ?? num(visionConfig.hidden_size) ?? 768);
	if (!dim) {
		throw new ClipError('ModelInvalid', `${configFile}: "projection_dim" is missing; is this a CLIP model?`, { file: configFile });
	}
	const tokenizerConfigPath = path.join(abs, 'tokenizer_config.json');
	const tokenizerConfig = await readOptionalModelJson(tokenizerConfigPath);
	let contextLength = num(textConfig.max_position_embeddings);
	if (family === 'siglip') {
		const modelMax = num(tokenizerConfig?.model_max_length);
		contextLength ??= modelMax !== undefined && modelMax < 1e6 ? modelMax : 64;
	}
	contextLength ??= 77;
	// [Note: logit scale] config.json's logit_scale_init_value is the temperature *before* training
	// (ln(1/0.07)); the trained one lives in the weights and is 100 for OpenAI's CLIP.
	const logits = await findLogitParams(abs, config, family === 'siglip', options.logitParams);
	const logitScale = logits ? Math.exp(logits.logScale) : family === 'clip' ? 100 : 10;
	const logitBias = family === 'siglip' ? logits?.bias : undefined;
	const link = family === 'siglip' && logitBias !== undefined ? 'sigmoid' : 'softmax';
	const scoringSource = logits
		? `${logits.source}: scale ${logitScale.toFixed(3)}${logitBias !== undefined ? `, bias ${logitBias.toFixed(3)}` : ''}`
		: family === 'clip'
			? "no trained scale in the folder: CLIP's 100"
			: 'no trained logit_scale/logit_bias in config.json, clip-search-logits.json or onnx/model.onnx: softmax at scale 10 (classes ranked as SigLIP ranks them, probabilities not calibrated)';
	const hasTokenizerConfig = tokenizerConfig !== undefined;
	const fingerprinted = parts === 'all' ? [configFile, preFile, path.join(abs, 'tokenizer.json'), textModelPath, visionModelPath] : parts === 'text' ? [configFile, path.join(abs, 'tokenizer.json'), textModelPath] : [configFile, path.join(abs, 'tokenizer.json')];
	if (family !== 'clip' && hasTokenizerConfig) {
		// Lowercasing and padding come from it (CLIP folders keep their old fingerprint).
		fingerprinted.push(tokenizerConfigPath);
	}
	const revision = options.revision ?? (await localFingerprint(fingerprinted));
	return {
		layout: 'transformers.js',
		inputs: { text: 'input_ids', image: 'pixel_values', textType: 'int64' },
		batchOne: false,
		textRules: family === 'siglip' ? 'siglip' : 'openai',
		id: options.id ?? abs,
		revision,
		variant,
		dir: abs,
		textModelPath,
		visionModelPath,
		tokenizerPath: path.join(abs, 'tokenizer.json'),
		tokenizerConfigPath: hasTokenizerConfig ? tokenizerConfigPath : undefined,
		preprocess: pre ? parsePreprocessorConfig(pre, preFile) : NO_PREPROCESS,
		parts,
		family,
		outputs: family === 'clip' ? { text: 'text_embeds', image: 'image_embeds' } : { text: 'pooler_output', image: 'pooler_output' },
		contextLength,
		textPadLength: family === 'siglip' ? contextLength : undefined,
		lowercase: family === 'siglip' && tokenizerConfig?.do_lower_case === true,
		siglipTokenizer: family === 'siglip' && tokenizerConfig?.tokenizer_class === 'SiglipTokenizer',
		dim,
		logitScale,
		logitBias,
		link,
		scoringSource,
	};
}
