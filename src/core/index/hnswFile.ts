/**
 * @file Checks an HNSW graph file (hnswlib's saveIndex layout) before hnswlib loads it.
 *
 * [Note: untrusted graphs] hnswlib trusts its file: a neighbour id past the element count, or a
 * header that asks for a huge allocation, makes the native code read out of bounds or abort — a
 * segmentation fault that takes the process (in the extension, the worker and the extension host)
 * down with it. An index can come with a repository (`.vscode/clip-search-index`) or be damaged on
 * disk, so every graph is walked here first: header fields that must agree with each other and with
 * the model's dimension, sizes that add up to the file's size, every neighbour id below the element
 * count, every list no longer than its level allows, finite vectors of length 1 for the live points. Anything else is IndexCorrupt,
 * which the writer answers by starting a fresh index and a reader by naming the file.
 *
 * Layout (little-endian, 64-bit size_t): offsetLevel0, maxElements, count, sizeDataPerElement,
 * labelOffset, offsetData (size_t each), maxLevel (int32), entryPoint (uint32), maxM, maxM0, M
 * (size_t), mult (double), efConstruction (size_t) = 96 bytes; then count level-0 records of
 * [uint32 list header (uint16 count, flags in byte 2), maxM0 × uint32 ids, dim × float32, uint64
 * label]; then per element a uint32 byte size and that many bytes of upper-level lists, each
 * [uint32 header, maxM × uint32 ids].
 */
import { ClipError } from '../common/errors';
import { vectorProblem } from '../common/vectors';

const HEADER = 96;
const DELETED = 0x01;

export interface HnswSummary {
	count: number;
	/** The external labels of the points not marked deleted. */
	labels: Set<number>;
	/** Each live point's vector by label (a view into the file's buffer). */
	vectors: Map<number, Float32Array>;
}

export function checkHnswFile(buf: Buffer, dim: number, file: string): HnswSummary {
	const bad = (why: string): never => {
		throw new ClipError('IndexCorrupt', `${file} is damaged or not an index graph (${why}).`, { file });
	};
	if (buf.length < HEADER) {
		bad(`${buf.length} bytes, shorter than its header`);
	}
	const size = (at: number): number => {
		const v = buf.readBigUInt64LE(at);
		return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
	};
	const offsetLevel0 = size(0);
	const maxElements = size(8);
	const count = size(16);
	const sizeDataPerElement = size(24);
	const labelOffset = size(32);
	const offsetData = size(40);
	const maxLevel = buf.readInt32LE(48);
	const entryPoint = buf.readUInt32LE(52);
	const maxM = size(56);
	const maxM0 = size(64);
	const M = size(72);
	const mult = buf.readDoubleLE(80);
	const efConstruction = size(88);
	const linksLevel0 = maxM0 * 4 + 4;
	const linksUpper = maxM * 4 + 4;
	if (offsetLevel0 !== 0 || offsetData !== linksLevel0 || labelOffset !== linksLevel0 + dim * 4 || sizeDataPerElement !== labelOffset + 8) {
		bad(`record layout does not fit ${dim}-d vectors`);
	}
	if (!(M >= 2 && M <= 1024 && maxM === M && maxM0 === 2 * M && Number.isFinite(mult) && efConstruction <= 1e6)) {
		bad('graph parameters out of range');
	}
	// hnswlib allocates for maxElements at load: bounded by what the store ever asks for (it doubles).
	if (!(count <= maxElements && maxElements <= Math.max(1 << 16, 4 * count))) {
		bad(`${count} elements in room for ${maxElements}`);
	}
	if (count === 0 ? maxLevel !== -1 : !(maxLevel >= 0 && maxLevel <= 64 && entryPoint < count)) {
		bad('entry point or top level out of range');
	}
	const upperStart = HEADER + count * sizeDataPerElement;
	if (upperStart > buf.length) {
		bad(`${buf.length} bytes, too short for ${count} elements`);
	}
	const labels = new Set<number>();
	const vectors = new Map<number, Float32Array>();
	const checkList = (at: number, max: number, what: string): void => {
		const n = buf.readUInt16LE(at);
		if (n > max) {
			bad(`${what} lists ${n} neighbours, more than ${max}`);
		}
		for (let j = 0; j < n; j++) {
			const id = buf.readUInt32LE(at + 4 + 4 * j);
			if (id >= count) {
				bad(`${what} names neighbour ${id}, past the ${count} elements`);
			}
		}
	};
	for (let i = 0; i < count; i++) {
		const at = HEADER + i * sizeDataPerElement;
		checkList(at, maxM0, `element ${i}`);
		const vector = new Float32Array(buf.buffer.slice(buf.byteOffset + at + offsetData, buf.byteOffset + at + offsetData + dim * 4));
		const label = size(at + labelOffset);
		if (!(buf[at + 2] & DELETED)) {
			// [Note: vectors from elsewhere] in common/vectors.ts: a flipped byte must not score 1e18.
			const problem = vectorProblem(vector, dim);
			if (problem) {
				bad(`element ${i} has a vector of ${problem}`);
			}
			labels.add(label);
			vectors.set(label, vector);
		} else if (vector.some(x => !Number.isFinite(x))) {
			bad(`element ${i} has a vector that is not finite`);
		}
	}
	let at = upperStart;
	for (let i = 0; i < count; i++) {
		if (at + 4 > buf.length) {
			bad('it ends inside the upper levels');
		}
		const bytes = buf.readUInt32LE(at);
		at += 4;
		if (bytes % linksUpper !== 0 || bytes / linksUpper > Math.max(0, maxLevel) || at + bytes > buf.length) {
			bad(`element ${i}'s upper levels do not fit`);
		}
		for (let level = 0; level < bytes / linksUpper; level++) {
			checkList(at + level * linksUpper, maxM, `element ${i} at level ${level + 1}`);
		}
		at += bytes;
	}
	if (at !== buf.length) {
		bad(`${buf.length - at} bytes left over`);
	}
	return { count, labels, vectors };
}
