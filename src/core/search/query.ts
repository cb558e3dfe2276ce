/**
 * @file The query language: one or more terms, text or image, each with a sign and a weight.
 *
 *   red error icon                          one text term
 *   "beach" + ./ref.png - "people"          text and image terms, added and subtracted
 *   2*"sunset" + 0.5*"boat" -"people"       weights
 *
 * A term is a quoted text (always text), or a bare run of words up to the next operator. A bare single word
 * that looks like an image path (./x.png, ../x, /abs, or ending in an image extension) is an
 * image term. `+` and `-` are operators only at the start or after a space, so "close-up" and
 * "t-shirt" stay words; `cat -dog` subtracts "dog" as `cat - dog` does (as a web search leaves a
 * word out), and a leading `-` before a filter's key negates the filter (filters.ts).
 */
import { ClipError } from '../common/errors';
import { isImagePath } from '../index/imageFiles';

export interface QueryTerm {
	kind: 'text' | 'image';
	value: string;
	/** Signed weight: negative terms are subtracted. */
	weight: number;
}


function looksLikeImagePath(word: string): boolean {
	return /^(\.{1,2}[\\/]|[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(word) || isImagePath(word);
}

export function parseQuery(input: string): QueryTerm[] {
	const s = input.trim();
	const terms: QueryTerm[] = [];
	let i = 0;
	const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
	const atOperator = (j: number): boolean =>
		(s[j] === '+' || s[j] === '-') && (j === 0 || isSpace(s[j - 1])) && (j + 1 >= s.length || /[\s"'\d./~\\\p{L}]/u.test(s[j + 1]));
	while (i < s.length) {
		while (isSpace(s[i])) {
			i++;
		}
		if (i >= s.length) {
			break;
		}
		let sign = 1;
		if (atOperator(i)) {
			sign = s[i] === '-' ? -1 : 1;
			i++;
			while (isSpace(s[i])) {
				i++;
			}
		}
		let weight = 1;
		const w = /^(\d+(?:\.\d+)?|\.\d+)\s*\*\s*/.exec(s.slice(i));
		if (w) {
			weight = Number(w[1]);
			i += w[0].length;
		}
		if (i >= s.length) {
			throw new ClipError('InvalidQuery', `The query "${input}" ends with an operator; add a term after it.`);
		}
		const quote = s[i];
		if (quote === '"' || quote === "'") {
			const end = s.indexOf(quote, i + 1);
			if (end < 0) {
				throw new ClipError('InvalidQuery', `The query "${input}" has an unclosed ${quote}.`);
			}
			const value = s.slice(i + 1, end).trim();
			i = end + 1;
			if (value) {
				terms.push({ kind: 'text', value, weight: sign * weight });
			}
			continue;
		}
		let j = i;
		while (j < s.length && !(isSpace(s[j - 1]) && atOperator(j))) {
			j++;
		}
		const value = s.slice(i, j).trim();
		i = j;
		if (value) {
			terms.push({ kind: !/\s/.test(value) && looksLikeImagePath(value) ? 'image' : 'text', value, weight: sign * weight });
		}
	}
	if (terms.length === 0) {
		throw new ClipError('InvalidQuery', 'The query is empty: type what the image shows, e.g. "a red error icon".');
	}
	if (!terms.some(t => t.weight > 0)) {
		throw new ClipError('InvalidQuery', `The query "${input}" only subtracts; add at least one positive term.`);
	}
	return terms;
}
