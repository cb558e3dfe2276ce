/** @file `clip-search search` and `similar`: the nearest images to a query or to an image. */
import { resolveScope } from '../../core/search/scope';
import { parseQuery } from '../../core/search/query';
import { queryVector, search, similar, type SearchOptions, textOnlyQuery } from '../../core/search/search';
import { ClipError } from '../../core/common/errors';
import { stampOf } from '../../core/index/indexSession';
import { ClipEncoder } from '../../core/model/encoder';
import { findKnownModel } from '../../core/model/modelRegistry';
import { resolveModel } from '../../core/model/modelResolver';
import type { ModelVariant } from '../../core/model/modelSpec';
import { PgVectorStore, storeModelKey } from '../../core/store/pgStore';
import { type CommandDef, numberOption, providerOption, RANGES, storeOption, threadsOption, UsageError, type Values } from '../args';
import { downloadReporter, log, printResults } from '../output';
import { withReadIndex } from '../readIndex';

const SEARCH_OPTIONS = ['index', 'model', 'k', 'min-score', 'relative', 'scope', 'provider', 'threads', 'json'] as const;

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
	usage: ['search "<query>" [--index <dir>] [--model <dir|id>] [-k N] [--min-score S] [--relative D] [--scope <folder>] [--json]', 'search "<query>" --store <postgres URL> --remote --library NAME [--model <dir|id>] [-k N] [--min-score S] [--relative D] [--scope <folder>] [--json]'],
	options: [...SEARCH_OPTIONS, 'store', 'store-ca', 'remote', 'library'],
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
		if (values.remote) {
			return searchRemote(query, values, options);
		}
		return withReadIndex(values, async ({ store, encoder }) => {
			const onNote = (note: string): void => void process.stderr.write(`clip-search: ${note}\n`);
			printResults(await search(store, encoder, query, { ...options, scope: await resolveScope(store, values.scope, '--scope'), onNote }), values.json ?? false);
			return 0;
		});
	},
};

/** Mode 2: the text is embedded here, the nearest images are found on the store's server. */
async function searchRemote(query: string, values: Values, options: SearchOptions): Promise<number> {
	const at = storeOption(values)!;
	if (!values.library) {
		throw new UsageError('--remote searches a library on the store: add --library NAME (what index --push --library published).');
	}
	const model = await PgVectorStore.libraryModel({ ...at, log }, values.library);
	// [Note: the store's answers are data] in pgStore.ts: only a known id is taken from the store; a
	// library pushed with a local model folder (or anything else) needs this person's own --model.
	const ref = values.model ?? (findKnownModel(model.id) ? model.id : undefined);
	if (!ref) {
		throw new ClipError(
			'ModelNotFound',
			`The library "${values.library}" was pushed with a model folder of the pusher's (fingerprint ${model.revision.slice(0, 12)}, ${model.variant}): give the same model folder with --model <folder>.`,
		);
	}
	const spec = await resolveModel(ref, { variant: model.variant as ModelVariant, onProgress: downloadReporter(values.json ?? false), log });
	const remote = await PgVectorStore.open({ ...at, log }, stampOf(spec));
	const encoder = new ClipEncoder(spec, { provider: providerOption(values), threads: threadsOption(values), log });
	try {
		if (remote.modelKey !== storeModelKey({ ...model })) {
			throw new ClipError('ModelMismatch', `The library "${values.library}" was pushed with ${storeModelKey(model)}, but this model is ${remote.modelKey}: give --model the same model.`);
		}
		// One query, one meaning ([Note: one query everywhere]): the full language is parsed and embedded
		// here, image terms read as locally; the store gets the vector. It holds no text read inside
		// images, so a text-only query is searched by meaning, and says so (as locally without text).
		let text = query;
		const textOnly = textOnlyQuery(query);
		if (textOnly !== undefined) {
			process.stderr.write(`clip-search: ${REMOTE_NO_TEXT_NOTE}\n`);
			text = textOnly.replace(/^"(.*)"$/, '$1');
		}
		const { vector, imageHashes } = await queryVector(undefined, encoder, parseQuery(text), process.cwd());
		const scope = remoteScope(options.scope);
		const k = options.k ?? 10;
		const hits = (await remote.searchLibrary(values.library, vector, k + imageHashes.length, { scope, excludeHashes: imageHashes })).slice(0, k);
		const best = hits[0]?.score ?? 0;
		printResults(
			hits.filter(h => (options.minScore === undefined || h.score >= options.minScore) && (options.relativeCutoff === undefined || h.score >= best - options.relativeCutoff)),
			values.json ?? false,
		);
		return 0;
	} finally {
		await encoder.dispose();
		await remote.close();
	}
}

const REMOTE_NO_TEXT_NOTE = 'The team store holds no text read inside images, so the quoted words were searched by what the images show.';

/** A scope for the store's paths: '.', './' and '' are the whole library; './x/' is 'x'. */
function remoteScope(scope: string | undefined): string | undefined {
	const s = (scope ?? '').replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
	if (s.startsWith('/') || s.split('/').includes('..')) {
		throw new UsageError(`--scope ${scope}: give a folder of the library, relative to it (e.g. assets/icons).`);
	}
	return s === '' || s === '.' ? undefined : s;
}

export const similarCommand: CommandDef = {
	name: 'similar',
	summary: 'the images that look most like an image',
	usage: ['similar <image> [--index <dir>] [--model <dir|id>] [-k N] [--min-score S] [--relative D] [--scope <folder>] [--json]'],
	options: SEARCH_OPTIONS,
	run: async ([image], values) => {
		if (!image) {
			throw new UsageError('similar needs an image: clip-search similar ./picture.png');
		}
		const options = searchOptions(values);
		return withReadIndex(values, async ({ store, encoder }) => {
			printResults(await similar(store, encoder, image, { ...options, scope: await resolveScope(store, values.scope, '--scope') }), values.json ?? false);
			return 0;
		});
	},
};
