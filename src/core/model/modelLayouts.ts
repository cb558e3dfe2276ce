/**
 * @file Two more model folder layouts, read as they are published: Immich's (`immich-app/<name>` on
 * Hugging Face) and rclip's (`yurijmikhalevich/rclip-models`). Each one's preprocessing, tokenizer,
 * padding, input types and output normalisation come from its own files and its runtime's rules
 * (checked against their source: immich-app/ml-models' exporter and immich-app/immich's
 * machine-learning runtime; rclip's convert_model.py, model.py and utils/), and the product's
 * vectors match what those runtimes compute (test/core/model/modelLayouts.test.ts).
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
 * [Note: rclip's layout] `<model>/visual.onnx`, `<model>/textual.onnx`, `tokenizer/bpe_simple_vocab_16e6.txt.gz`
 * (a models root with one model folder, or the model folder with the tokenizer beside it). Graphs:
 * `input` float32 [N,3,256,256] and `input` int64 [N,77] → `output`, not normalised. Text: ftfy,
 * HTML unescaped twice, whitespace collapsed, lower-cased; OpenAI's BPE with OpenCLIP's special
 * tokens (<start_of_text>, <end_of_text>), cut to 77 keeping the end token, zero-padded. Images:
 * 256 (hard-coded in rclip), bicubic, crop at round((w − 256)/2) (Python's round: halves to even),
 * OpenAI's mean and std.
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
import { readModelJson } from './modelFiles';
import * as path from 'node:path';
import { ClipError } from '../common/errors';
import type { ModelSpec, ModelVariant, ModelParts, PreprocessSpec, ResizeKernel } from './modelSpec';

export type ModelLayout = 'transformers.js' | 'immich' | 'rclip';

async function isFile(p: string): Promise<boolean> {
	return fs.stat(p).then(
		s => s.isFile(),
		() => false,
	);
}

/** rclip's folders: the model folder (the one with visual.onnx and textual.onnx) and the tokenizer's. */
async function rclipFolders(dir: string): Promise<{ model: string; tokenizer: string } | undefined> {
	const has = async (d: string): Promise<boolean> => (await isFile(path.join(d, 'visual.onnx'))) && (await isFile(path.join(d, 'textual.onnx')));
	const merges = (d: string): string => path.join(d, 'tokenizer', 'bpe_simple_vocab_16e6.txt.gz');
	if ((await has(dir)) && (await isFile(merges(path.dirname(dir))))) {
		return { model: dir, tokenizer: path.dirname(dir) };
	}
	if (await isFile(merges(dir))) {
		const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
		const models: string[] = [];
		for (const e of entries) {
			if (e.isDirectory() && e.name !== 'tokenizer' && (await has(path.join(dir, e.name)))) {
				models.push(path.join(dir, e.name));
			}
		}
		if (models.length === 1) {
			return { model: models[0], tokenizer: dir };
		}
		if (models.length > 1) {
			throw new ClipError('ModelInvalid', `${dir} holds ${models.length} rclip models (${models.map(m => path.basename(m)).join(', ')}): give the folder of the one to use.`, { file: dir });
		}
	}
	return undefined;
}

/** Which layout a folder is in ([Note: Immich's layout], [Note: rclip's layout]); transformers.js otherwise. */
export async function detectLayout(dir: string): Promise<ModelLayout> {
	if ((await isFile(path.join(dir, 'visual', 'model.onnx'))) || (await isFile(path.join(dir, 'textual', 'model.onnx')))) {
		return 'immich';
	}
	if (await rclipFolders(dir)) {
		return 'rclip';
	}
	return 'transformers.js';
}

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

const OPENAI_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** rclip's preprocessing: constants of its code (utils/preprocess.py). */
const RCLIP_PREPROCESS: PreprocessSpec = {
	resize: { shortestEdge: 256 },
	crop: { height: 256, width: 256 },
	cropRounding: 'halfEven',
	kernel: 'cubic',
	rescaleFactor: 1 / 255,
	mean: OPENAI_MEAN,
	std: OPENAI_STD,
	height: 256,
	width: 256,
};

/** What a layout loader returns: the spec without the fields the caller adds (id, revision, scores). */
export type LayoutSpec = Omit<ModelSpec, 'id' | 'revision' | 'logitScale' | 'logitBias' | 'link' | 'scoringSource'> & { fingerprinted: string[] };

function need(files: string[], parts: ModelParts): string[] {
	return parts === 'all' ? files : parts === 'text' ? files.filter(f => !/visual/.test(f)) : files.filter(f => !/\.onnx$/.test(f) && !/visual/.test(f));
}

async function requireFiles(files: string[]): Promise<void> {
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

/** [Note: rclip's layout] */
export async function loadRclipSpec(dir: string, variant: ModelVariant, parts: ModelParts): Promise<LayoutSpec> {
	if (variant !== 'fp32') {
		throw new ClipError('VariantUnavailable', `${dir} is an rclip model folder, which has full-precision (fp32) graphs only: use --variant fp32 (clipSearch.modelVariant "fp32").`, { file: dir });
	}
	const found = await rclipFolders(dir);
	if (!found) {
		throw new ClipError('ModelNotFound', `${dir}: no rclip model (visual.onnx and textual.onnx, with tokenizer/bpe_simple_vocab_16e6.txt.gz beside them).`, { file: dir });
	}
	const textModelPath = path.join(found.model, 'textual.onnx');
	const visionModelPath = path.join(found.model, 'visual.onnx');
	const merges = path.join(found.tokenizer, 'tokenizer', 'bpe_simple_vocab_16e6.txt.gz');
	await requireFiles(need([merges, textModelPath, visionModelPath], parts));
	return {
		layout: 'rclip',
		family: 'clip',
		outputs: { text: 'output', image: 'output' },
		inputs: { text: 'input', image: 'input', textType: 'int64' },
		batchOne: false,
		variant,
		dir: found.model,
		textModelPath,
		visionModelPath,
		tokenizerPath: merges,
		tokenizerConfigPath: undefined,
		preprocess: parts === 'all' ? RCLIP_PREPROCESS : NO_PREPROCESS_LAYOUT,
		parts,
		contextLength: 77,
		textPadLength: 77,
		lowercase: true,
		siglipTokenizer: false,
		textRules: 'rclip',
		// The graph's output is not normalised; the product normalises every embedding anyway.
		dim: 0,
		fingerprinted: need([merges, textModelPath, visionModelPath], parts),
	};
}

const NO_PREPROCESS_LAYOUT: PreprocessSpec = { resize: undefined, crop: undefined, cropRounding: 'floor', kernel: 'cubic', rescaleFactor: undefined, mean: undefined, std: undefined, height: 0, width: 0 };
