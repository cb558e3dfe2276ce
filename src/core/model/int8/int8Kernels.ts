/**
 * @file Whether this CPU multiplies uint8 activations by int8 weights (U8S8) exactly.
 *
 * [Note: U8S8 saturation] onnxruntime's x86 kernels for U8S8 use VNNI's vpdpbusd where the CPU has
 * it: exact 32-bit sums. Without VNNI (AVX2, or AVX-512 without VNNI) they use vpmaddubsw, which
 * adds two u8×s8 products into a saturating int16: 255·127 + 255·127 = 64,770 becomes 32,767.
 * onnxruntime's quantization guide warns about it. Quantizers avoid it with reduced-range weights;
 * transformers.js' uint8 weights shifted to int8 (int8Weights.ts) use the full range, so on such a
 * CPU the shifted tower's vectors drift far from the original (worst image cosine 0.90 on the tiny
 * model, 0.76 against fp32, measured here on an AMD EPYC with AVX2 and no VNNI). Rather than guess
 * from CPU flags (which differ by OS and are hidden by some hypervisors), one MatMulInteger whose
 * sums must saturate is run once per process: exact answers mean the conversion is safe here.
 */
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';

const M = 4;
const K = 64;
const N = 16;

/** A graph of one MatMulInteger: uint8 input A [M,K] × int8 weights B [K,N] (all 127) → int32 Y. */
function probeModel(): Uint8Array {
	const T = onnx.TensorProto.DataType;
	const valueInfo = (name: string, elemType: number, dims: number[]): onnx.IValueInfoProto => ({
		name,
		type: { tensorType: { elemType, shape: { dim: dims.map(d => ({ dimValue: d })) } } },
	});
	const model = onnx.ModelProto.create({
		irVersion: 8,
		opsetImport: [{ domain: '', version: 13 }],
		graph: {
			name: 'u8s8-probe',
			node: [{ opType: 'MatMulInteger', input: ['A', 'B', 'a_zero', 'b_zero'], output: ['Y'] }],
			initializer: [
				{ name: 'B', dataType: T.INT8, dims: [K, N], rawData: new Uint8Array(K * N).fill(127) },
				{ name: 'a_zero', dataType: T.UINT8, dims: [], rawData: new Uint8Array([0]) },
				{ name: 'b_zero', dataType: T.INT8, dims: [], rawData: new Uint8Array([0]) },
			],
			input: [valueInfo('A', T.UINT8, [M, K])],
			output: [valueInfo('Y', T.INT32, [M, N])],
		},
	});
	return onnx.ModelProto.encode(model).finish();
}

/**
 * Which int8 weights the CPU runs ([Note: U8U8 → U8S8] in int8Weights.ts): `auto` chooses by the probe
 * below (the full-range twin where U8S8 is exact, else the reduced-range one); `full`, `reduced` and
 * `off` (the uint8 file as it is) force one, so that every path can be tested on any CPU.
 */
export type Int8Kernels = 'auto' | 'full' | 'reduced' | 'off';

/** The two twins int8Weights.ts makes: full-range int8 weights, or 7-bit ones. */
export type TwinKind = 'full' | 'reduced';

export const INT8_KERNELS: readonly Int8Kernels[] = ['auto', 'full', 'reduced', 'off'];

/** CLIP_SEARCH_INT8_KERNELS, when it names a choice (else undefined: the caller's setting, or auto). */
export function int8KernelsFromEnv(env: NodeJS.ProcessEnv = process.env): Int8Kernels | undefined {
	const v = env.CLIP_SEARCH_INT8_KERNELS?.trim().toLowerCase();
	return v && (INT8_KERNELS as readonly string[]).includes(v) ? (v as Int8Kernels) : undefined;
}

let verdict: Promise<boolean> | undefined;

/** True when U8S8 MatMulInteger gives exact sums on this CPU (see the note); measured once a process. */
export function u8s8IsExact(): Promise<boolean> {
	verdict ??= (async () => {
		const session = await ort.InferenceSession.create(probeModel(), { intraOpNumThreads: 1 });
		try {
			const out = await session.run({ A: new ort.Tensor('uint8', new Uint8Array(M * K).fill(255), [M, K]) });
			const y = out.Y.data as Int32Array;
			return y.length === M * N && y.every(v => v === K * 255 * 127);
		} finally {
			await session.release();
		}
	})().catch(() => false);
	return verdict;
}
