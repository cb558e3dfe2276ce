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

/** The order of a sort: relevance (compareHits), newest first, by path (A→Z, numbers as numbers), largest first. */
export function compareBy(sort: SortKey): (a: Sortable, b: Sortable) => number {
	switch (sort) {
		case 'modified':
			return (a, b) => (b.mtimeMs ?? 0) - (a.mtimeMs ?? 0) || compareHits(a, b);
		case 'size':
			return (a, b) => (b.size ?? 0) - (a.size ?? 0) || compareHits(a, b);
		case 'name':
			// By the path as printed (folders first in their order, numbers as numbers): sorted by the file
			// name alone, the printed paths looked unsorted.
			return (a, b) => {
				const [pa, pb] = [a.path ?? a.rel ?? '', b.path ?? b.rel ?? ''];
				return pa.localeCompare(pb, undefined, { numeric: true, sensitivity: 'base' }) || (pa < pb ? -1 : pa > pb ? 1 : 0);
			};
		default:
			return compareHits;
	}
}


/** The short form of a hit's `why` (search.ts Why), for one line: terms' cosines, the text, the tag, a near-duplicate. */
export function whyText(why: { cosine?: number; terms?: { term: string; weight?: number; cosine: number }[]; text?: string; tag?: { label: string; probability?: number }; duplicateOf?: string } | undefined): string {
	if (!why) {
		return '';
	}
	const parts: string[] = [];
	if (why.terms) {
		// As the query wrote them: 2×"sunset" 0.26, −"people" 0.24 (a term's sign and weight, then its cosine).
		parts.push(why.terms.map(t => `${termLabel(t.term, t.weight ?? 1)} ${t.cosine.toFixed(2)}`).join(', '));
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

/** A term with its sign and weight: "sunset", −"people", 2×"sunset", −0.5×./x.png. */
export function termLabel(term: string, weight: number): string {
	if (/^(more|less) like /.test(term)) {
		return term; // More/Less like this: the words say the direction, the weights are the method's
	}
	const size = Math.abs(weight);
	const times = size === 1 ? '' : `${Number(size.toPrecision(3))}×`;
	return `${weight < 0 ? '−' : ''}${times}${term}`;
}
