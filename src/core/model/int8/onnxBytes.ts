/**
 * @file Byte positions inside an ONNX file (a ModelProto), so that a conversion can change a few
 * tensors without decoding and re-encoding hundreds of megabytes: the graph's fields in order, and
 * for each initializer its name, data type byte and raw_data span.
 *
 * Field numbers (onnx.proto): ModelProto.graph = 7; GraphProto.initializer = 5; TensorProto
 * data_type = 2, name = 8, raw_data = 9.
 */
import type { promises as fs } from 'node:fs';
import { openRegularFile } from '../../common/confine';
import { onnx } from 'onnx-proto';
import { Reader, Writer } from 'protobufjs/minimal';

export interface TensorSpan {
	name: string;
	/** Where the initializer's field starts in the file (its tag) and ends. */
	fieldStart: number;
	fieldEnd: number;
	/** Where the TensorProto's own bytes start (after the field's tag and length). */
	contentStart: number;
	/** Offset of the data_type varint's byte. */
	dataTypeAt: number;
	/** raw_data's bytes, when the values are stored there (else in int32_data or float_data). */
	raw?: { start: number; end: number };
}

export interface GraphField {
	/** GraphProto's field number (5 for an initializer). */
	number: number;
	start: number;
	/** Where a length-delimited field's content starts. */
	contentStart: number;
	end: number;
}

export interface Located {
	/** ModelProto.graph's field: tag start, content start and end. */
	graph: { fieldStart: number; start: number; end: number };
	/** Every field of the graph, in file order. */
	fields: GraphField[];
	initializers: Map<string, TensorSpan>;
}

function readerAt(bytes: Uint8Array, start: number, end: number): Reader {
	const r = new Reader(bytes.subarray(0, end));
	r.pos = start;
	return r;
}

function lengthDelimited(r: Reader): { start: number; end: number } {
	const len = r.uint32();
	const start = r.pos;
	r.skip(len);
	return { start, end: start + len };
}

/** The graph's fields and initializers of an ONNX file, or undefined when it has no graph. */
export function locate(bytes: Uint8Array): Located | undefined {
	const model = readerAt(bytes, 0, bytes.length);
	while (model.pos < model.len) {
		const fieldStart = model.pos;
		const tag = model.uint32();
		if (tag >>> 3 !== 7 || (tag & 7) !== 2) {
			model.skipType(tag & 7);
			continue;
		}
		const g = lengthDelimited(model);
		const initializers = new Map<string, TensorSpan>();
		const fields: GraphField[] = [];
		const graph = readerAt(bytes, g.start, g.end);
		while (graph.pos < g.end) {
			const start = graph.pos;
			const gtag = graph.uint32();
			if ((gtag & 7) !== 2) {
				graph.skipType(gtag & 7);
				fields.push({ number: gtag >>> 3, start, contentStart: graph.pos, end: graph.pos });
				continue;
			}
			const t = lengthDelimited(graph);
			fields.push({ number: gtag >>> 3, start, contentStart: t.start, end: t.end });
			if (gtag >>> 3 !== 5) {
				continue;
			}
			const tensor = readerAt(bytes, t.start, t.end);
			let name: string | undefined;
			let dataTypeAt = -1;
			let raw: { start: number; end: number } | undefined;
			while (tensor.pos < t.end) {
				const ttag = tensor.uint32();
				const field = ttag >>> 3;
				if (field === 2 && (ttag & 7) === 0) {
					dataTypeAt = tensor.pos;
					tensor.uint32();
				} else if (field === 8 && (ttag & 7) === 2) {
					name = tensor.string();
				} else if (field === 9 && (ttag & 7) === 2) {
					raw = lengthDelimited(tensor);
				} else {
					tensor.skipType(ttag & 7);
				}
			}
			if (name !== undefined && dataTypeAt >= 0) {
				initializers.set(name, { name, fieldStart: start, fieldEnd: t.end, contentStart: t.start, dataTypeAt, raw });
			}
		}
		return { graph: { fieldStart, start: g.start, end: g.end }, fields, initializers };
	}
	return undefined;
}

export function concat(parts: Uint8Array[]): Uint8Array {
	// Not zeroed first (every byte is written below); a plain Uint8Array over it, as the input was.
	const buffer = Buffer.allocUnsafeSlow(parts.reduce((n, p) => n + p.length, 0));
	const out = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

/** A length-delimited field: tag, length, bytes. */
export function field(number: number, content: Uint8Array): Uint8Array {
	return concat([Writer.create().uint32((number << 3) | 2).uint32(content.length).finish(), content]);
}

/** Whether two byte ranges hold the same bytes (Buffer.compare: native speed). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** Whether the file holds exactly the parts in turn, read a few megabytes at a time (no copy of a large file). */
export async function fileEqualsParts(file: string, parts: readonly Uint8Array[]): Promise<boolean> {
	const total = parts.reduce((n, p) => n + p.length, 0);
	const handle = await openRegularFile(file, 'the cached model').catch(() => undefined);
	if (!handle) {
		return false;
	}
	try {
		const stat = await handle.stat();
		if (!stat.isFile() || stat.size !== total) {
			return false;
		}
		const chunk = Buffer.allocUnsafe(4 << 20);
		let position = 0;
		for (const part of parts) {
			for (let at = 0; at < part.length; ) {
				const want = Math.min(chunk.length, part.length - at);
				const { bytesRead } = await handle.read(chunk, 0, want, position);
				if (bytesRead !== want || !sameBytes(chunk.subarray(0, want), part.subarray(at, at + want))) {
					return false;
				}
				at += want;
				position += want;
			}
		}
		return true;
	} finally {
		await handle.close();
	}
}

/** Reads varints and small fields of a file at positions, without reading what lies between. */
class FileFields {
	private constructor(
		private readonly handle: fs.FileHandle,
		readonly size: number,
	) {}

	static async open(file: string): Promise<FileFields> {
		const handle = await openRegularFile(file, 'the model file');
		return new FileFields(handle, (await handle.stat()).size);
	}

	close(): Promise<void> {
		return this.handle.close();
	}

	async bytes(position: number, length: number): Promise<Uint8Array> {
		const out = Buffer.alloc(Math.max(0, Math.min(length, this.size - position)));
		await this.handle.read(out, 0, out.length, position);
		return out;
	}

	/** A field's tag and, for a length-delimited one, where its content starts and ends. */
	async field(position: number): Promise<{ number: number; wire: number; start: number; end: number }> {
		const head = await this.bytes(position, 20);
		const r = new Reader(head);
		const tag = r.uint32();
		const wire = tag & 7;
		if (wire === 2) {
			const len = r.uint32();
			return { number: tag >>> 3, wire, start: position + r.pos, end: position + r.pos + len };
		}
		r.skipType(wire);
		return { number: tag >>> 3, wire, start: position + r.pos, end: position + r.pos };
	}
}

/**
 * Whether a graph has a MatMulInteger with uint8 weights stored as an initializer: read from the
 * nodes and from each initializer's first bytes (its dims, data type and name come before its data:
 * protobuf writes fields in number order), so a model with nothing to convert (a text tower with int8
 * weights) is known without reading its hundreds of megabytes.
 */
export async function hasUint8MatMulWeights(file: string): Promise<boolean> {
	const f = await FileFields.open(file);
	try {
		let graph: { start: number; end: number } | undefined;
		for (let at = 0; at < f.size && !graph; ) {
			const field = await f.field(at);
			if (field.number === 7 && field.wire === 2) {
				graph = field;
			}
			at = field.end;
		}
		if (!graph) {
			return false;
		}
		const weights = new Set<string>();
		const uint8 = new Set<string>();
		for (let at = graph.start; at < graph.end; ) {
			const field = await f.field(at);
			if (field.number === 1 && field.wire === 2) {
				const node = onnx.NodeProto.decode(await f.bytes(field.start, field.end - field.start));
				if (node.opType === 'MatMulInteger' && node.input[1]) {
					weights.add(node.input[1]);
				}
			} else if (field.number === 5 && field.wire === 2) {
				// The tensor's fields one by one (a tag and a length each), its data skipped, not read.
				let dataType = -1;
				let name: string | undefined;
				for (let p = field.start; p < field.end && (name === undefined || dataType < 0); ) {
					const inner = await f.field(p);
					if (inner.number === 2 && inner.wire === 0) {
						dataType = readVarintAfterTag(await f.bytes(p, 20));
					} else if (inner.number === 8 && inner.wire === 2) {
						name = Buffer.from(await f.bytes(inner.start, inner.end - inner.start)).toString('utf8');
					}
					p = inner.end;
				}
				if (name !== undefined && dataType === onnx.TensorProto.DataType.UINT8) {
					uint8.add(name);
				}
			}
			at = field.end;
		}
		return [...weights].some(w => uint8.has(w));
	} finally {
		await f.close();
	}
}

/** A varint field's value (the bytes start at its tag). */
function readVarintAfterTag(bytes: Uint8Array): number {
	const r = new Reader(bytes);
	r.uint32();
	return r.uint32();
}

/** How many values a tensor holds (the product of its dims). */
export const count = (t: onnx.ITensorProto): number => (t.dims ?? []).reduce<number>((n, d) => n * Number(d), 1);

/** A uint8 or int8 initializer's values as stored (raw bytes, or int32_data). */
export function byteValues(t: onnx.TensorProto): ArrayLike<number> {
	return t.rawData?.length ? t.rawData : t.int32Data;
}
