/**
 * @file Text tokenisation from the model folder's tokenizer.json, through Hugging Face's
 * maintained JS tokenizer (@huggingface/tokenizers): CLIP's byte-level BPE, and the SentencePiece
 * (Unigram) and Gemma (BPE with byte fallback) tokenizers of SigLIP and SigLIP 2.
 *
 * [Note: SigLIP texts] The family's rules (layouts/transformersLayout.ts): the tokenizer's own template (its
 * post-processor appends the end token), truncation that keeps the template's tokens (as Python's
 * tokenizers truncate before adding them; transformers.js adds them first and cuts the end token
 * off long texts, as with CLIP), every row padded to the model's length with the pad id the
 * tokenizer config names, lowercasing where tokenizer_config.json says `do_lower_case` (SigLIP 2's
 * model card: trained on lowercased text; transformers.js ignores the flag), and for Python's
 * SiglipTokenizer its canonicalisation (ASCII punctuation removed, spaces collapsed).
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
import { MAX_TOKENIZER_BYTES, readGzipText, readModelBytes, readModelJson } from '../files/modelFiles';
import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };
import { ClipError } from '../../common/errors';
import type { ModelSpec, TextRules } from '../layouts/modelSpec';
import { cleanText } from './textClean';

// The package ships CommonJS for Node (its "node.require" export) but only ESM-flavoured types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer } = require('@huggingface/tokenizers') as { Tokenizer: typeof HfTokenizer };
type Tokenizer = HfTokenizer;

export interface TokenizerFiles {
	tokenizerPath: string;
	tokenizerConfigPath?: string;
	contextLength: number;
	/** 'clip' (default): OpenAI's start/end handling; 'siglip': the tokenizer's own template. */
	family?: 'clip' | 'siglip';
	/** Pad every row to this length (SigLIP); else to the longest row of the batch. */
	padLength?: number;
	lowercase?: boolean;
	stripPunctuation?: boolean;
	/** Which runtime's text rules apply before the tokenizer (default: OpenAI's for CLIP). */
	rules?: TextRules;
}

/** What the tokenizer needs of a model's description. */
export function tokenizerFilesOf(spec: ModelSpec): TokenizerFiles {
	return {
		tokenizerPath: spec.tokenizerPath,
		tokenizerConfigPath: spec.tokenizerConfigPath,
		contextLength: spec.contextLength,
		family: spec.family,
		padLength: spec.textPadLength,
		lowercase: spec.lowercase,
		stripPunctuation: spec.siglipTokenizer,
		rules: spec.textRules,
	};
}

/**
 * OpenAI's BPE merge list (`bpe_simple_vocab_16e6.txt.gz`, what rclip ships) as a tokenizer.json
 * for the same library: the vocabulary OpenAI's SimpleTokenizer builds (the 256 byte symbols, the
 * same with `</w>`, the first 49152 − 258 merges, then the two special tokens) and CLIP's
 * normaliser and pre-tokeniser. rclip names the special tokens as OpenCLIP does.
 */
export function bpeTokenizerJson(mergesText: string, special: { bos: string; eos: string }): object {
	const lines = mergesText.split('\n').slice(1);
	const merges = lines.filter(l => l.includes(' ')).slice(0, 49152 - 256 - 2);
	// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest are moved past 255.
	const bytes: number[] = [];
	for (const [a, b] of [
		[0x21, 0x7e],
		[0xa1, 0xac],
		[0xae, 0xff],
	]) {
		for (let c = a; c <= b; c++) {
			bytes.push(c);
		}
	}
	const chars = [...bytes];
	for (let b = 0, n = 0; b < 256; b++) {
		if (!bytes.includes(b)) {
			bytes.push(b);
			chars.push(256 + n++);
		}
	}
	const symbols = chars.map(c => String.fromCodePoint(c));
	const vocab: Record<string, number> = {};
	[...symbols, ...symbols.map(x => `${x}</w>`), ...merges.map(m => m.replace(' ', '')), special.bos, special.eos].forEach((t, i) => (vocab[t] = i));
	const bosId = vocab[special.bos];
	const eosId = vocab[special.eos];
	const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
	return {
		version: '1.0',
		truncation: null,
		padding: null,
		added_tokens: [added(bosId, special.bos), added(eosId, special.eos)],
		normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
		pre_tokenizer: {
			type: 'Sequence',
			pretokenizers: [
				{ type: 'Split', pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" }, behavior: 'Removed', invert: true },
				{ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true },
			],
		},
		post_processor: { type: 'RobertaProcessing', sep: [special.eos, eosId], cls: [special.bos, bosId], trim_offsets: false, add_prefix_space: false },
		decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
		model: { type: 'BPE', dropout: null, unk_token: special.eos, continuing_subword_prefix: '', end_of_word_suffix: '</w>', fuse_unk: false, byte_fallback: false, vocab, merges },
	};
}

/** Python's string.punctuation. */
const PY_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** A text as each runtime cleans it before its tokenizer (see TextRules). */
export function applyTextRules(text: string, rules: TextRules | undefined): string {
	switch (rules) {
		case 'immich':
			return text.split(/\s+/).filter(Boolean).join(' ');
		case 'immich-canonicalize':
			// Immich collapses whitespace first, then removes punctuation: "rock & roll" keeps two spaces.
			return text.split(/\s+/).filter(Boolean).join(' ').replace(PY_PUNCTUATION, '').toLowerCase();
		case 'rclip':
			return cleanText(text).toLowerCase();
		default:
			return cleanText(text);
	}
}

const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** Python's SiglipTokenizer.canonicalize_text: punctuation removed, whitespace collapsed, trimmed. */
export function canonicalizeSiglipText(text: string): string {
	return text.replace(ASCII_PUNCTUATION, '').replace(/\s+/g, ' ').trim();
}

export class ClipTokenizer {
	readonly bosId: number;
	readonly eosId: number;
	readonly padId: number;
	readonly contextLength: number;
	/** The template's tokens before and after the text (SigLIP family). */
	private readonly template?: { prefix: number[]; suffix: number[] };

	private constructor(
		private readonly tokenizer: Tokenizer,
		private readonly files: TokenizerFiles,
		tokens: { bos: string; eos: string; pad: string | undefined },
		file: string,
	) {
		this.contextLength = files.contextLength;
		const bos = tokenizer.token_to_id(tokens.bos);
		const eos = tokenizer.token_to_id(tokens.eos);
		if (files.family === 'siglip') {
			if (eos === undefined) {
				throw new ClipError('ModelInvalid', `${file}: the tokenizer has no "${tokens.eos}" token (tokenizer_config.json's eos_token).`, { file });
			}
			const pad = tokens.pad === undefined ? eos : tokenizer.token_to_id(tokens.pad);
			if (pad === undefined) {
				throw new ClipError('ModelInvalid', `${file}: the tokenizer has no "${tokens.pad}" token (tokenizer_config.json's pad_token).`, { file });
			}
			this.bosId = bos ?? eos;
			this.eosId = eos;
			this.padId = pad;
			// The template around a one-token text: what comes before it and after it.
			const bare = tokenizer.encode('a', { add_special_tokens: false }).ids;
			const full = tokenizer.encode('a', { add_special_tokens: true }).ids;
			const at = full.findIndex((_: number, i: number) => bare.every((id: number, j: number) => full[i + j] === id));
			this.template = at < 0 ? { prefix: [], suffix: [] } : { prefix: full.slice(0, at), suffix: full.slice(at + bare.length) };
			return;
		}
		if (bos === undefined || eos === undefined) {
			throw new ClipError('ModelInvalid', `${file}: the tokenizer has no "${tokens.bos}" or "${tokens.eos}" token; is this a CLIP tokenizer?`, {
				file,
			});
		}
		this.bosId = bos;
		this.eosId = eos;
		// rclip pads with zeros; every other CLIP runtime with the end token (CLIP pools at the first end token either way).
		this.padId = files.rules === 'rclip' ? 0 : eos;
	}

	static async load(files: TokenizerFiles): Promise<ClipTokenizer> {
		const file = files.tokenizerPath;
		let json: unknown;
		let config: Record<string, unknown> = {};
		const gz = file.endsWith('.gz');
		try {
			// rclip's layout ships OpenAI's merge list with OpenCLIP's names for the special tokens.
			json = gz
				? bpeTokenizerJson(await readGzipText(file), { bos: '<start_of_text>', eos: '<end_of_text>' })
				: JSON.parse((await readModelBytes(file, MAX_TOKENIZER_BYTES)).toString('utf8'));
			if (files.tokenizerConfigPath) {
				config = await readModelJson(files.tokenizerConfigPath);
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
		const siglip = files.family === 'siglip';
		return new ClipTokenizer(
			tokenizer,
			files,
			{
				bos: tokenName(config.bos_token, siglip ? '<bos>' : gz ? '<start_of_text>' : '<|startoftext|>'),
				eos: tokenName(config.eos_token, siglip ? '</s>' : gz ? '<end_of_text>' : '<|endoftext|>'),
				pad: config.pad_token === undefined ? undefined : tokenName(config.pad_token, ''),
			},
			file,
		);
	}

	/**
	 * The ids fed to the text model, unpadded. CLIP: start, at most contextLength-2 BPE ids, end.
	 * SigLIP: the tokenizer's template around at most as many ids as leave room for it.
	 */
	encode(text: string): number[] {
		if (this.template) {
			let t = text;
			if (this.files.rules === 'immich' || this.files.rules === 'immich-canonicalize') {
				t = applyTextRules(text, this.files.rules);
			} else {
				t = this.files.stripPunctuation ? canonicalizeSiglipText(t) : t;
				t = this.files.lowercase ? t.toLowerCase() : t;
			}
			const ids = this.tokenizer.encode(t, { add_special_tokens: false }).ids;
			const { prefix, suffix } = this.template;
			return [...prefix, ...ids.slice(0, Math.max(0, this.contextLength - prefix.length - suffix.length)), ...suffix];
		}
		const ids = this.tokenizer.encode(applyTextRules(text, this.files.rules), { add_special_tokens: false }).ids;
		return [this.bosId, ...ids.slice(0, this.contextLength - 2), this.eosId];
	}

	/**
	 * A [texts.length, length] int64 batch and each row's real length. Padded with the pad id to
	 * `padTo` (a graph with a fixed sequence length), else to the family's fixed length (SigLIP),
	 * else to the longest row.
	 */
	encodeBatch(texts: string[], padTo?: number): { data: BigInt64Array; length: number; lengths: number[] } {
		const rows = texts.map(t => this.encode(t).slice(0, padTo ?? Infinity));
		const length = padTo ?? this.files.padLength ?? Math.max(...rows.map(r => r.length));
		const data = new BigInt64Array(rows.length * length).fill(BigInt(this.padId));
		rows.forEach((row, i) => row.forEach((id, j) => (data[i * length + j] = BigInt(id))));
		return { data, length, lengths: rows.map(r => r.length) };
	}
}
