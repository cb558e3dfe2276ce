/**
 * @file Immich's model folder layout (`immich-app/<name>` on Hugging Face), read as it is published
 * (checked against immich-app/ml-models' exporter and immich-app/immich's machine-learning runtime).
 *
 * [Note: Immich's layout] `config.json` is the OpenCLIP model config (embed_dim, vision_cfg,
 * text_cfg; no model_type), `visual/model.onnx` + `visual/preprocess_cfg.json` (size, mean, std,
 * interpolation, resize_mode), `textual/model.onnx` + `textual/tokenizer.json` (+ tokenizer_config
 * with the pad token). Graphs: `image` float32 [1,3,S,S] and `text` int32 [1,L] → `embedding`,
 * normalised inside, batch fixed at 1. Text: whitespace collapsed (SigLIP configs also "canonicalize":
 * ASCII punctuation removed and lower-cased, after the collapse), the tokenizer's template, padded to
 * L with the pad token (CLIP: the end token). Images: short side to S (long side truncated), crop at
 * int(w/2 − S/2); resize_mode "squash" (SigLIP) resizes to S×S. Files the runtime ignores
 * (.armnn, .rknn) are ignored here too.
 *
 */
import * as path from 'node:path';
import { ClipError } from '../../common/errors';
import { readModelJson } from '../files/modelFiles';
import { need, NO_PREPROCESS_LAYOUT, requireFiles } from './layoutFiles';
import type { LayoutSpec, ModelParts, ModelVariant, PreprocessSpec, ResizeKernel } from './modelSpec';

function readJson(file: string): Promise<Record<string, unknown>> {
	return readModelJson(file, 'Re-download the model or complete the folder.');
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function triple(v: unknown, file: string, key: string): [number, number, number] {
	if (Array.isArray(v) && v.length === 3 && v.every(x => typeof x === 'number')) {
		return [v[0], v[1], v[2]];
	}
	throw new ClipError('ModelInvalid', `${file}: "${key}" must be three numbers.`, { file });
}

const KERNELS: Record<string, ResizeKernel> = { bicubic: 'cubic', bilinear: 'linear', nearest: 'nearest', lanczos: 'lanczos3' };

/** Immich's visual/preprocess_cfg.json as the product's preprocessing. */
export function parsePreprocessCfg(cfg: Record<string, unknown>, file: string): PreprocessSpec {
	const size = Array.isArray(cfg.size) ? num(cfg.size[0]) : num(cfg.size);
	if (!size) {
		throw new ClipError('ModelInvalid', `${file}: "size" is missing.`, { file });
	}
	const kernel = KERNELS[typeof cfg.interpolation === 'string' ? cfg.interpolation : 'bicubic'];
	if (!kernel) {
		throw new ClipError('ModelInvalid', `${file}: unknown "interpolation" ${String(cfg.interpolation)}.`, { file });
	}
	const squash = cfg.resize_mode === 'squash';
	if (cfg.resize_mode !== undefined && cfg.resize_mode !== 'shortest' && !squash) {
		throw new ClipError('ModelInvalid', `${file}: "resize_mode" ${String(cfg.resize_mode)} is not shortest or squash.`, { file });
	}
	return {
		resize: squash ? { height: size, width: size } : { shortestEdge: size },
		crop: squash ? undefined : { height: size, width: size },
		cropRounding: 'floor',
		kernel,
		rescaleFactor: 1 / 255,
		mean: triple(cfg.mean, file, 'mean'),
		std: triple(cfg.std, file, 'std'),
		height: size,
		width: size,
	};
}

/** [Note: Immich's layout] */
export async function loadImmichSpec(dir: string, variant: ModelVariant, parts: ModelParts): Promise<LayoutSpec> {
	if (variant !== 'fp32') {
		throw new ClipError('VariantUnavailable', `${dir} is an Immich model folder, which has full-precision (fp32) graphs only: use --variant fp32 (clipSearch.modelVariant "fp32").`, { file: dir });
	}
	const configFile = path.join(dir, 'config.json');
	const preFile = path.join(dir, 'visual', 'preprocess_cfg.json');
	const textModelPath = path.join(dir, 'textual', 'model.onnx');
	const visionModelPath = path.join(dir, 'visual', 'model.onnx');
	const tokenizerPath = path.join(dir, 'textual', 'tokenizer.json');
	const tokenizerConfigPath = path.join(dir, 'textual', 'tokenizer_config.json');
	await requireFiles(need([configFile, tokenizerPath, tokenizerConfigPath, textModelPath, visionModelPath, preFile], parts));
	const config = await readJson(configFile);
	const textCfg = (typeof config.text_cfg === 'object' && config.text_cfg !== null ? config.text_cfg : {}) as Record<string, unknown>;
	const dim = num(config.embed_dim);
	if (!dim) {
		throw new ClipError('ModelInvalid', `${configFile}: "embed_dim" is missing: not an OpenCLIP model config.`, { file: configFile });
	}
	const siglip = config.init_logit_bias !== undefined || /siglip/i.test(String(textCfg.hf_tokenizer_name ?? ''));
	const canonicalize = (textCfg.tokenizer_kwargs as Record<string, unknown> | undefined)?.clean === 'canonicalize';
	const contextLength = num(textCfg.context_length) ?? 77;
	return {
		layout: 'immich',
		family: siglip ? 'siglip' : 'clip',
		outputs: { text: 'embedding', image: 'embedding' },
		inputs: { text: 'text', image: 'image', textType: 'int32' },
		batchOne: true,
		variant,
		dir,
		textModelPath,
		visionModelPath,
		tokenizerPath,
		tokenizerConfigPath,
		preprocess: parts === 'all' ? parsePreprocessCfg(await readJson(preFile), preFile) : NO_PREPROCESS_LAYOUT,
		parts,
		contextLength,
		textPadLength: contextLength,
		lowercase: canonicalize,
		siglipTokenizer: false,
		textRules: canonicalize ? 'immich-canonicalize' : 'immich',
		dim,
		fingerprinted: need([configFile, preFile, tokenizerPath, tokenizerConfigPath, textModelPath, visionModelPath], parts),
	};
}
