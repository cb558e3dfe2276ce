/** @file `clip-search models`, `embed` and `tokenize`: the known models, and a model's raw outputs. */
import * as path from 'node:path';
import { readImageFile } from '../../core/common/files';
import { ClipEncoder } from '../../core/model/runtime/encoder';
import { DEFAULT_MODEL_ID, downloadSize, downloadSizeText, findKnownModel, KNOWN_MODELS, licenceText } from '../../core/model/hub/modelRegistry';
import { printable } from '../../core/common/printable';
import { DEFAULT_KNOWN_VARIANT, resolveModel } from '../../core/model/hub/modelResolver';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../../core/model/inputs/preprocess';
import { ClipTokenizer, tokenizerFilesOf } from '../../core/model/inputs/tokenizer';
import { type CommandDef, providerOption, threadsOption, UsageError, variantOption } from '../args';
import { downloadReporter, log, table, stage } from '../output';

export const modelsCommand: CommandDef = {
	name: 'models',
	summary: 'the known models: licence, quality, speed here, download size, what each is for',
	usage: ['models [--json]'],
	options: ['json'],
	run: (_positionals, values) => {
		const rows = KNOWN_MODELS.flatMap(m =>
			m.variants.map(v => ({
				id: m.id,
				variant: v,
				revision: m.revision,
				...(m.unpinned ? { unpinned: m.unpinned } : {}),
				downloadBytes: downloadSize(m, v),
				imagesPerSecond: m.speed?.[v]?.imagesPerSecond,
				textQueryMs: m.speed?.[v]?.textQueryMs,
				quality: m.quality,
				licence: m.licence,
				goodFor: m.goodFor,
			})),
		);
		if (values.json) {
			process.stdout.write(`${JSON.stringify({ models: rows })}\n`);
			return 0;
		}
		const pct = (n: number | undefined): string => (n === undefined ? '—' : n.toFixed(1));
		const isDefault = (r: { id: string; variant: string }): boolean => r.id === DEFAULT_MODEL_ID && r.variant === DEFAULT_KNOWN_VARIANT;
		// One line a model, named: what it is good for, and where its quality figures come from.
		const about = KNOWN_MODELS.map(m => `  ${m.id}: ${firstSentence(m.goodFor)} ${/^no /i.test(m.quality.source) ? `${m.quality.source[0].toUpperCase()}${m.quality.source.slice(1)}` : `Quality from ${m.quality.source}`}.\n`).join('');
		process.stdout.write(
			table(
				['model', 'variant', 'licence', 'ImageNet†', 'COCO R@1†', 'XM3600†', 'img/s*', 'query ms*', 'download'],
				rows.map(r => [
					isDefault(r) ? `${r.id} (default)` : r.id,
					r.variant,
					licenceText(r),
					pct(r.quality.imagenet),
					pct(r.quality.cocoTextToImage),
					pct(r.quality.crossmodal3600),
					r.imagesPerSecond?.toFixed(1) ?? '?',
					r.textQueryMs?.toFixed(0) ?? '?',
					downloadSizeText(findKnownModel(r.id)!, r.variant),
				]),
			) +
				'† public figures, not measured here: ImageNet-1k zero-shot top-1 %, COCO text→image recall@1 %, Crossmodal-3600 English recall % (mean of R@1/5/10).\n' +
				'What each is for, and the source of its figures (all of it in --json):\n' +
				about +
				'* npm run bench -- --only families on a 2-core AMD EPYC without VNNI (random weights, the same graphs). ≈: a size from a public listing or an estimate. ⚠: the weights may not be used commercially.\n' +
				'Use one with --model <id> (the clipSearch.model setting in VS Code).\n',
		);
		return 0;
	},
};

/** The first sentence of a text (what a model is good for, in one line). */
function firstSentence(text: string): string {
	const m = /^.*?[.!?](?=\s|$)/.exec(text);
	return m ? m[0] : text;
}

export const embedCommand: CommandDef = {
	name: 'embed',
	summary: "a text's or an image's embedding",
	usage: ['embed --model <dir|id> (--text "<t>" | --image <file>) [--variant fp32|quantized] [--provider P] [--json]'],
	options: ['model', 'variant', 'text', 'image', 'provider', 'threads', 'json'],
	run: async (_positionals, values) => {
		if (!values.model) {
			throw new UsageError('embed needs --model <dir|id>');
		}
		if ((values.text === undefined) === (values.image === undefined)) {
			throw new UsageError('embed needs exactly one of --text "<t>" or --image <file>');
		}
		const provider = providerOption(values);
		const threads = threadsOption(values);
		const spec = await resolveModel(values.model, {
			variant: variantOption(values),
			parts: values.text !== undefined ? 'text' : 'all',
			onProgress: downloadReporter(values.json ?? false),
			log,
		});
		const encoder = new ClipEncoder(spec, { provider, threads, log, onStage: stage });
		try {
			let vector: Float32Array;
			if (values.text !== undefined) {
				vector = await encoder.encodeText(values.text);
			} else {
				const file = path.resolve(values.image!);
				const bytes = await readImageFile(file, DEFAULT_MAX_PIXELS);
				vector = (await encoder.encodeImages([await decodeImage(file, bytes, spec.preprocess)]))[0];
			}
			const out = { model: spec.id, dim: spec.dim, vector: Array.from(vector) };
			process.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `${printable(spec.id)} (${spec.dim}-d): [${out.vector.map(v => v.toFixed(5)).join(', ')}]\n`);
			return 0;
		} finally {
			await encoder.dispose();
		}
	},
};

export const tokenizeCommand: CommandDef = {
	name: 'tokenize',
	summary: "a text's token ids, as the model's tokenizer gives them",
	usage: ['tokenize --model <dir|id> "<text>" [--json]'],
	options: ['model', 'variant', 'json'],
	run: async (words, values) => {
		if (!values.model) {
			throw new UsageError('tokenize needs --model <dir|id>');
		}
		if (!words.length) {
			throw new UsageError('tokenize needs the text: clip-search tokenize --model <dir|id> "a photo of a cat"');
		}
		const spec = await resolveModel(values.model, { variant: variantOption(values), parts: 'tokenizer', onProgress: downloadReporter(values.json ?? false), log });
		const tokenizer = await ClipTokenizer.load(tokenizerFilesOf(spec));
		const ids = tokenizer.encode(words.join(' '));
		process.stdout.write(values.json ? `${JSON.stringify({ ids })}\n` : `${ids.join(' ')}\n`);
		return 0;
	},
};
