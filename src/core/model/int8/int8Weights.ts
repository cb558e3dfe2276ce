/**
 * @file int8 at the hardware's speed: rewrites the uint8 weights of a quantized model's
 * MatMulInteger nodes as int8 weights, once per model file (int8Twin.ts keeps the result).
 *
 * [Note: U8U8 → U8S8] transformers.js quantizes vision towers with uint8 weights (QUInt8), because
 * onnxruntime-web lacked an int8-weight ConvInteger. On x86-64, onnxruntime's MLAS uses its fast
 * kernels (VNNI's dot products, or AVX2's vpmaddubsw) only for uint8 activations × int8 weights;
 * uint8 × uint8 runs on older, about 2× slower kernels. Two twins:
 * - **full** (lossless): MatMulInteger computes (A − a_zp)·(B − b_zp), so B' = B − 128 with
 *   b_zp' = b_zp − 128 gives every product unchanged. For a byte, x − 128 is x XOR 0x80, and UINT8 (2)
 *   and INT8 (3) are both one-byte varints: the weights change in place. Exact only where U8S8 sums
 *   are exact (VNNI: int8Kernels.ts).
 * - **reduced** (7-bit weights, for CPUs without VNNI): vpmaddubsw adds two u8×s8 products into a
 *   saturating int16; weights in [−64, 63] keep 2·255·64 = 32,640 below 32,767, so nothing saturates.
 *   Each weight group (a column where the scale is per channel, else the tensor) is requantised:
 *   q = round((B − zp)/f) with f = max(1, range/127) over a range that includes 0, stored as q − o
 *   with the zero point −o (o centres q in [−64, 63]); the group's float scale becomes scale·f. The
 *   granularity of the scales is kept. Only where the scale reaches the product as quantize_dynamic
 *   writes it (MatMulInteger → Cast → Mul by Mul(activation scale, weight scale)) and no other node
 *   reads the weights, zero point or scale; any other node keeps its uint8 weights (exact, U8U8).
 *   Lossy: int8Twin.ts checks the twin against the original before using it.
 *
 * The file is not decoded whole: onnxBytes.ts finds each field's bytes, the nodes and the small
 * tensors are decoded alone, the weights change in place and the few re-encoded tensors (zero
 * points, scales) are spliced in. ConvInteger (ViT's patch embedding: one node) is left as it is:
 * onnxruntime 1.30's CPU ConvInteger accepts int8 weights but ran 4.9× slower with them (23.6 vs
 * 4.8 ms for a batch of 8 ViT-B/32 patch embeddings, Python onnxruntime 1.30, 2-core AMD EPYC).
 */
import { onnx } from 'onnx-proto';
import { Writer } from 'protobufjs/minimal';
import { byteValues, concat, count, field, type Located, locate, type TensorSpan } from './onnxBytes';
import { snapshot, verify } from './int8Verify';
import type { TwinKind } from './int8Kernels';

/** Bumped whenever a conversion changes: twins of another version are not reused. */
export const CONVERTER_VERSION = 2;


const T = onnx.TensorProto.DataType;

export interface ConversionReport {
	kind: TwinKind;
	/** MatMulInteger nodes whose weights are int8 now. */
	nodes: number;
	/** Initializers rewritten (weights, zero points, scales). */
	tensors: number;
	/** MatMulInteger nodes with uint8 weights left as they are, and why. */
	skipped: string[];
}

interface Init {
	span: TensorSpan;
	tensor: onnx.TensorProto;
}

interface Graph {
	located: Located;
	nodes: onnx.NodeProto[];
	inits: Map<string, Init>;
	/** Who reads each name: node index and input slot. */
	readers: Map<string, { node: number; slot: number }[]>;
	/** Which node writes each name. */
	writer: Map<string, number>;
	/** Names read inside subgraphs (If/Loop bodies): such initializers are left alone. */
	nested: Set<string>;
}

function subgraphInputs(graph: onnx.IGraphProto, into: Set<string>): void {
	for (const node of graph.node ?? []) {
		(node.input ?? []).forEach(i => into.add(i));
		for (const attr of node.attribute ?? []) {
			for (const g of [attr.g, ...(attr.graphs ?? [])]) {
				if (g) {
					subgraphInputs(g, into);
				}
			}
		}
	}
}

/** The graph's nodes and initializers, decoded one by one from their bytes (weights stay views). */
function readGraph(bytes: Uint8Array): Graph | undefined {
	const located = locate(bytes);
	if (!located) {
		return undefined;
	}
	const nodes = located.fields.filter(f => f.number === 1).map(f => onnx.NodeProto.decode(bytes.subarray(f.contentStart, f.end)));
	const inits = new Map<string, Init>();
	for (const span of located.initializers.values()) {
		inits.set(span.name, { span, tensor: onnx.TensorProto.decode(bytes.subarray(span.contentStart, span.fieldEnd)) });
	}
	const readers = new Map<string, { node: number; slot: number }[]>();
	const writer = new Map<string, number>();
	const nested = new Set<string>();
	nodes.forEach((node, i) => {
		node.input.forEach((name, slot) => {
			let list = readers.get(name);
			if (!list) {
				readers.set(name, (list = []));
			}
			list.push({ node: i, slot });
		});
		node.output.forEach(name => writer.set(name, i));
		for (const attr of node.attribute) {
			for (const g of [attr.g, ...(attr.graphs ?? [])]) {
				if (g) {
					subgraphInputs(g, nested);
				}
			}
		}
	});
	return { located, nodes, inits, readers, writer, nested };
}



/** A float initializer's values (raw little-endian bytes, or float_data). */
function floatValues(t: onnx.TensorProto): Float32Array | undefined {
	if (t.dataType !== T.FLOAT) {
		return undefined;
	}
	if (t.rawData?.length) {
		return t.rawData.length % 4 ? undefined : new Float32Array(Uint8Array.from(t.rawData).buffer);
	}
	return Float32Array.from(t.floatData);
}

function tensorField(t: onnx.ITensorProto): Uint8Array {
	return field(5, onnx.TensorProto.encode(onnx.TensorProto.create(t)).finish());
}

/** The one node reading `name`, when exactly one does. */
function onlyReader(g: Graph, name: string): onnx.NodeProto | undefined {
	const r = g.readers.get(name) ?? [];
	return r.length === 1 && !g.nested.has(name) ? g.nodes[r[0].node] : undefined;
}

/**
 * The weight scale of a MatMulInteger as quantize_dynamic writes it: Y → Cast → Mul(·, S) with
 * S = Mul(activation scale, weight scale), each read by that one node; undefined otherwise.
 */
function weightScaleOf(g: Graph, node: onnx.NodeProto): string | undefined {
	const cast = onlyReader(g, node.output[0]);
	if (cast?.opType !== 'Cast') {
		return undefined;
	}
	const mul = onlyReader(g, cast.output[0]);
	if (mul?.opType !== 'Mul' || mul.input.length !== 2) {
		return undefined;
	}
	const s = mul.input[0] === cast.output[0] ? mul.input[1] : mul.input[0];
	const scales = g.writer.has(s) ? g.nodes[g.writer.get(s)!] : undefined;
	if (scales?.opType !== 'Mul' || onlyReader(g, s) !== mul) {
		return undefined;
	}
	const weightScale = scales.input.find(i => g.inits.has(i) && onlyReader(g, i) === scales);
	return weightScale;
}

/** A conversion's result. */
export interface Conversion {
	/** The converted file, in parts to be written (or compared) in turn. */
	parts: Uint8Array[];
	/** The parts joined (made on first use). */
	readonly bytes: Uint8Array;
	report: ConversionReport;
}

/**
 * Rewrites the uint8 weights of every MatMulInteger node that can be converted, as the `kind` of
 * twin says ([Note: U8U8 → U8S8]). Returns the file in parts and what was done; the input when
 * nothing was. The input is not changed, unless `inPlace` (a buffer read for this alone: one
 * allocation of the model's size fewer, which is most of the time on a large file).
 */
export function convertMatMulWeights(bytes: Uint8Array, kind: TwinKind, options: { inPlace?: boolean } = {}): Conversion {
	const report: ConversionReport = { kind, nodes: 0, tensors: 0, skipped: [] };
	const g = readGraph(bytes);
	if (!g) {
		return twinResult([bytes], report);
	}
	const uint8Init = (name: string | undefined): Init | undefined => {
		const init = name ? g.inits.get(name) : undefined;
		if (!init || init.tensor.dataType !== T.UINT8 || g.nested.has(name!)) {
			return undefined;
		}
		const n = count(init.tensor);
		return (init.span.raw ? init.span.raw.end - init.span.raw.start : init.tensor.int32Data.length) === n ? init : undefined;
	};
	const label = (node: onnx.NodeProto, i: number): string => node.name || `node ${i}`;
	// Candidates: MatMulInteger with uint8 weights and a uint8 weight zero point, both initializers.
	const candidates = new Set<number>();
	g.nodes.forEach((node, i) => {
		if (node.opType !== 'MatMulInteger' || !uint8Init(node.input[1])) {
			return;
		}
		if (!uint8Init(node.input[3])) {
			report.skipped.push(`${label(node, i)}: its weight zero point is not a uint8 initializer`);
			return;
		}
		candidates.add(i);
	});
	// A shared initializer converts only if every reader is a candidate reading it in the same slot
	// (the reduced twin: only if no other node reads it at all); drop candidates until that holds.
	for (let changed = true; changed; ) {
		changed = false;
		for (const i of [...candidates]) {
			const node = g.nodes[i];
			const ok = [1, 3].every(slot => {
				const readers = g.readers.get(node.input[slot]) ?? [];
				return kind === 'reduced' ? readers.length === 1 : readers.every(r => candidates.has(r.node) && r.slot === slot);
			});
			if (!ok) {
				candidates.delete(i);
				report.skipped.push(`${label(node, i)}: its weights are also read by another node`);
				changed = true;
			}
		}
	}
	const before = snapshot(bytes, g.located);
	const out = options.inPlace ? bytes : new Uint8Array(bytes);
	const replaced: { span: TensorSpan; field: Uint8Array }[] = [];
	const done = new Set<string>();
	const setInt8 = (init: Init): void => {
		if (out[init.span.dataTypeAt] !== T.UINT8) {
			throw new Error(`${init.span.name}: unexpected data_type byte ${out[init.span.dataTypeAt]}`);
		}
		out[init.span.dataTypeAt] = T.INT8;
	};
	for (const i of candidates) {
		const node = g.nodes[i];
		const weights = g.inits.get(node.input[1])!;
		const zero = g.inits.get(node.input[3])!;
		if (kind === 'full') {
			for (const init of [weights, zero]) {
				if (done.has(init.span.name)) {
					continue;
				}
				done.add(init.span.name);
				if (init.span.raw) {
					setInt8(init);
					flipHighBits(out, init.span.raw.start, init.span.raw.end);
				} else {
					// Stored as raw bytes (one per value; negative int32 varints would take ten).
					const shifted = Uint8Array.from(init.tensor.int32Data, v => (v - 128) & 0xff);
					replaced.push({ span: init.span, field: tensorField({ ...init.tensor, dataType: T.INT8, int32Data: [], rawData: shifted }) });
				}
			}
			report.nodes++;
			continue;
		}
		const reduced = requantize(g, node, weights, zero, out);
		if (typeof reduced === 'string') {
			report.skipped.push(`${label(node, i)}: ${reduced}`);
			continue;
		}
		setInt8(weights);
		replaced.push({ span: zero.span, field: tensorField({ ...zero.tensor, dataType: T.INT8, dims: reduced.zeroDims, int32Data: [], rawData: reduced.zero }) });
		const scale = g.inits.get(reduced.scaleName)!;
		replaced.push({ span: scale.span, field: tensorField({ ...scale.tensor, floatData: [], rawData: new Uint8Array(reduced.scale.buffer) }) });
		[weights, zero, scale].forEach(t => done.add(t.span.name));
		report.nodes++;
	}
	report.tensors = done.size;
	if (!report.nodes) {
		return twinResult([bytes], report);
	}
	const byStart = new Map(replaced.map(r => [r.span.fieldStart, r.field]));
	verify(before, out, g.located, byStart, done, kind);
	// The file in parts (the weights are not copied again): what precedes the graph, the graph's tag and
	// length, its fields (the replaced ones new), what follows it.
	const graphParts = g.located.fields.map(f => byStart.get(f.start) ?? out.subarray(f.start, f.end));
	const graphLength = graphParts.reduce((n, p) => n + p.length, 0);
	const parts = [out.subarray(0, g.located.graph.fieldStart), Writer.create().uint32((7 << 3) | 2).uint32(graphLength).finish(), ...graphParts, out.subarray(g.located.graph.end)];
	return twinResult(parts, report);
}

/** A conversion's result: its parts, and the bytes joined when someone asks (tests). */
function twinResult(parts: Uint8Array[], report: ConversionReport): Conversion {
	let joined: Uint8Array | undefined;
	return {
		parts,
		report,
		get bytes() {
			return (joined ??= parts.length === 1 ? parts[0] : concat(parts));
		},
	};
}

/** The reduced-range weights, zero point and scale of one node (see the note), or why not. */
function requantize(g: Graph, node: onnx.NodeProto, weights: Init, zero: Init, into: Uint8Array): { zero: Uint8Array; zeroDims: number[]; scale: Float32Array; scaleName: string } | string {
	const dims = weights.tensor.dims.map(Number);
	if (dims.length !== 2 || !weights.span.raw) {
		return 'its weights are not a matrix stored as raw bytes';
	}
	const [k, n] = dims;
	const scaleName = weightScaleOf(g, node);
	const scale = scaleName ? floatValues(g.inits.get(scaleName)!.tensor) : undefined;
	if (!scaleName || !scale) {
		return 'its weight scale is not where quantize_dynamic puts it';
	}
	const zp = byteValues(zero.tensor);
	if (![1, n].includes(scale.length) || ![1, n].includes(zp.length)) {
		return `its scale (${scale.length}) or zero point (${zp.length}) is neither per tensor nor per column of ${n}`;
	}
	const perColumnScale = scale.length === n;
	const w = weights.tensor.rawData;
	// Each column's zero point, and each scale group's range of (B − zp), with 0 inside it.
	const zpc = Int32Array.from({ length: n }, (_, c) => zp[zp.length === 1 ? 0 : c]);
	const lo = new Int32Array(n);
	const hi = new Int32Array(n);
	for (let r = 0, at = 0; r < k; r++) {
		for (let c = 0; c < n; c++, at++) {
			const v = w[at] - zpc[c];
			if (v < lo[c]) lo[c] = v;
			if (v > hi[c]) hi[c] = v;
		}
	}
	if (!perColumnScale) {
		const l = Math.min(...lo);
		const h = Math.max(...hi);
		lo.fill(l);
		hi.fill(h);
	}
	const factor = Float64Array.from(lo, (l, c) => Math.max(1, (hi[c] - l) / 127));
	// The offset that puts each group's q in [−64, 63]; the zero point is its negation.
	const offset = Int32Array.from(lo, (l, c) => Math.round(l / factor[c]) + 64);
	// A weight is a byte: each column's 256 answers are worked out once, then looked up.
	const table = new Uint8Array(n * 256);
	for (let c = 0; c < n; c++) {
		for (let byte = 0; byte < 256; byte++) {
			const q = Math.round((byte - zpc[c]) / factor[c]) - offset[c];
			table[c * 256 + byte] = (q < -64 ? -64 : q > 63 ? 63 : q) & 0xff;
		}
	}
	// Written straight into the output (where the weights are read from, when in place: each byte is read before it is written).
	const outWeights = into.subarray(weights.span.raw.start, weights.span.raw.end);
	for (let r = 0, at = 0; r < k; r++) {
		for (let c = 0, base = 0; c < n; c++, at++, base += 256) {
			outWeights[at] = table[base + w[at]];
		}
	}
	const columns = zp.length === n || perColumnScale ? n : 1;
	const outZero = Uint8Array.from({ length: columns }, (_, c) => -offset[c] & 0xff);
	const outScale = Float32Array.from(scale, (s, gi) => s * factor[gi]);
	return { zero: outZero, zeroDims: columns === 1 ? zero.tensor.dims.map(Number) : [n], scale: outScale, scaleName };
}

/** x XOR 0x80 over bytes[start, end), four bytes at a time where aligned. */
function flipHighBits(bytes: Uint8Array, start: number, end: number): void {
	let p = start;
	while (p < end && (bytes.byteOffset + p) % 4) {
		bytes[p++] ^= 0x80;
	}
	const words = Math.floor((end - p) / 4);
	const view = new Uint32Array(bytes.buffer, bytes.byteOffset + p, words);
	for (let w = 0; w < words; w++) {
		view[w] ^= 0x80808080;
	}
	for (p += words * 4; p < end; p++) {
		bytes[p] ^= 0x80;
	}
}
