/**
 * @file The two numbers that turn cosines into zero-shot logits: logit = scale × cosine + bias.
 *
 * [Note: where scale and bias live] Both are trained parameters of the joint model, not of either
 * tower, so the split ONNX files (text_model.onnx, vision_model.onnx) do not carry them and
 * config.json only holds their initial values. They are looked up, in order: config.json's
 * `logit_scale` / `logit_bias` (logs/raw values as the parameters store them: our own convention,
 * also what tools/ writes); a sidecar `clip-search-logits.json` written once when derived; for
 * SigLIP, the combined graph onnx/model.onnx (or model_quantized.onnx), read once and saved in the sidecar:
 * initializers named `logit_scale` and `logit_bias` when the export kept them (the scale as its log), else the constants
 * of the node that makes `logits_per_text` (exporters fold exp(logit_scale) into one constant:
 * logits_per_text = Add(Mul(MatMul(text, imageᵀ), scale), bias)); and, for a known model, the values its
 * registry entry pins. OpenAI's CLIP uses no bias and a
 * trained scale of exactly 100 (the clamp it hit), the default when nothing says otherwise.
 */
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { writeFileAtomic } from '../../common/atomicFile';
import { MAX_GRAPH_BYTES, readModelBytes, readOptionalModelJson } from '../files/modelFiles';

export const LOGITS_SIDECAR = 'clip-search-logits.json';

export interface LogitParams {
	/** log of the scale, as the parameter is stored. */
	logScale: number;
	bias?: number;
	/** Where the values came from (for the log). */
	source: string;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function scalarOf(t: onnx.ITensorProto | undefined): number | undefined {
	if (!t || t.dataType !== FLOAT || (t.dims ?? []).reduce((a, d) => a * Number(d), 1) !== 1) {
		return undefined;
	}
	if (t.floatData?.length) {
		return t.floatData[0];
	}
	const raw = t.rawData;
	return raw && raw.length === 4 ? new DataView(raw.buffer, raw.byteOffset, 4).getFloat32(0, true) : undefined;
}

/**
 * The scale and bias as the combined graph applies them: logits_per_text = Add(Mul(·, s), b), where
 * s is a constant (exp folded in) or Exp(constant). Undefined when the graph has another shape.
 */
export function logitParamsFromGraph(bytes: Uint8Array): { logScale: number; bias?: number } | undefined {
	// Decoded once (weights stay views into `bytes`); the result is kept in the sidecar.
	const graph = onnx.ModelProto.decode(bytes).graph;
	if (!graph) {
		return undefined;
	}
	const initializers = new Map((graph.initializer ?? []).map(t => [t.name ?? '', t]));
	const namedScale = scalarOf(initializers.get('logit_scale'));
	if (namedScale !== undefined) {
		return { logScale: namedScale, bias: scalarOf(initializers.get('logit_bias')) };
	}
	const producer = new Map<string, onnx.INodeProto>();
	for (const node of graph.node ?? []) {
		for (const out of node.output ?? []) {
			producer.set(out, node);
		}
	}
	const constant = (name: string): number | undefined => {
		const node = producer.get(name);
		if (node?.opType === 'Constant') {
			return scalarOf(node.attribute?.find(a => a.name === 'value')?.t ?? undefined);
		}
		if (node?.opType === 'Exp') {
			const v = constant(node.input?.[0] ?? '');
			return v === undefined ? undefined : Math.exp(v);
		}
		return scalarOf(initializers.get(name));
	};
	let node = producer.get('logits_per_text');
	let bias: number | undefined;
	if (node?.opType === 'Add') {
		const [a, b] = node.input ?? [];
		const [other, value] = constant(b) !== undefined ? [a, constant(b)] : [b, constant(a)];
		bias = value;
		node = producer.get(other ?? '');
	}
	if (node?.opType !== 'Mul') {
		return undefined;
	}
	const [x, y] = node.input ?? [];
	const scale = constant(y) ?? constant(x);
	return scale !== undefined && scale > 0 ? { logScale: Math.log(scale), bias } : undefined;
}

function finite(v: unknown): number | undefined {
	return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Finds the model's logit scale and bias (see [Note: where scale and bias live]); undefined when
 * nothing says. The combined graph is read only when `readCombinedGraph` (SigLIP: its bias matters;
 * a CLIP folder keeps the default of 100 rather than reading a 600 MB graph for it).
 */
export async function findLogitParams(
	dir: string,
	config: Record<string, unknown>,
	readCombinedGraph: boolean,
	pinned?: LogitParams,
): Promise<LogitParams | undefined> {
	const logScale = finite(config.logit_scale);
	if (logScale !== undefined) {
		return { logScale, bias: finite(config.logit_bias), source: 'config.json' };
	}
	const sidecar = path.join(dir, LOGITS_SIDECAR);
	const saved = await readOptionalModelJson(sidecar);
	if (saved && finite(saved.logit_scale) !== undefined) {
		return { logScale: finite(saved.logit_scale)!, bias: finite(saved.logit_bias), source: `${LOGITS_SIDECAR} (${String(saved.source ?? 'derived')})` };
	}
	for (const name of readCombinedGraph ? ['onnx/model.onnx', 'onnx/model_quantized.onnx'] : []) {
		const file = path.join(dir, name);
		const bytes = await readModelBytes(file, MAX_GRAPH_BYTES).catch(() => undefined);
		if (!bytes) {
			continue;
		}
		let found: { logScale: number; bias?: number } | undefined;
		try {
			found = logitParamsFromGraph(bytes);
		} catch {
			continue;
		}
		if (!found) {
			continue;
		}
		const params: LogitParams = { ...found, source: name };
		const body = { logit_scale: params.logScale, ...(params.bias !== undefined ? { logit_bias: params.bias } : {}), source: params.source };
		// A read-only folder: derived again next time.
		await writeFileAtomic(sidecar, `${JSON.stringify(body, null, 2)}\n`).catch(() => undefined);
		return params;
	}
	return pinned;
}
