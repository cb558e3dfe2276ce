/**
 * @file The nearest images among those that pass a filter (query filters, a scope, left-out paths).
 *
 * [Note: exact under a filter] HNSW finds the nearest neighbours of all images; asked to skip those a
 * filter refuses, it walks about ef / (share passing) nodes, calling back into JavaScript for each
 * (23 ms at 10 % of 100,000), and on a sparse share it comes back short or misses good ones. So:
 * - few images pass (at most EXACT_SCAN_MAX): their vectors are scored one by one, exactly, from a
 *   block copied out of the graph once per filter (reading a vector out of hnswlib costs ~90 µs, so
 *   the first query under a new filter pays for the copy; the next ones scan the block);
 * - many pass: the graph is searched without the filter for the k / share × 4 nearest, and those that
 *   pass are kept; while fewer than k pass, the list grows ×4 (as pgvector's iterative scans do), and
 *   past the whole index the scan takes over.
 * `npm run bench -- --only queries` (figure 7) measures both at 100,000 images with 0.1 %, 1 %, 10 %
 * and 100 % passing, with recall against brute force.
 *
 * Which images pass is worked out once per filter and index state (cached on the store's change
 * counter), so a person refining the words of a query under the same filters pays for them once.
 */
import type { FileEntry } from '../index/catalogFile';
import { keepTop } from '../index/exactBlock';
import { GRAPH_EF_SEARCH, type IndexStore, type SearchHit } from '../index/indexStore';

export const EXACT_SCAN_MAX = 2_000;
/** The graph's candidate list starts here at least (figure 6: recall 1.000 at 100 and 200 on 100,000 images); the same floor as a search without a filter. */
const MIN_EF = GRAPH_EF_SEARCH;

/** The labels that pass, and (for the scan) their vectors in one block. */
export interface PassingSet {
	labels: Set<number>;
	block?: { labels: Int32Array; vectors: Float32Array; dim: number };
}

/** The labels (contents) at least one of whose files passes `pass`. */
export function passingLabels(store: IndexStore, pass: (rel: string, entry: FileEntry) => boolean): Set<number> {
	const labels = new Set<number>();
	for (const [rel, entry] of store.files) {
		if (!entry.hash || entry.error) {
			continue;
		}
		const label = store.labelOf(entry.hash);
		if (label !== undefined && !labels.has(label) && pass(rel, entry)) {
			labels.add(label);
		}
	}
	return labels;
}

const cache = new WeakMap<IndexStore, { key: string; changes: number; set: PassingSet }>();

/** passingLabels, remembered (with its vector block) for the same `key` while the index does not change. */
export function cachedPassingSet(store: IndexStore, key: string | undefined, pass: (rel: string, entry: FileEntry) => boolean): PassingSet {
	const hit = key === undefined ? undefined : cache.get(store);
	if (hit && hit.key === key && hit.changes === store.changeCount) {
		return hit.set;
	}
	const set: PassingSet = { labels: passingLabels(store, pass) };
	if (key !== undefined) {
		cache.set(store, { key, changes: store.changeCount, set });
	}
	return set;
}

export interface TopKOptions {
	ef?: number;
	/** The scan/graph switch (tests set it to exercise both ways). */
	exactScanMax?: number;
}

/** The `k` nearest contents to `vector` among `pass` (all when undefined), best first. */
export function topK(store: IndexStore, vector: Float32Array, k: number, pass: PassingSet | undefined, options: TopKOptions = {}): SearchHit[] {
	if (!pass) {
		return store.search(vector, k, { ef: options.ef });
	}
	const size = pass.labels.size;
	if (size === 0 || k <= 0) {
		return [];
	}
	if (store.exact) {
		// [Note: exact answers] in index/exactBlock.ts: the store scores every vector itself.
		return store.search(vector, k, { accept: label => pass.labels.has(label) });
	}
	if (size <= (options.exactScanMax ?? EXACT_SCAN_MAX)) {
		return scan(store, vector, k, pass);
	}
	const live = store.vectorCount;
	const want = Math.min(k, size);
	for (let n = Math.ceil((k * 4 * live) / size); ; n *= 4) {
		const asked = Math.min(n, live);
		const hits = store.search(vector, asked, { ef: Math.max(options.ef ?? MIN_EF, 2 * asked) }).filter(h => pass.labels.has(h.label));
		if (hits.length >= want) {
			return hits.slice(0, k);
		}
		if (asked >= live) {
			break;
		}
	}
	return scan(store, vector, k, pass);
}

/** The exact top k of the passing set, from its vector block (copied out of the graph the first time). */
function scan(store: IndexStore, query: Float32Array, k: number, pass: PassingSet): SearchHit[] {
	if (!pass.block) {
		const dim = query.length;
		const kept: number[] = [];
		const vectors = new Float32Array(pass.labels.size * dim);
		for (const label of pass.labels) {
			const v = store.vectorOfLabel(label);
			if (v) {
				vectors.set(v, kept.length * dim);
				kept.push(label);
			}
		}
		pass.block = { labels: Int32Array.from(kept), vectors: vectors.subarray(0, kept.length * dim), dim };
	}
	const { labels, vectors, dim } = pass.block;
	const top: SearchHit[] = [];
	for (let i = 0; i < labels.length; i++) {
		let score = 0;
		const at = i * dim;
		for (let d = 0; d < dim; d++) {
			score += query[d] * vectors[at + d];
		}
		keepTop(top, k, labels[i], score);
	}
	return top.sort((a, b) => b.score - a.score);
}
