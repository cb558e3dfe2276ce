/**
 * @file The CLI's options and their checks: one table of every option, each command taking the few
 * it names, and numbers checked against what they may be (a message that says what is allowed).
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultIndexDir } from '../core/common/paths';
import { editDistance } from '../core/common/suggest';
import { findIndexDir } from '../core/index/findIndex';
import type { ModelVariant } from '../core/model/layouts/modelSpec';
import { isProviderSetting, PROVIDERS, type ProviderSetting } from '../core/model/runtime/providers';

export const OPTIONS = {
	model: { type: 'string', value: '<dir|id>', help: 'a known model id (clip-search models) or a local model folder (absolute, or starting with ./, ../ or ~/)' },
	variant: { type: 'string', value: 'fp32|quantized', help: 'which weights of the model (default: quantized, int8, for a known model; fp32 for a model folder)' },
	index: { type: 'string', value: '<dir>', help: 'the index folder (default: the index of the current folder)' },
	provider: { type: 'string', value: PROVIDERS.join('|'), help: 'where the model runs (default: auto)' },
	threads: { type: 'string', value: 'N', help: 'threads for inference (default: every core)' },
	'batch-size': { type: 'string', value: 'N', help: 'images per inference batch' },
	json: { type: 'boolean', help: 'print one JSON document on stdout' },
	k: { type: 'string', short: 'k', value: 'N', help: 'how many results (default 10)' },
	'min-score': { type: 'string', value: 'S', help: 'hide results scoring below S (cosine, -1 to 1)' },
	relative: { type: 'string', value: 'D', help: 'hide results more than D below the best score (0 to 2)' },
	scope: { type: 'string', value: '<folder>', help: 'only images under this folder of the index' },
	classes: { type: 'string', value: '"a,b,c"', help: 'class names, comma-separated' },
	'classes-file': { type: 'string', value: '<file.json>', help: 'a classes file (prompts, examples, negatives, thresholds)' },
	threshold: { type: 'string', value: 'T', help: 'the probability under which an image gets no label (0 to 1)' },
	multi: { type: 'boolean', help: 'every class above the threshold, not just the best' },
	out: { type: 'string', value: '<tags.json>', help: 'also write the labels as a tags file' },
	labels: { type: 'string', value: '<classes.json>', help: 'keep a tags file current with these classes (with --tags)' },
	tags: { type: 'string', value: '<tags.json>', help: 'the tags file: the one --labels keeps current; for search, the one tag: filters read (default: the folder\'s .vscode/image-tags.json)' },
	sort: { type: 'string', value: 'relevance|modified|name|size', help: 'order the hits that pass the relevance cut-off (--min-score, --relative, or one chosen from the scores and shown)' },
	ocr: { type: 'boolean', help: 'also read the text inside the images' },
	force: { type: 'boolean', help: 'apply --include/--exclude even when they drop most of the index (its vectors are kept for 14 days)' },
	include: { type: 'string', multiple: true, value: '<glob>', help: 'index only files matching this glob (repeatable; as clipSearch.include; remembered by the index; "" clears)' },
	exclude: { type: 'string', multiple: true, value: '<glob>', help: 'leave out files and folders matching this glob (repeatable; as clipSearch.exclude, e.g. vendor/ or ./private/**; remembered; "" clears)' },
	text: { type: 'string', value: '"<text>"', help: 'embed this text' },
	image: { type: 'string', value: '<file>', help: 'embed this image' },
	store: { type: 'string', value: '<postgres URL>', help: 'a team store (PostgreSQL + pgvector) to share embeddings through; also CLIP_SEARCH_STORE. The password comes from PGPASSWORD or ~/.pgpass' },
	'store-ca': { type: 'string', value: '<file>', help: 'the CA certificate of the store\'s TLS (with sslmode=verify-full in the URL)' },
	push: { type: 'boolean', help: 'also give the store the vectors it lacks (needs INSERT)' },
	library: { type: 'string', value: '<name>', help: 'with --push: publish this folder\'s files as a library; with --remote: the library to search' },
	public: { type: 'string', multiple: true, value: '<dir>', help: 'a folder root-relative references (/x.png) are served from, beside public/, static/ and the folder itself (repeatable)' },
	remote: { type: 'boolean', help: 'search on the store\'s server (with --store and --library)' },
	help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const;

export type OptionName = keyof typeof OPTIONS;
type ParseOptions = { [K in OptionName]: { type: (typeof OPTIONS)[K]['type']; short?: string; multiple?: boolean } };
type ValueOf<K extends OptionName> = (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
export type Values = Partial<{ [K in OptionName]: ValueOf<K> }>;

/** A mistake in how a command was called: exit code 2 and that command's usage. */
export class UsageError extends Error {
	constructor(
		message: string,
		readonly command?: string,
	) {
		super(message);
	}
}

export interface CommandDef {
	name: string;
	/** One line for the list of commands. */
	summary: string;
	/** What follows `clip-search` on each usage line (options that take values are listed in `options`). */
	usage: string[];
	/** The options this command takes (`--help` is always taken). */
	options: readonly OptionName[];
	/** Lines printed after the options by `help <command>`. */
	notes?: string[];
	/** What an option means for this command, where that is its own (duplicates' --threshold is a cosine). */
	optionHelp?: Partial<Record<OptionName, string>>;
	run(positionals: string[], values: Values): Promise<number> | number;
}

/**
 * Parses a command's arguments with only its options. A negative number after an option that takes
 * a value is that option's value (`-k -5`, `--min-score -0.2`), not an unknown option, so that the
 * number check can say what is allowed.
 */
export function parseCommandArgs(def: CommandDef, argv: string[]): { values: Values; positionals: string[] } {
	const names: OptionName[] = [...def.options, 'help'];
	const options = Object.fromEntries(
		names.map(n => [n, { type: OPTIONS[n].type, ...('short' in OPTIONS[n] ? { short: OPTIONS[n].short } : {}), ...('multiple' in OPTIONS[n] ? { multiple: true } : {}) }]),
	) as Partial<ParseOptions>;
	const args: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const name = a.startsWith('--') ? a.slice(2) : a.length === 2 && a.startsWith('-') ? names.find(n => 'short' in OPTIONS[n] && OPTIONS[n].short === a[1]) : undefined;
		if (name && name in options && OPTIONS[name as OptionName].type === 'string' && /^-\d|^-\.\d/.test(argv[i + 1] ?? '')) {
			args.push(`--${name}=${argv[++i]}`);
		} else {
			args.push(a);
		}
	}
	try {
		const { values, positionals } = parseArgs({ args, options: options as ParseOptions, allowPositionals: true, strict: true });
		return { values: values as Values, positionals };
	} catch (err) {
		const e = err as { code?: string; message?: string };
		if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
			const given = /'(-[^']*)'/.exec(e.message ?? '')?.[1] ?? '';
			const flags = names.flatMap(n => ['short' in OPTIONS[n] ? `-${(OPTIONS[n] as { short: string }).short}` : '', `--${n}`]).filter(Boolean);
			const near = nearest(given.replace(/=.*$/, ''), flags);
			throw new UsageError(`unknown option ${given}${near ? ` (did you mean ${near}?)` : ''}.`, def.name);
		}
		if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
			throw new UsageError(`${(e.message ?? '').replace(/\.$/, '')}.`, def.name);
		}
		throw new UsageError(e.message ?? String(err), def.name);
	}
}

/** The candidate nearest to `given` when it is near enough to be a slip (a third of its length, at least 2 edits). */
export function nearest(given: string, candidates: readonly string[]): string | undefined {
	const bare = (x: string): string => x.replace(/^-+/, '');
	let best: { c: string; d: number } | undefined;
	for (const c of candidates) {
		const d = Math.min(editDistance(given, c), editDistance(bare(given), bare(c)) + (bare(c).length === 1 ? 0 : 1));
		if (!best || d < best.d) {
			best = { c, d };
		}
	}
	return best && best.d <= Math.max(2, Math.floor(given.length / 3)) ? best.c : undefined;
}

interface Range {
	min: number;
	max: number;
	/** Whole numbers only. */
	integer?: boolean;
}

/** A numeric option, checked against its range; the message names the option and what it may be. */
export function numberOption(values: Values, name: OptionName, range: Range): number | undefined {
	const raw = values[name];
	if (raw === undefined || typeof raw !== 'string') {
		return undefined;
	}
	const n = Number(raw);
	const flag = 'short' in OPTIONS[name] ? `-${name}` : `--${name}`;
	const kind = range.integer ? 'a whole number' : 'a number';
	const allowed = range.max === Infinity ? `${kind} of at least ${range.min}` : `${kind} from ${range.min} to ${range.max}`;
	if (raw.trim() === '' || !Number.isFinite(n) || (range.integer && !Number.isInteger(n)) || n < range.min || n > range.max) {
		throw new UsageError(`${flag} must be ${allowed} (got "${raw}").`);
	}
	return n;
}

export const RANGES = {
	k: { min: 1, max: 10_000, integer: true },
	threads: { min: 1, max: 1024, integer: true },
	batchSize: { min: 1, max: 1024, integer: true },
	// Scores are cosines on every surface ([Note: fusion] in core/search/search.ts).
	score: { min: -1, max: 1 },
	relative: { min: 0, max: 2 },
	probability: { min: 0, max: 1 },
	duplicateThreshold: { min: 0.5, max: 1 },
} as const satisfies Record<string, Range>;

export function threadsOption(values: Values): number | undefined {
	return numberOption(values, 'threads', RANGES.threads);
}

export function variantOption(values: Values): ModelVariant | undefined {
	const v = values.variant;
	if (v === undefined) {
		return undefined;
	}
	if (v !== 'fp32' && v !== 'quantized') {
		throw new UsageError(`--variant must be fp32 or quantized (got "${v}").`);
	}
	return v;
}

export function providerOption(values: Values): ProviderSetting {
	const p = values.provider ?? 'auto';
	if (!isProviderSetting(p)) {
		throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')} (got "${p}").`);
	}
	return p;
}

/** The team store the options (or CLIP_SEARCH_STORE) name, if any. */
export function storeOption(values: Values): { url: string; caFile?: string } | undefined {
	const url = values.store ?? process.env.CLIP_SEARCH_STORE;
	if (!url || url === 'local') {
		if (values.push || values.remote) {
			throw new UsageError(`--${values.push ? 'push' : 'remote'} needs a team store: --store postgres://user@host/db (or CLIP_SEARCH_STORE).`);
		}
		return undefined;
	}
	return { url, caFile: values['store-ca'] };
}

export function indexDirFor(values: Values, root = process.cwd()): string {
	return values.index ? path.resolve(values.index) : defaultIndexDir(root);
}

/** The index a reading command uses: --index, else the current folder's or the nearest above it (findIndex.ts). */
export async function readIndexDir(values: Values): Promise<string> {
	return values.index ? path.resolve(values.index) : (await findIndexDir(process.cwd())).dir;
}
