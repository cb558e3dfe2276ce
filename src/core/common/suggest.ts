/**
 * @file "Did you mean": the nearest of some names to a word that is not one of them, for options,
 * commands, sort keys and query filters alike.
 */

/** Edit distance with transpositions (optimal string alignment): "tpye" is one slip from "type". */
export function editDistance(a: string, b: string): number {
	const rows = a.length + 1;
	const cols = b.length + 1;
	const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
	for (let i = 1; i < rows; i++) {
		for (let j = 1; j < cols; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
				d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
			}
		}
	}
	return d[a.length][b.length];
}

/**
 * The candidate nearest to `given` when it is near enough to be a slip: `maxDistance`, by default a
 * third of the word's length and at least 2 (1 for words of four letters or fewer, when `strict`).
 */
export function nearestName(given: string, candidates: readonly string[], options: { strict?: boolean; maxDistance?: number } = {}): string | undefined {
	let best: { c: string; d: number } | undefined;
	for (const c of candidates) {
		const d = editDistance(given, c);
		if (!best || d < best.d) {
			best = { c, d };
		}
	}
	const max = options.maxDistance ?? (options.strict && given.length <= 4 ? 1 : Math.max(2, Math.floor(given.length / 3)));
	return best && best.d <= max ? best.c : undefined;
}
