/**
 * @file Which loader reads a model folder (by its layout), and what every spec gets after: its
 * id, its revision (pinned, or the files' fingerprint) and its scores; then its numbers are checked
 * against bounds and its graphs ([Note: model folders that lie] in specChecks.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClipError } from '../../common/errors';
import { graphOutputs } from '../files/onnxGraphOutputs';
import { localFingerprint } from './fingerprint';
import type { LogitParams } from './logitParams';
import { detectLayout } from './detectLayout';
import { loadImmichSpec } from './immichLayout';
import { loadRclipSpec } from './rclipLayout';
import type { LayoutSpec, ModelParts, ModelSpec, ModelVariant } from './modelSpec';
import { checkSpecNumbers } from './specChecks';
import { loadTransformersSpec } from './transformersLayout';

export type LoadOptions = { variant?: ModelVariant; id?: string; revision?: string; parts?: ModelParts; logitParams?: LogitParams };

/**
 * Loads the description of the model in `dir`. Throws ModelNotFound or ModelInvalid naming the
 * file at fault, also for numbers out of bounds or unlike the graph's ([Note: model folders that lie]).
 */
export async function loadModelSpec(dir: string, options: LoadOptions = {}): Promise<ModelSpec> {
	const spec = await readModelSpec(dir, options);
	await checkSpecNumbers(spec);
	return spec;
}

async function readModelSpec(dir: string, options: LoadOptions): Promise<ModelSpec> {
	const variant = options.variant ?? 'fp32';
	const parts = options.parts ?? 'all';
	const abs = path.resolve(dir);
	try {
		const st = await fs.stat(abs);
		if (!st.isDirectory()) {
			throw new Error('not a folder');
		}
	} catch (err) {
		throw new ClipError(
			'ModelNotFound',
			`Model folder not found: ${abs}. Pass a folder with config.json, preprocessor_config.json, tokenizer.json and onnx/*.onnx, or a known model id.`,
			{ file: abs, cause: err },
		);
	}
	const layout = await detectLayout(abs);
	if (layout === 'transformers.js' && /^(visual|textual)$/.test(path.basename(abs)) && (await detectLayout(path.dirname(abs))) === 'immich') {
		const parent = path.dirname(abs);
		throw new ClipError('ModelNotFound', `${abs} is the ${path.basename(abs)} part of the Immich model folder ${parent}: give that folder (--model ${parent}).`, { file: abs });
	}
	if (layout !== 'transformers.js') {
		return withScores(layout === 'immich' ? await loadImmichSpec(abs, variant, parts) : await loadRclipSpec(abs, variant, parts), options);
	}
	return loadTransformersSpec(abs, variant, parts, options);
}

/**
 * A layout's spec (immichLayout.ts, rclipLayout.ts) with what every spec has: the id, the revision (pinned, or the
 * files' fingerprint), the embedding size where the files do not state it (the graph's output), and
 * the scores: the registry's pinned logit parameters, else CLIP's scale 100 (softmax) and, for
 * SigLIP, relative probabilities (neither layout carries trained values).
 */
async function withScores(spec: LayoutSpec, options: { id?: string; revision?: string; logitParams?: LogitParams }): Promise<ModelSpec> {
	const { fingerprinted, ...rest } = spec;
	let dim = rest.dim;
	if (!dim && rest.parts !== 'tokenizer') {
		const out = (await graphOutputs(rest.textModelPath))[0];
		dim = typeof out?.dims[1] === 'number' ? out.dims[1] : 0;
		if (!dim) {
			throw new ClipError('ModelInvalid', `${rest.textModelPath}: its output states no embedding size.`, { file: rest.textModelPath });
		}
	}
	const logits = options.logitParams;
	const siglip = rest.family === 'siglip';
	const logitScale = logits ? Math.exp(logits.logScale) : siglip ? 10 : 100;
	const logitBias = siglip ? logits?.bias : undefined;
	return {
		...rest,
		dim,
		id: options.id ?? rest.dir,
		revision: options.revision ?? (await localFingerprint(fingerprinted)),
		logitScale,
		logitBias,
		link: siglip && logitBias !== undefined ? 'sigmoid' : 'softmax',
		scoringSource: logits
			? `${logits.source}: scale ${logitScale.toFixed(3)}${logitBias !== undefined ? `, bias ${logitBias.toFixed(3)}` : ''}`
			: siglip
				? `no trained logit_scale/logit_bias in the ${rest.layout} layout: softmax at scale 10 (classes ranked as SigLIP ranks them, probabilities not calibrated)`
				: `no trained scale in the ${rest.layout} layout: CLIP's 100`,
	};
}
