/**
 * @file The inputs and outputs a graph declares (names and shapes), read from an ONNX file without
 * loading it: the protobuf fields are walked with small reads, the weights skipped by their length
 * prefix. For layouts whose files state no embedding size (rclip's), the size is the graph's own;
 * for every layout, the sizes the configs state are checked against these (specChecks.ts).
 */
import { onnx } from 'onnx-proto';
import { openRegularFile } from '../../common/confine';
import { ClipError } from '../../common/errors';

const MODEL_GRAPH = 7;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
/** A ValueInfoProto is a name and a shape: a few hundred bytes. A larger one is not read. */
const MAX_VALUE_INFO_BYTES = 64 * 1024;
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export interface GraphOutput {
	name: string;
	/** Each dimension's size, or its symbolic name (a dynamic axis). */
	dims: (number | string)[];
}

export interface GraphSignature {
	inputs: GraphOutput[];
	outputs: GraphOutput[];
}

export async function graphOutputs(file: string): Promise<GraphOutput[]> {
	return (await graphSignature(file)).outputs;
}

export async function graphSignature(file: string): Promise<GraphSignature> {
	const handle = await openRegularFile(file, 'the model file');
	try {
		const size = (await handle.stat()).size;
		const buf = Buffer.alloc(16);
		let pos = 0;
		/** A varint at `at`: its value and the position after it. */
		const varint = async (at: number): Promise<[number, number]> => {
			const { bytesRead } = await handle.read(buf, 0, 10, at);
			let value = 0;
			let scale = 1;
			for (let i = 0; i < bytesRead; i++) {
				value += (buf[i] & 0x7f) * scale;
				if (!(buf[i] & 0x80)) {
					return [value, at + i + 1];
				}
				scale *= 128;
			}
			throw new ClipError('ModelInvalid', `${file}: not an ONNX model (a field runs past the file's end).`, { file });
		};
		/** Skips one field's value of `wire` type at `at`. */
		const skip = async (wire: number, at: number): Promise<number> => {
			if (wire === WIRE_VARINT) {
				return (await varint(at))[1];
			}
			if (wire === WIRE_I64) {
				return at + 8;
			}
			if (wire === WIRE_I32) {
				return at + 4;
			}
			if (wire === WIRE_LEN) {
				const [len, next] = await varint(at);
				return next + len;
			}
			throw new ClipError('ModelInvalid', `${file}: not an ONNX model (wire type ${wire}).`, { file });
		};
		let graph: [number, number] | undefined;
		while (pos < size) {
			const [tag, next] = await varint(pos);
			if (tag >>> 3 === MODEL_GRAPH && (tag & 7) === WIRE_LEN) {
				const [len, start] = await varint(next);
				graph = [start, start + len];
				break;
			}
			pos = await skip(tag & 7, next);
		}
		if (!graph) {
			throw new ClipError('ModelInvalid', `${file}: not an ONNX model (no graph).`, { file });
		}
		const found: GraphSignature = { inputs: [], outputs: [] };
		for (pos = graph[0]; pos < graph[1]; ) {
			const [tag, next] = await varint(pos);
			const field = tag >>> 3;
			if ((field === GRAPH_OUTPUT || field === GRAPH_INPUT) && (tag & 7) === WIRE_LEN) {
				const [len, start] = await varint(next);
				if (len > MAX_VALUE_INFO_BYTES || start + len > graph[1]) {
					throw new ClipError('ModelInvalid', `${file}: not an ONNX model (a graph ${field === GRAPH_INPUT ? 'input' : 'output'} of ${len} bytes).`, { file });
				}
				const bytes = Buffer.alloc(len);
				await handle.read(bytes, 0, len, start);
				const info = onnx.ValueInfoProto.decode(bytes);
				(field === GRAPH_INPUT ? found.inputs : found.outputs).push({
					name: info.name ?? '',
					dims: (info.type?.tensorType?.shape?.dim ?? []).map(d => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
				});
				pos = start + len;
			} else {
				pos = await skip(tag & 7, next);
			}
		}
		return found;
	} finally {
		await handle.close();
	}
}
