/**
 * @file rclip's model folder layout (`yurijmikhalevich/rclip-models`), read as it is published
 * (checked against rclip's convert_model.py, model.py and utils/).
 *
 * [Note: rclip's layout] `<model>/visual.onnx`, `<model>/textual.onnx`, `tokenizer/bpe_simple_vocab_16e6.txt.gz`
 * (a models root with one model folder, or the model folder with the tokenizer beside it). Graphs:
 * `input` float32 [N,3,256,256] and `input` int64 [N,77] → `output`, not normalised. Text: ftfy,
 * HTML unescaped twice, whitespace collapsed, lower-cased; OpenAI's BPE with OpenCLIP's special
 * tokens (<start_of_text>, <end_of_text>), cut to 77 keeping the end token, zero-padded. Images:
 * 256 (hard-coded in rclip), bicubic, crop at round((w − 256)/2) (Python's round: halves to even),
 * OpenAI's mean and std.
 *
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClipError } from '../../common/errors';
import { isFile, need, NO_PREPROCESS_LAYOUT, OPENAI_MEAN, OPENAI_STD, requireFiles } from './layoutFiles';
import type { LayoutSpec, ModelParts, ModelVariant, PreprocessSpec } from './modelSpec';

/** rclip's folders: the model folder (the one with visual.onnx and textual.onnx) and the tokenizer's. */
export async function rclipFolders(dir: string): Promise<{ model: string; tokenizer: string } | undefined> {
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
