/** @file `clip-search search` and `similar`: the nearest images to a query or to an image. */
import { search, similar, type SearchOptions } from '../../core/search/search';
import { type CommandDef, numberOption, RANGES, UsageError, type Values } from '../args';
import { printResults } from '../output';
import { withReadIndex } from '../readIndex';

const SEARCH_OPTIONS = ['index', 'k', 'min-score', 'relative', 'scope', 'provider', 'threads', 'json'] as const;

function searchOptions(values: Values): SearchOptions {
	return {
		k: numberOption(values, 'k', RANGES.k) ?? 10,
		minScore: numberOption(values, 'min-score', RANGES.score),
		relativeCutoff: numberOption(values, 'relative', RANGES.relative),
		scope: values.scope,
	};
}

export const searchCommand: CommandDef = {
	name: 'search',
	summary: 'the images that best match a text query',
	usage: ['search "<query>" [--index <dir>] [-k N] [--min-score S] [--relative D] [--scope <folder>] [--json]'],
	options: SEARCH_OPTIONS,
	notes: [
		'Queries combine terms: "beach" + ./ref.png - "people", 2*"sunset" - "boat".',
		'text:words or a quoted "phrase" searches only the text read inside images (index --ocr).',
	],
	run: async (words, values) => {
		const query = words.join(' ');
		if (!query.trim()) {
			throw new UsageError('search needs a query: clip-search search "a red error icon"');
		}
		const options = searchOptions(values);
		return withReadIndex(values, async ({ store, encoder }) => {
			printResults(await search(store, encoder, query, options), values.json ?? false);
			return 0;
		});
	},
};

export const similarCommand: CommandDef = {
	name: 'similar',
	summary: 'the images that look most like an image',
	usage: ['similar <image> [--index <dir>] [-k N] [--min-score S] [--json]'],
	options: SEARCH_OPTIONS,
	run: async ([image], values) => {
		if (!image) {
			throw new UsageError('similar needs an image: clip-search similar ./picture.png');
		}
		const options = searchOptions(values);
		return withReadIndex(values, async ({ store, encoder }) => {
			printResults(await similar(store, encoder, image, options), values.json ?? false);
			return 0;
		});
	},
};
