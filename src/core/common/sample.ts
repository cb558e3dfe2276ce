/**
 * @file An even sample of a set, the same wherever the set is held: sorted first, so that a local
 * index (in the order images went in) and a team store (in its own order) take the same members.
 */

/** Up to `n` of `keys`, evenly spaced over their sorted order. */
export function sampleSpread(keys: Iterable<string>, n = 256): string[] {
	const sorted = [...new Set(keys)].sort();
	if (sorted.length <= n) {
		return sorted;
	}
	const step = sorted.length / n;
	return Array.from({ length: n }, (_, i) => sorted[Math.floor(i * step)]);
}
