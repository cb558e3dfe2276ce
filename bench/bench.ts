/**
 * @file `npm run bench`: speed of the engine with a real-size CLIP ViT-B/32 (random weights, made by
 * tools/make_bench_model.py) on a real image corpus (Debian's clip art, wallpapers and icons), next
 * to transformers.js on the same files. Prints a table with targets and PASS/MISS and, after a full
 * run, writes bench/results.json. This file only runs the parts (bench/parts/, one file each).
 * Options: --model <dir> (a real model folder instead), --images <dir>, --runs N (default 3),
 * --quick (smaller sizes, for a smoke run), --only <part>[,<part>…] (PARTS below).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ModelVariant } from '../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../src/core/model/layouts/loadModelSpec';
import { cpuFlags, decodeAll, opt, repo, results, rows, RUNS, say } from './common';
import { figureShrinkOnLoad } from './parts/decode';
import { figureDecode, figureEndToEnd, figureInference, figurePeakRss, figurePeer } from './parts/e2e';
import { figureFamilies } from './parts/families';
import { figureFewShot } from './parts/fewshot';
import { figureGflops } from './parts/gflops';
import { figureGpu } from './parts/gpu';
import { figureIncremental } from './parts/incremental';
import { figureMemory } from './parts/memory';
import { figureInt8Conversion } from './parts/int8';
import { figureBatching } from './parts/batching';
import { figureOcr } from './parts/ocr';
import { figureHnswAndQueries } from './parts/queries';
import { figureReindex } from './parts/reindex';
import { figureRefs } from './parts/refs';
import { figureStore } from './parts/store';
import { benchModel, corpus, describeCorpus, photoCorpus } from './setup';

/** What the parts share within one run: the model and corpus (made on first use) and measured rates. */
class Context {
	private filesOnce?: Promise<string[]>;
	/** img/s by name (`infer_fp32`, `decode`, …), for parts that build on another's figure. */
	readonly rates: Record<string, number> = {};
	constructor(readonly full: boolean) {}
	get modelDir(): string {
		return benchModel();
	}
	get imagesDir(): string {
		return corpus();
	}
	files(): Promise<string[]> {
		return (this.filesOnce ??= describeCorpus(this.imagesDir));
	}
}

/** Inference, decoding, end to end against the serial bound, peak memory (full run) and the peer. */
async function e2e(ctx: Context): Promise<void> {
	const files = await ctx.files();
	for (const variant of ['fp32', 'quantized'] as ModelVariant[]) {
		const spec = await loadModelSpec(ctx.modelDir, { variant });
		say(`${variant}: inference`);
		const infer = await figureInference(spec, variant, await decodeAll(files.slice(0, 40), spec));
		ctx.rates[`infer_${variant}`] = infer[16];
		if (!ctx.rates.decode) {
			say('decode + preprocess');
			ctx.rates.decode = await figureDecode(files, spec);
		}
		say(`${variant}: end-to-end`);
		ctx.rates[variant] = await figureEndToEnd(ctx.imagesDir, spec, variant, 1 / (1 / ctx.rates.decode + 1 / infer[16]));
		if (ctx.full) {
			figurePeakRss(ctx.imagesDir, ctx.modelDir, variant);
		}
		say(`${variant}: transformers.js`);
		figurePeer(ctx.imagesDir, ctx.modelDir, variant, variant === 'fp32' ? 1.15 : 2.2);
	}
}

const PARTS: Record<string, (ctx: Context) => Promise<void>> = {
	e2e,
	int8: async ctx => {
		const spec = await loadModelSpec(ctx.modelDir, { variant: 'quantized' });
		await figureInt8Conversion(spec, await decodeAll((await ctx.files()).slice(0, 40), spec));
	},
	queries: async ctx => figureHnswAndQueries(await loadModelSpec(ctx.modelDir, { variant: 'fp32' })),
	reindex: () => figureReindex(),
	incremental: () => figureIncremental(),
	ocr: () => figureOcr(),
	families: async ctx => figureFamilies(await ctx.files()),
	batching: async ctx => figureBatching(await ctx.files()),
	fewshot: () => figureFewShot(),
	store: ctx => figureStore(ctx.modelDir),
	refs: () => figureRefs(),
	memory: async ctx => figureMemory(ctx.modelDir, await photoCorpus()),
	decode: async ctx => figureShrinkOnLoad(await photoCorpus(), ctx.modelDir),
	/** The photo-heavy corpus end to end, int8, against transformers.js (decoding bounds it). */
	photos: async ctx => {
		const dir = await photoCorpus();
		const spec = await loadModelSpec(ctx.modelDir, { variant: 'quantized' });
		const files = (await fs.readdir(dir)).filter(f => !f.startsWith('.')).map(f => path.join(dir, f));
		const label = `, photo corpus (${files.length} images, photos ≈ 190 MP)`;
		const decode = await figureDecode(files, spec, label);
		const infer = await figureInference(spec, 'quantized', await decodeAll(files.slice(0, 40), spec));
		await figureEndToEnd(dir, spec, 'quantized', 1 / (1 / decode + 1 / infer[16]), label);
		figurePeer(dir, ctx.modelDir, 'quantized', 2.2, label);
	},
	gpu: async ctx => {
		const files = await ctx.files();
		ctx.rates.decode ||= await figureDecode(files, await loadModelSpec(ctx.modelDir, { variant: 'fp32' }));
		await figureGpu(ctx.modelDir, files, ctx.rates.decode);
	},
	gflops: async ctx => {
		if (!ctx.rates.infer_fp32) {
			const spec = await loadModelSpec(ctx.modelDir, { variant: 'fp32' });
			ctx.rates.infer_fp32 = (await figureInference(spec, 'fp32', await decodeAll((await ctx.files()).slice(0, 40), spec)))[16];
		}
		await figureGflops(ctx.modelDir, ctx.rates.infer_fp32);
	},
};

async function main(): Promise<void> {
	const started = performance.now();
	const only = opt('only')?.split(',');
	const unknown = only?.filter(p => !(p in PARTS));
	if (unknown?.length) {
		throw new Error(`unknown part ${unknown.join(', ')}: --only takes ${Object.keys(PARTS).join(', ')}`);
	}
	const ctx = new Context(!only);
	if (!only) {
		rows.push({ figure: 'model', value: opt('model') ? ctx.modelDir : 'CLIP ViT-B/32 architecture, random weights: the speed is the real model’s, the embeddings are meaningless' });
	}
	for (const name of only ?? Object.keys(PARTS)) {
		say(`part ${name}`);
		await PARTS[name](ctx);
	}
	if (!only) {
		results.rows = rows;
		results.machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, flags: cpuFlags(), node: process.version, date: new Date().toISOString() };
		await fs.writeFile(path.join(repo, 'bench', 'results.json'), JSON.stringify(results, null, 2));
	}
	printRows(started);
}

function printRows(started: number): void {
	const w = Math.max(...rows.map(r => r.figure.length));
	console.log(`\nCLIP Image Search benchmark (${os.cpus().length} × ${os.cpus()[0]?.model}, ${cpuFlags()}, ${process.version}, ${RUNS} run(s) each, median)\n`);
	for (const r of rows) {
		const verdict = r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS';
		console.log(`${r.figure.padEnd(w)}  ${r.value}${r.target ? `   [target ${r.target}: ${verdict}]` : ''}`);
	}
	console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch(err => {
	console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
	process.exit(1);
});
