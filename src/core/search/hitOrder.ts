/**
 * @file The order of search hits everywhere ([Note: fusion] in search.ts): text matches first, by how
 * well they matched, then by cosine. Apart from search.ts so that the extension host can merge its
 * folders' hits without loading the engine.
 */
export function compareHits(a: { score: number; textScore?: number }, b: { score: number; textScore?: number }): number {
	return (b.textScore ?? 0) - (a.textScore ?? 0) || b.score - a.score;
}
