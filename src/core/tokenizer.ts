/**
 * @file CLIP text tokenisation from the model folder's tokenizer.json, through Hugging Face's
 * maintained JS tokenizer (@huggingface/tokenizers).
 *
 * [Note: truncation keeps the end-of-text token] CLIP pools the text embedding at the
 * end-of-text token, so it must never be cut off. Like OpenAI's `clip.tokenize(truncate=True)`,
 * we encode without special tokens, keep the first `contextLength - 2` ids, and add
 * start-of-text and end-of-text ourselves. (transformers.js truncates after adding them and
 * loses the final end-of-text on long texts.) Padding, when asked for, is end-of-text too.
 *
 * [Note: cleaning as OpenAI's reference] OpenAI's tokenizer first runs ftfy and html.unescape;
 * the Hugging Face pipeline has no such steps. encode() cleans the text the same way first
 * (textClean.ts), so HTML entities (`&amp;`), curly quotes, fullwidth forms, ligatures, C1 controls
 * and mojibake tokenise as the reference does (the golden rows marked hf_differs).
 */
import { promises as fs } from 'node:fs';
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };
import { ClipError } from './errors';
import { cleanText } from './textClean';

// The package ships CommonJS for Node (its "node.require" export) but only ESM-flavoured types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer } = require('@huggingface/tokenizers') as { Tokenizer: typeof HfTokenizer };
type Tokenizer = HfTokenizer;

export interface TokenizerFiles {
	tokenizerPath: string;
	tokenizerConfigPath?: string;
	contextLength: number;
}

export class ClipTokenizer {
	readonly bosId: number;
	readonly eosId: number;

	private constructor(
		private readonly tokenizer: Tokenizer,
		readonly contextLength: number,
		bosToken: string,
		eosToken: string,
		file: string,
	) {
		const bos = tokenizer.token_to_id(bosToken);
		const eos = tokenizer.token_to_id(eosToken);
		if (bos === undefined || eos === undefined) {
			throw new ClipError('ModelInvalid', `${file}: the tokenizer has no "${bosToken}" or "${eosToken}" token; is this a CLIP tokenizer?`, {
				file,
			});
		}
		this.bosId = bos;
		this.eosId = eos;
	}

	static async load(files: TokenizerFiles): Promise<ClipTokenizer> {
		const file = files.tokenizerPath;
		let json: unknown;
		let config: Record<string, unknown> = {};
		try {
			json = JSON.parse(await fs.readFile(file, 'utf8'));
			if (files.tokenizerConfigPath) {
				config = JSON.parse(await fs.readFile(files.tokenizerConfigPath, 'utf8')) as Record<string, unknown>;
			}
		} catch (err) {
			throw new ClipError('ModelInvalid', `Cannot read the tokenizer: ${(err as Error).message}. Re-download the model.`, { file, cause: err });
		}
		const tokenName = (v: unknown, fallback: string): string =>
			typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : fallback;
		let tokenizer: Tokenizer;
		try {
			tokenizer = new Tokenizer(json as object, config);
		} catch (err) {
			throw new ClipError('ModelInvalid', `${file}: not a tokenizer this library can read (${(err as Error).message}).`, { file, cause: err });
		}
		return new ClipTokenizer(
			tokenizer,
			files.contextLength,
			tokenName(config.bos_token, '<|startoftext|>'),
			tokenName(config.eos_token, '<|endoftext|>'),
			file,
		);
	}

	/** The ids fed to the text model, unpadded: start, at most contextLength-2 BPE ids, end. */
	encode(text: string): number[] {
		const ids = this.tokenizer.encode(cleanText(text), { add_special_tokens: false }).ids;
		return [this.bosId, ...ids.slice(0, this.contextLength - 2), this.eosId];
	}

	/** A [texts.length, length] int64 batch, padded with end-of-text to the longest row. */
	encodeBatch(texts: string[]): { data: BigInt64Array; length: number } {
		const rows = texts.map(t => this.encode(t));
		const length = Math.max(...rows.map(r => r.length));
		const data = new BigInt64Array(rows.length * length).fill(BigInt(this.eosId));
		rows.forEach((row, i) => row.forEach((id, j) => (data[i * length + j] = BigInt(id))));
		return { data, length };
	}
}
