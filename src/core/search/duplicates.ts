/**
 * @file Groups of near-identical images: every pair whose cosine reaches the threshold is joined
 * (union-find over each vector's nearest neighbours), so re-encoded, resized and exact copies end
 * up in one group. Nothing is ever deleted here; the caller shows the groups.
 */
import type { IndexStore } from '../index/indexStore';

export interface DuplicateGroup {
	/** Relative paths, sorted. */
	paths: string[];
	/** The lowest cosine that joined the group (1 for exact copies only). */
	score: number;
}

/** [Note: duplicate threshold] 0.95 joins re-encodes and resizes of one picture with CLIP ViT-B/32; crops and edits score lower. */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.95;

export function findDuplicates(store: IndexStore, threshold = DEFAULT_DUPLICATE_THRESHOLD, neighbours = 8): DuplicateGroup[] {
	const parent = new Map<number, number>();
	const minScore = new Map<number, number>();
	const find = (x: number): number => {
		let r = x;
		while (parent.get(r) !== r) {
			r = parent.get(r)!;
		}
		parent.set(x, r);
		return r;
	};
	const vectors = [...store.vectors()];
	for (const { label } of vectors) {
		parent.set(label, label);
	}
	for (const { label, vector } of vectors) {
		for (const hit of store.search(vector, neighbours + 1)) {
			if (hit.label !== label && hit.score >= threshold) {
				const a = find(label);
				const b = find(hit.label);
				const low = Math.min(hit.score, minScore.get(a) ?? 1, minScore.get(b) ?? 1);
				parent.set(a, b);
				minScore.set(b, low);
			}
		}
	}
	const groups = new Map<number, string[]>();
	for (const { label } of vectors) {
		const r = find(label);
		groups.set(r, [...(groups.get(r) ?? []), ...store.filesOfLabel(label)]);
	}
	// Exact copies share one vector: a vector with several files is a group too.
	return [...groups.entries()]
		.filter(([, paths]) => paths.length > 1)
		.map(([root, paths]) => ({ paths: paths.sort(), score: Math.min(1, minScore.get(root) ?? 1) }))
		.sort((a, b) => b.score - a.score || (a.paths[0] < b.paths[0] ? -1 : 1));
}
