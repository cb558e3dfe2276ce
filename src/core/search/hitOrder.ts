/**
 * @file The order of search hits everywhere ([Note: fusion] in search.ts): text matches first, by how
 * well they matched, then by cosine. Apart from search.ts so that the extension host can merge its
 * folders' hits without loading the engine.
 */
export function compareHits(a: { score: number; textScore?: number }, b: { score: number; textScore?: number }): number {
	return (b.textScore ?? 0) - (a.textScore ?? 0) || b.score - a.score;
}

export const SORT_KEYS = ['relevance', 'modified', 'name', 'size'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

interface Sortable {
	/** The relative path (search results) or `rel` (the extension's hits). */
	path?: string;
	rel?: string;
	score: number;
	textScore?: number;
	mtimeMs?: number;
	size?: number;
}

/** The order of a sort: relevance (compareHits), newest first, by name (A→Z, numbers as numbers), largest first. */
export function compareBy(sort: SortKey): (a: Sortable, b: Sortable) => number {
	switch (sort) {
		case 'modified':
			return (a, b) => (b.mtimeMs ?? 0) - (a.mtimeMs ?? 0) || compareHits(a, b);
		case 'size':
			return (a, b) => (b.size ?? 0) - (a.size ?? 0) || compareHits(a, b);
		case 'name':
			return (a, b) => {
				const [pa, pb] = [a.path ?? a.rel ?? '', b.path ?? b.rel ?? ''];
				return baseName(pa).localeCompare(baseName(pb), undefined, { numeric: true, sensitivity: 'base' }) || (pa < pb ? -1 : pa > pb ? 1 : 0);
			};
		default:
			return compareHits;
	}
}

function baseName(p: string): string {
	return p.slice(p.lastIndexOf('/') + 1);
}

/** The short form of a hit's `why` (search.ts Why), for one line: terms' cosines, the text, the tag, a near-duplicate. */
export function whyText(why: { cosine?: number; terms?: { term: string; cosine: number }[]; text?: string; tag?: { label: string; probability?: number }; duplicateOf?: string } | undefined): string {
	if (!why) {
		return '';
	}
	const parts: string[] = [];
	if (why.terms) {
		parts.push(why.terms.map(t => `${t.term} ${t.cosine.toFixed(2)}`).join(', '));
	}
	if (why.text !== undefined) {
		parts.push(`text “${why.text}”`);
	}
	if (why.tag) {
		parts.push(`tag ${why.tag.label}${why.tag.probability !== undefined ? ` ${why.tag.probability.toFixed(2)}` : ''}`);
	}
	if (why.duplicateOf) {
		parts.push(`≈ ${why.duplicateOf}`);
	}
	return parts.join(' · ');
}
