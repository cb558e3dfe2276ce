/**
 * @file Immich's batch-1 image graphs, batched: a twin whose batch is symbolic, made once in the
 * product's cache where it gives exactly what the graph gives one image at a time.
 *
 * [Note: batching a batch-1 graph] Immich exports OpenCLIP with torch.onnx.export and no dynamic
 * axes, so the batch of 1 is fixed in the graph's input and output and baked into the constant
 * shapes of its Reshapes (nn.MultiheadAttention's views: [50, 1·12, 64], [1, 12, 50, 64], [1, 768, −1]).
 * One image at a time wastes the batched matrix kernels (−30 % for ViT-B/32 here). The twin makes
 * the input's and output's first dimension symbolic, drops the intermediate shape annotations, and
 * lets each Reshape that reads a tensor computed from the image carry the batch: a leading 1 becomes
 * −1 (or 0, copying the input's first dimension, where the shape has a −1 already); a shape without
 * a 1 (the batch folded into heads or rows) gets −1 where MultiheadAttention folds it. That last part
 * is a guess about how the graph was made, so the twin is used only after it ran a batch of three
 * generated images and gave each image's answer alone (cosine ≥ 0.99999); otherwise the graph runs
 * one image at a time as before, and the verdict is kept (`.batch1`) so it is not tried again.
 * Only the bytes of the changed fields are re-encoded (onnxBytes.ts); the weights are copied once.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { writeFileAtomic } from '../../common/atomicFile';
import { cosine } from '../../common/vectors';
import { describeError } from '../../common/errors';
import { cachedSha256 } from '../files/fileDigest';
import { MAX_GRAPH_BYTES, readModelBytes } from '../files/modelFiles';
import { markVerified, stillVerified } from '../files/verifiedFiles';
import { Writer } from 'protobufjs/minimal';
import { fileEqualsParts, field, locate } from '../int8/onnxBytes';
import { convertedCacheDir } from '../int8/int8Twin';

/** Bumped whenever the rewrite changes: twins of another version are not reused. */
const BATCH_TWIN_VERSION = 1;

const INT64 = onnx.TensorProto.DataType.INT64;

/** The shape a Reshape should take with a symbolic batch, or undefined when there is no safe guess. */
export function batchedShape(shape: readonly number[]): number[] | undefined {
	const s = [...shape];
	if (s.includes(-1)) {
		if (s[0] !== 1) {
			return undefined;
		}
		s[0] = 0; // copy the input's first dimension (the batch)
		return s;
	}
	const one = s.indexOf(1);
	if (one >= 0) {
		s[one] = -1;
		return s;
	}
	// The batch folded into another dimension: MultiheadAttention's [L, B·H, D] and [L·B, E].
	if (s.length === 3 || s.length === 2) {
		s[s.length === 3 ? 1 : 0] = -1;
		return s;
	}
	return undefined;
}

function int64Values(t: onnx.ITensorProto): number[] | undefined {
	if (t.dataType !== INT64) {
		return undefined;
	}
	if (t.rawData?.length) {
		const b = Buffer.from(t.rawData.buffer, t.rawData.byteOffset, t.rawData.length);
		return Array.from({ length: b.length / 8 }, (_, i) => Number(b.readBigInt64LE(i * 8)));
	}
	return (t.int64Data ?? []).map(Number);
}

function int64Tensor(t: onnx.ITensorProto, values: number[]): onnx.ITensorProto {
	const raw = Buffer.alloc(values.length * 8);
	values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
	return { ...t, int64Data: [], rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.length) };
}

/** A value's type with its first dimension symbolic. */
function symbolicBatch(v: onnx.IValueInfoProto): onnx.IValueInfoProto {
	const dims = v.type?.tensorType?.shape?.dim;
	if (!dims?.length) {
		return v;
	}
	const copy = onnx.ValueInfoProto.decode(onnx.ValueInfoProto.encode(v).finish());
	copy.type!.tensorType!.shape!.dim![0] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' });
	return copy;
}

/**
 * The graph with a symbolic batch ([Note: batching a batch-1 graph]), or why not. Graph fields:
 * node = 1, initializer = 5, input = 11, output = 12, value_info = 13.
 */
function rewriteBatchOne(bytes: Uint8Array): { parts: Uint8Array[]; reshapes: number } | string {
	const located = locate(bytes);
	if (!located) {
		return 'no graph';
	}
	const nodes = located.fields.filter(f => f.number === 1).map(f => onnx.NodeProto.decode(bytes.subarray(f.contentStart, f.end)));
	const inputs = located.fields.filter(f => f.number === 11).map(f => onnx.ValueInfoProto.decode(bytes.subarray(f.contentStart, f.end)));
	const initNames = new Set(located.initializers.keys());
	const graphInputs = inputs.filter(i => !initNames.has(i.name));
	if (graphInputs.length !== 1 || Number(graphInputs[0].type?.tensorType?.shape?.dim?.[0]?.dimValue ?? 0) !== 1) {
		return 'its input is not one tensor with a batch of 1';
	}
	// What is computed from the image (forward from the input; nodes are in topological order).
	const fromImage = new Set([graphInputs[0].name]);
	for (const node of nodes) {
		if (node.input.some(i => fromImage.has(i))) {
			node.output.forEach(o => fromImage.add(o));
		}
	}
	const constantOf = new Map<string, number>(); // a Constant node's output → its index
	nodes.forEach((n, i) => n.opType === 'Constant' && constantOf.set(n.output[0], i));
	const readers = new Map<string, number>();
	nodes.forEach(n => n.input.forEach(i => readers.set(i, (readers.get(i) ?? 0) + 1)));
	const newNodes = new Map<number, onnx.INodeProto>();
	const newInits = new Map<string, onnx.ITensorProto>();
	let reshapes = 0;
	for (const node of nodes) {
		if (node.opType !== 'Reshape' || !fromImage.has(node.input[0]) || fromImage.has(node.input[1])) {
			continue;
		}
		const name = node.input[1];
		if ((readers.get(name) ?? 0) !== 1) {
			return `the shape ${name} is shared`;
		}
		const c = constantOf.get(name);
		const tensor = c !== undefined ? nodes[c].attribute.find(a => a.name === 'value')?.t : located.initializers.has(name) ? onnx.TensorProto.decode(bytes.subarray(located.initializers.get(name)!.contentStart, located.initializers.get(name)!.fieldEnd)) : undefined;
		const values = tensor ? int64Values(tensor) : undefined;
		if (!tensor || !values) {
			return `the shape of ${node.name || 'a Reshape'} is computed, not a constant`;
		}
		const batched = batchedShape(values);
		if (!batched) {
			return `no safe batch for the shape [${values.join(', ')}] of ${node.name || 'a Reshape'}`;
		}
		if (c !== undefined) {
			const copy = onnx.NodeProto.decode(onnx.NodeProto.encode(nodes[c]).finish());
			copy.attribute.find(a => a.name === 'value')!.t = onnx.TensorProto.create(int64Tensor(tensor, batched));
			newNodes.set(c, copy);
		} else {
			newInits.set(name, int64Tensor(tensor, batched));
		}
		reshapes++;
	}
	// A token expanded to the traced batch (OpenCLIP's class token: `expand(batch, -1, -1)` traced as a
	// constant shape) and joined to what the image gives: its shape's first entry becomes the batch.
	const before = new Map<number, onnx.INodeProto[]>();
	const batchDim = 'clip_search_batch/dim';
	nodes.forEach((node, i) => {
		if (node.opType !== 'Expand' || fromImage.has(node.input[0]) || fromImage.has(node.input[1])) {
			return;
		}
		// Joined to the image's values directly or through a few nodes of its own (a Cast).
		let reach = new Set([node.output[0]]);
		let joined = false;
		for (let depth = 0; depth < 4 && reach.size && !joined; depth++) {
			const next = new Set<string>();
			for (const n of nodes) {
				if (n.input.some(x => reach.has(x))) {
					joined ||= n.input.some(x => fromImage.has(x));
					n.output.forEach(o => next.add(o));
				}
			}
			reach = next;
		}
		if (!joined) {
			return;
		}
		const rest = `clip_search_batch/${i}/rest`;
		const shape = `clip_search_batch/${i}/shape`;
		const starts = `clip_search_batch/${i}/starts`;
		const ends = `clip_search_batch/${i}/ends`;
		const added: onnx.INodeProto[] = [];
		if (!before.size) {
			added.push({ opType: 'Shape', input: [graphInputs[0].name], output: [batchDim], attribute: [{ name: 'start', type: onnx.AttributeProto.AttributeType.INT, i: 0 }, { name: 'end', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] });
		}
		const constant = (name: string, v: number): onnx.INodeProto => ({ opType: 'Constant', output: [name], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: int64Tensor({ dataType: INT64, dims: [1] }, [v]) }] });
		added.push(constant(starts, 1), constant(ends, 2 ** 31 - 1));
		added.push({ opType: 'Slice', input: [node.input[1], starts, ends], output: [rest] });
		added.push({ opType: 'Concat', input: [batchDim, rest], output: [shape], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] });
		before.set(i, added);
		const copy = onnx.NodeProto.decode(onnx.NodeProto.encode(node).finish());
		copy.input[1] = shape;
		newNodes.set(i, copy);
	});
	// The graph again: changed fields re-encoded, value_info dropped, everything else as it was.
	const parts: Uint8Array[] = [];
	let nodeIndex = 0;
	for (const f of located.fields) {
		if (f.number === 1) {
			for (const n of before.get(nodeIndex) ?? []) {
				parts.push(field(1, onnx.NodeProto.encode(onnx.NodeProto.create(n)).finish()));
			}
			const changed = newNodes.get(nodeIndex++);
			parts.push(changed ? field(1, onnx.NodeProto.encode(onnx.NodeProto.create(changed)).finish()) : bytes.subarray(f.start, f.end));
		} else if (f.number === 5 && newInits.size) {
			const t = onnx.TensorProto.decode(bytes.subarray(f.contentStart, f.end));
			const changed = newInits.get(t.name);
			parts.push(changed ? field(5, onnx.TensorProto.encode(onnx.TensorProto.create(changed)).finish()) : bytes.subarray(f.start, f.end));
		} else if (f.number === 11 || f.number === 12) {
			const v = onnx.ValueInfoProto.decode(bytes.subarray(f.contentStart, f.end));
			parts.push(f.number === 12 || !initNames.has(v.name) ? field(f.number, onnx.ValueInfoProto.encode(symbolicBatch(v)).finish()) : bytes.subarray(f.start, f.end));
		} else if (f.number !== 13) {
			parts.push(bytes.subarray(f.start, f.end));
		}
	}
	// The file in parts (the weights are not copied): the graph's field tag and length, then its parts.
	const graphLength = parts.reduce((n, p) => n + p.length, 0);
	const graphHead = Writer.create().uint32((7 << 3) | 2).uint32(graphLength).finish();
	return { parts: [bytes.subarray(0, located.graph.fieldStart), graphHead, ...parts, bytes.subarray(located.graph.end)], reshapes };
}

/** Runs a batch of three generated images through `twin` and each alone through `original`; true when they agree. */
async function sameAsOneAtATime(original: string, twin: string, shape: number[]): Promise<{ ok: boolean; worst: number }> {
	const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1 };
	const a = await ort.InferenceSession.create(original, options);
	const b = await ort.InferenceSession.create(twin, options).catch(() => undefined);
	try {
		if (!b) {
			return { ok: false, worst: 0 };
		}
		const [, c, h, w] = shape;
		const one = c * h * w;
		const batch = new Float32Array(3 * one);
		for (let i = 0; i < batch.length; i++) {
			batch[i] = Math.sin(i * 0.001 * (1 + Math.floor(i / one))) * 1.5;
		}
		const input = a.inputNames[0];
		const together = await b.run({ [input]: new ort.Tensor('float32', batch, [3, c, h, w]) }).catch(() => undefined);
		const out = together?.[b.outputNames[0]];
		if (!out || Number(out.dims[0]) !== 3) {
			return { ok: false, worst: 0 };
		}
		const width = (out.data as Float32Array).length / 3;
		let worst = 1;
		for (let k = 0; k < 3; k++) {
			const alone = (await a.run({ [input]: new ort.Tensor('float32', batch.slice(k * one, (k + 1) * one), [1, c, h, w]) }))[a.outputNames[0]].data as Float32Array;
			const x = (out.data as Float32Array).subarray(k * width, (k + 1) * width);
			worst = Math.min(worst, cosine(x, alone));
		}
		return { ok: worst >= 0.99999, worst };
	} finally {
		await a.release();
		await b?.release();
	}
}

export interface BatchTwinOptions {
	cacheDir?: string;
	log?: (message: string) => void;
	/** Said while the twin is made (once); undefined when done. */
	onStage?: (message: string | undefined) => void;
}

/**
 * The batched twin of a batch-1 image graph (input [1, 3, h, w]), made once and checked, or
 * undefined (one at a time, as before). Never fails: on any error the log says why.
 */
export async function batchedImageGraph(file: string, inputShape: number[], options: BatchTwinOptions = {}): Promise<string | undefined> {
	const log = options.log ?? (() => undefined);
	try {
		const sha = await cachedSha256(file);
		const dir = options.cacheDir ?? convertedCacheDir();
		const twin = path.join(dir, `${path.basename(path.dirname(file))}-${path.basename(file, '.onnx')}.batched-${sha.slice(0, 16)}-v${BATCH_TWIN_VERSION}.onnx`);
		const refused = `${twin}.batch1`;
		if (await exists(refused)) {
			return undefined;
		}
		if (await stillVerified(twin)) {
			return twin;
		}
		const rewritten = rewriteBatchOne(await readModelBytes(file, MAX_GRAPH_BYTES));
		if (typeof rewritten === 'string') {
			log(`batch-1 graph ${file}: kept one image at a time (${rewritten})`);
			await fs.mkdir(dir, { recursive: true });
			await writeFileAtomic(refused, `${rewritten}\n`);
			return undefined;
		}
		// Made again at each load from the source (as int8 twins are: [Note: derived files]); written once.
		if (await fileEqualsParts(twin, rewritten.parts)) {
			await markVerified(twin);
			return twin;
		}
		options.onStage?.('preparing the image model for batches (once)…');
		try {
			// Checked under a name of this process's own, and given the twin's name only once it passed: a
			// file under that name is always one that passed (a check that failed, threw or was killed
			// leaves none for another loader to trust).
			await fs.mkdir(dir, { recursive: true });
			const unchecked = `${twin}.unchecked-${process.pid}`;
			let worst: number;
			try {
				await writeFileAtomic(unchecked, rewritten.parts);
				const check = await sameAsOneAtATime(file, unchecked, inputShape);
				if (!check.ok) {
					log(`batch-1 graph ${file}: kept one image at a time (a batch of 3 did not give each image's answer alone: worst cosine ${check.worst.toFixed(6)})`);
					await writeFileAtomic(refused, `worst cosine ${check.worst}\n`);
					return undefined;
				}
				worst = check.worst;
				await fs.rename(unchecked, twin);
			} finally {
				await fs.rm(unchecked, { force: true });
			}
			await markVerified(twin);
			log(`batch-1 graph ${file}: batched (${rewritten.reshapes} reshapes carry the batch; a batch of 3 gave each image's answer alone, worst cosine ${worst.toFixed(6)}) → ${twin}`);
			return twin;
		} finally {
			options.onStage?.(undefined);
		}
	} catch (err) {
		log(`batch-1 graph ${file}: kept one image at a time (${describeError(err)})`);
		return undefined;
	}
}

async function exists(file: string): Promise<boolean> {
	return fs.access(file).then(
		() => true,
		() => false,
	);
}
