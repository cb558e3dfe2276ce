/**
 * @file Why a filtered query found nothing.
 *
 * [Note: an empty answer says why] "No matching images." for `tag:photos` (the tag is `photo`),
 * `path:animals` or `type:gif` left a person guessing which filter emptied the answer. The note says
 * how many of the index's images each filter lets through on its own and, for a filter that lets
 * none through, the near miss: a known tag, folder or format of the index, with how many images it
 * has. One pass over the catalog, only when the answer is empty.
 */
import type { FileEntry } from '../index/catalogFile';
import type { IndexStore } from '../index/indexStore';
import { nearestName } from '../common/suggest';
import { type FileFacts, passesFilters, type QueryFilter } from './filters';

/** The index's values of what a filter reads, with how many images have each (folders, tags, formats). */
function tally(store: IndexStore, facts: (rel: string, entry: FileEntry) => FileFacts, key: QueryFilter['key']): Map<string, number> {
	const out = new Map<string, number>();
	const add = (v: string): void => void out.set(v, (out.get(v) ?? 0) + 1);
	for (const [rel, entry] of store.files) {
		if (!entry.hash || entry.error) {
			continue;
		}
		if (key === 'path') {
			const parts = rel.split('/').slice(0, -1);
			parts.forEach((name, i) => {
				add(name);
				if (i > 0) {
					add(parts.slice(0, i + 1).join('/'));
				}
			});
		} else if (key === 'tag') {
			facts(rel, entry).tags?.forEach(add);
		} else if (key === 'type') {
			const format = facts(rel, entry).format;
			if (format) {
				add(format);
			}
		}
	}
	return out;
}

/** The near miss for a filter that lets nothing through, as words: "did you mean tag:photo (120 images)?". */
function nearMiss(store: IndexStore, facts: (rel: string, entry: FileEntry) => FileFacts, f: QueryFilter): string {
	if (f.key !== 'tag' && f.key !== 'path' && f.key !== 'type') {
		return '';
	}
	const known = tally(store, facts, f.key);
	if (!known.size) {
		return f.key === 'tag' ? ' (the tags file tags no image)' : '';
	}
	const asked = f.key === 'tag' ? f.tags : f.key === 'type' ? f.formats : f.glob.split(',').map(g => g.replace(/\/+$/, '').toLowerCase());
	const suggestions = asked
		.map(a => nearestName(a, [...known.keys()].map(k => k.toLowerCase()), { maxDistance: Math.max(2, Math.floor(a.length / 3)) }))
		.filter((n): n is string => !!n);
	if (suggestions.length) {
		const name = [...known.keys()].find(k => k.toLowerCase() === suggestions[0])!;
		return ` (did you mean ${f.key}:${name}? ${known.get(name)} image${known.get(name) === 1 ? '' : 's'})`;
	}
	const top = [...known].sort((a, b) => b[1] - a[1]).slice(0, 5);
	return ` (here: ${top.map(([k, n]) => `${k} ${n}`).join(', ')}${known.size > 5 ? ', …' : ''})`;
}

/** The note for an empty answer to a filtered query. */
export function explainEmpty(store: IndexStore, filters: readonly QueryFilter[], facts: (rel: string, entry: FileEntry) => FileFacts): string {
	let total = 0;
	const passed = filters.map(() => 0);
	for (const [rel, entry] of store.files) {
		if (!entry.hash || entry.error) {
			continue;
		}
		total++;
		const f = facts(rel, entry);
		filters.forEach((filter, i) => {
			if (passesFilters([filter], f)) {
				passed[i]++;
			}
		});
	}
	const each = filters.map((f, i) => `${f.not ? '-' : ''}${f.word} lets ${passed[i]} of ${total} through${passed[i] === 0 ? nearMiss(store, facts, f) : ''}`);
	const together = passed.every(n => n > 0) && filters.length > 1 ? '; together they let none through' : '';
	return `No image passed the filters: ${each.join('; ')}${together}.`;
}
