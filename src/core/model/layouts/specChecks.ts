/**
 * @file The numbers a model folder states, checked before anything is sized by them.
 *
 * [Note: model folders that lie] A config's embedding size sizes the index (hnswlib aborted the
 * process on embed_dim 1e9: std::runtime_error, SIGABRT), and a preprocessing size sizes every
 * decode (size [12000, 12000] took 154 s and 2.7 GB for one 64×64 image). So each number is held
 * to a sane bound (the largest public CLIP and SigLIP models stay well inside them) and, where the
 * graph states the same number, to the graph's own shape; the error names the file that is wrong.
 */
import * as path from 'node:path';
import { ClipError } from '../../common/errors';
import type { ModelSpec } from './modelSpec';
import { type GraphOutput, graphSignature } from '../files/onnxGraphOutputs';

/** Joint embedding sizes: 512-1152 for public CLIP/SigLIP models (bigG: 1280). */
export const MAX_EMBED_DIM = 4096;
/** Input sides: 224-512 for public models. */
export const MAX_INPUT_SIDE = 2048;
/** Text lengths: 64 (SigLIP), 77 (CLIP), 248 (Long-CLIP). */
export const MAX_CONTEXT_LENGTH = 4096;

/** Which file stated each number, per layout. */
function sources(spec: ModelSpec): { dim: string; preprocess: string; context: string } {
	switch (spec.layout) {
		case 'immich':
			return { dim: path.join(spec.dir, 'config.json'), preprocess: path.join(spec.dir, 'visual', 'preprocess_cfg.json'), context: path.join(spec.dir, 'config.json') };
		case 'rclip':
			return { dim: spec.textModelPath, preprocess: spec.visionModelPath, context: spec.textModelPath };
		default:
			return { dim: path.join(spec.dir, 'config.json'), preprocess: path.join(spec.dir, 'preprocessor_config.json'), context: path.join(spec.dir, 'config.json') };
	}
}

function within(value: number, max: number): boolean {
	return Number.isSafeInteger(value) && value >= 1 && value <= max;
}

/** The last dimension of a named value, when the graph fixes it. */
function fixedLast(values: GraphOutput[], name: string): number | undefined {
	const v = values.find(o => o.name === name);
	const last = v?.dims.at(-1);
	return typeof last === 'number' && last > 0 ? last : undefined;
}

/** Throws ModelInvalid naming the file when a number the folder states is out of bounds or differs from its graph's. */
export async function checkSpecNumbers(spec: ModelSpec): Promise<void> {
	const from = sources(spec);
	// (A tokenizer alone has no embedding size where only the graph states it: rclip's.)
	if (!within(spec.dim, MAX_EMBED_DIM) && !(spec.parts === 'tokenizer' && spec.dim === 0)) {
		throw new ClipError('ModelInvalid', `${from.dim}: an embedding size of ${spec.dim} is not one a CLIP model has (1 to ${MAX_EMBED_DIM}). Fix the file or re-download the model.`, { file: from.dim });
	}
	if (!within(spec.contextLength, MAX_CONTEXT_LENGTH) || (spec.textPadLength !== undefined && !within(spec.textPadLength, MAX_CONTEXT_LENGTH))) {
		throw new ClipError('ModelInvalid', `${from.context}: a text length of ${spec.textPadLength ?? spec.contextLength} tokens is not one a CLIP model has (1 to ${MAX_CONTEXT_LENGTH}). Fix the file or re-download the model.`, { file: from.context });
	}
	if (spec.parts === 'all') {
		const p = spec.preprocess;
		const resize = p.resize ? ('shortestEdge' in p.resize ? [p.resize.shortestEdge] : [p.resize.height, p.resize.width]) : [];
		const sides = [p.height, p.width, ...resize, ...(p.crop ? [p.crop.height, p.crop.width] : [])];
		const bad = sides.find(n => !within(n, MAX_INPUT_SIDE));
		if (bad !== undefined) {
			throw new ClipError('ModelInvalid', `${from.preprocess}: an input size of ${bad} pixels is not one a CLIP model takes (1 to ${MAX_INPUT_SIDE}). Fix the file or re-download the model.`, { file: from.preprocess });
		}
	}
	// The graphs' own shapes, where they fix them.
	if (spec.parts === 'tokenizer') {
		return;
	}
	const text = await graphSignature(spec.textModelPath);
	const textDim = fixedLast(text.outputs, spec.outputs.text);
	if (textDim !== undefined && textDim !== spec.dim) {
		throw new ClipError('ModelInvalid', `${from.dim} states an embedding size of ${spec.dim}, but ${path.basename(spec.textModelPath)} gives ${textDim}: the config does not belong to this graph. Fix it or re-download the model.`, { file: from.dim });
	}
	if (spec.parts !== 'all') {
		return;
	}
	const vision = await graphSignature(spec.visionModelPath);
	const imageDim = fixedLast(vision.outputs, spec.outputs.image);
	if (imageDim !== undefined && imageDim !== spec.dim) {
		throw new ClipError('ModelInvalid', `${from.dim} states an embedding size of ${spec.dim}, but ${path.basename(spec.visionModelPath)} gives ${imageDim}: the config does not belong to this graph. Fix it or re-download the model.`, { file: from.dim });
	}
	const input = vision.inputs.find(i => i.name === spec.inputs.image) ?? vision.inputs[0];
	const [h, w] = input?.dims.slice(-2) ?? [];
	for (const [stated, fixed] of [
		[spec.preprocess.height, h],
		[spec.preprocess.width, w],
	] as const) {
		if (typeof fixed === 'number' && fixed > 0 && fixed !== stated) {
			throw new ClipError('ModelInvalid', `${from.preprocess} states an input of ${spec.preprocess.width}×${spec.preprocess.height} pixels, but ${path.basename(spec.visionModelPath)} takes ${w}×${h}: fix the file or re-download the model.`, { file: from.preprocess });
		}
	}
}
