/**
 * @file The check every int8 twin passes before it is written or compared ([Note: U8U8 → U8S8] in
 * int8Weights.ts): a snapshot of the graph's fields taken before any byte changes, and the result
 * compared with it field by field.
 */
import { onnx } from 'onnx-proto';
import { Reader } from 'protobufjs/minimal';
import { byteValues, count, type Located, sameBytes } from './onnxBytes';
import type { TwinKind } from './int8Kernels';

const T = onnx.TensorProto.DataType;

export interface Snapshot {
	/** The graph's fields: their kind, length, and (not initializers) their bytes. */
	fields: { number: number; length: number; bytes?: Uint8Array; tensor?: { name: string; dataType: number; values: number[] } }[];
	head: Uint8Array;
	tail: Uint8Array;
}

/** What verify compares the result with, taken before any byte changes (small: no weights). */
export function snapshot(bytes: Uint8Array, located: Located): Snapshot {
	return {
		head: bytes.slice(0, located.graph.fieldStart),
		tail: bytes.slice(located.graph.end),
		fields: located.fields.map(f => {
			if (f.number !== 5) {
				return { number: f.number, length: f.end - f.start, bytes: bytes.slice(f.start, f.end) };
			}
			const t = onnx.TensorProto.decode(bytes.subarray(f.contentStart, f.end));
			// Small uint8 tensors (zero points) keep their values for the check; weights only their kind.
			const values = t.dataType === T.UINT8 && count(t) <= 65536 ? Array.from(byteValues(t)) : [];
			return { number: 5, length: f.end - f.start, tensor: { name: t.name, dataType: t.dataType, values } };
		}),
	};
}

/** A length-delimited field's content (after its tag and length). */
function contentOf(fieldBytes: Uint8Array): Uint8Array {
	const r = new Reader(fieldBytes);
	r.uint32();
	const len = r.uint32();
	return fieldBytes.subarray(r.pos, r.pos + len);
}

/**
 * Checks the result field by field against the snapshot taken before: the graph's other fields keep
 * their bytes, tensors not converted their length, name and kind; converted weights are int8, zero
 * points shifted (full) or weights within [−64, 63] (reduced).
 */
export function verify(before: Snapshot, out: Uint8Array, located: Located, replaced: Map<number, Uint8Array>, converted: Set<string>, kind: TwinKind): void {
	if (!sameBytes(before.head, out.subarray(0, located.graph.fieldStart)) || !sameBytes(before.tail, out.subarray(located.graph.end))) {
		throw new Error('the converted file differs outside its graph');
	}
	located.fields.forEach((f, i) => {
		const fa = before.fields[i];
		const now = replaced.get(f.start) ?? out.subarray(f.start, f.end);
		if (fa.bytes) {
			if (!sameBytes(fa.bytes, now)) {
				throw new Error(`graph field ${i} changed although it is not a tensor`);
			}
			return;
		}
		const o = fa.tensor!;
		const t = onnx.TensorProto.decode(contentOf(now));
		if (t.name !== o.name) {
			throw new Error(`initializer ${o.name} changed its name`);
		}
		if (!converted.has(o.name)) {
			if (now.length !== fa.length || t.dataType !== o.dataType) {
				throw new Error(`${o.name}: changed although it was not converted`);
			}
			return;
		}
		if (o.dataType === T.FLOAT) {
			if (kind !== 'reduced' || t.dataType !== T.FLOAT) {
				throw new Error(`${t.name}: its scale was not rewritten as intended`);
			}
			return;
		}
		const values = byteValues(t);
		if (t.dataType !== T.INT8) {
			throw new Error(`${t.name}: not converted as intended`);
		}
		if (kind === 'full' && o.values.length) {
			if (values.length !== o.values.length || o.values.some((v, j) => ((values[j] << 24) >> 24) !== v - 128)) {
				throw new Error(`${t.name}: not converted as intended`);
			}
		} else if (kind === 'reduced' && t.dims.length === 2) {
			const signed = new Int8Array(t.rawData.buffer, t.rawData.byteOffset, t.rawData.length);
			for (let j = 0; j < signed.length; j++) {
				if (signed[j] < -64 || signed[j] > 63) {
					throw new Error(`${t.name}: a weight outside the reduced range`);
				}
			}
		}
	});
}
