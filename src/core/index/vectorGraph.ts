/**
 * @file The nearest-neighbour graph under an index: hnswlib's HNSW (a native addon) where it loads,
 * else an exact scan over the stored vectors, read from the same file, so that search keeps working.
 *
 * [Note: a native module that will not load] hnswlib-node is the one native module compiled for
 * the extension; a host older than its build target (glibc below 2.28), or a VSIX of another platform,
 * cannot load it. Then the error names the file, this host's glibc and what is needed; reading an
 * index falls back to an exact scan (the .hnsw file holds every vector: hnswFile.ts reads them), and
 * only writing — indexing — is refused with that message.
 */
import type hnswlibTypes from 'hnswlib-node';
import { ClipError, describeError } from '../common/errors';
import { readGraphBytes } from './catalogFile';
import { checkHnswFile } from './hnswFile';

export interface VectorGraph {
	readonly exact: boolean;
	initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number, allowReplaceDeleted: boolean): void;
	setEf(ef: number): void;
	readIndex(file: string, allowReplaceDeleted: boolean): Promise<boolean>;
	writeIndex(file: string): Promise<boolean>;
	getMaxElements(): number;
	resizeIndex(n: number): void;
	addPoint(vector: number[], label: number): void;
	markDelete(label: number): void;
	getPoint(label: number): number[];
	searchKnn(query: number[], k: number, filter?: (label: number) => boolean): { neighbors: number[]; distances: number[] };
}

let loaded: typeof hnswlibTypes | ClipError | undefined;

/** hnswlib-node, or the error that says why it does not load here. */
export function nativeHnsw(): typeof hnswlibTypes | ClipError {
	if (loaded === undefined) {
		try {
			if (process.env.CLIP_SEARCH_TEST_NO_NATIVE_INDEX) {
				throw new Error('hnswlib-node/build/Release/addon.node: not loaded (CLIP_SEARCH_TEST_NO_NATIVE_INDEX)');
			}
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			loaded = require('hnswlib-node') as typeof hnswlibTypes;
		} catch (err) {
			const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
			loaded = new ClipError(
				'NativeModuleUnavailable',
				`The native index module (hnswlib-node's addon.node) cannot be loaded on this ${process.platform}-${process.arch} host${glibc ? ` (glibc ${glibc})` : ''}: ${describeError(err)}. The extension's Linux builds need glibc 2.28 or later; on Windows and macOS install the extension built for this platform. Searches use an exact scan of the stored vectors meanwhile; indexing needs the module.`,
				{ cause: err },
			);
		}
	}
	return loaded;
}

/** An exact scan: reads an index that hnswlib wrote, answers as HNSW would (exactly), writes nothing. */
class ExactGraph implements VectorGraph {
	readonly exact = true;
	private vectors = new Map<number, Float32Array>();
	constructor(
		private readonly dim: number,
		private readonly why: ClipError,
	) {}
	initIndex(): void {}
	setEf(): void {}
	async readIndex(file: string): Promise<boolean> {
		this.vectors = checkHnswFile(await readGraphBytes(file), this.dim, file).vectors;
		return true;
	}
	writeIndex(): Promise<boolean> {
		throw this.why;
	}
	getMaxElements(): number {
		return Number.MAX_SAFE_INTEGER;
	}
	resizeIndex(): void {}
	addPoint(): void {
		throw this.why;
	}
	markDelete(label: number): void {
		this.vectors.delete(label);
	}
	getPoint(label: number): number[] {
		const v = this.vectors.get(label);
		if (!v) {
			throw new Error(`Label not found: ${label}`);
		}
		return Array.from(v);
	}
	searchKnn(query: number[], k: number, filter?: (label: number) => boolean): { neighbors: number[]; distances: number[] } {
		const scored: [number, number][] = [];
		for (const [label, v] of this.vectors) {
			if (filter && !filter(label)) {
				continue;
			}
			let s = 0;
			for (let d = 0; d < v.length; d++) {
				s += v[d] * query[d];
			}
			scored.push([label, 1 - s]); // hnswlib's inner-product distance
		}
		scored.sort((a, b) => a[1] - b[1]);
		const top = scored.slice(0, k);
		return { neighbors: top.map(x => x[0]), distances: top.map(x => x[1]) };
	}
}

/** A graph for `dim`-d vectors in the inner-product space: hnswlib's, else the exact scan. */
export function createGraph(dim: number, log?: (message: string) => void): VectorGraph {
	const native = nativeHnsw();
	if (native instanceof ClipError) {
		log?.(native.message);
		return new ExactGraph(dim, native);
	}
	const graph = new native.HierarchicalNSW('ip', dim) as unknown as VectorGraph;
	Object.defineProperty(graph, 'exact', { value: false });
	return graph;
}
