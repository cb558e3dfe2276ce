/**
 * @file Bench part `e2e`: inference alone per batch size, decoding alone, end-to-end cold indexing
 * against the serial bound they make, peak memory of a whole CLI run, and the product against
 * transformers.js in alternating whole processes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, promises as fs, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { indexFolder } from '../../src/core/index/indexer';
import { openIndexForWriting } from '../../src/core/index/indexSession';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import type { ModelSpec, ModelVariant } from '../../src/core/model/layouts/modelSpec';
import type { DecodedImage } from '../../src/core/model/inputs/preprocess';
import { args, benchCache, decodeAll, median, QUICK, repo, results, rows, RUNS, say, timed } from '../common';

export async function figureInference(spec: ModelSpec, variant: ModelVariant, images: DecodedImage[]): Promise<Record<number, number>> {
	const encoder = new ClipEncoder(spec, { provider: 'cpu' });
	const n = QUICK ? 16 : 32;
	const sample = images.slice(0, n);
	await encoder.encodeImages(sample.slice(0, 1)); // session creation, outside the timing
	const rates: Record<number, number> = {};
	for (const batch of [1, 8, 16, 32]) {
		const runs: number[] = [];
		for (let r = 0; r < RUNS; r++) {
			const { ms } = await timed(async () => {
				for (let i = 0; i < sample.length; i += batch) {
					await encoder.encodeImages(sample.slice(i, i + batch));
				}
			});
			runs.push(sample.length / (ms / 1000));
		}
		rates[batch] = median(runs);
	}
	await encoder.dispose();
	rows.push({
		figure: `1. inference only, ${variant} (img/s at batch 1/8/16/32; ${os.availableParallelism()} threads)`,
		value: [1, 8, 16, 32].map(b => rates[b].toFixed(1)).join(' / '),
	});
	return rates;
}

export async function figureDecode(files: string[], spec: ModelSpec, corpusLabel = ''): Promise<number> {
	const runs: number[] = [];
	for (let r = 0; r < RUNS; r++) {
		const { ms, value } = await timed(() => decodeAll(files, spec));
		runs.push(value.length / (ms / 1000));
	}
	const rate = median(runs);
	rows.push({ figure: `2. decode + preprocess only (img/s, 4 at a time)${corpusLabel}`, value: rate.toFixed(1) });
	return rate;
}

export async function figureEndToEnd(dir: string, spec: ModelSpec, variant: ModelVariant, bound: number, corpusLabel = ''): Promise<number> {
	const encoder = new ClipEncoder(spec, { provider: 'cpu' });
	await encoder.encodeImages((await decodeAll((await fs.readdir(dir)).filter(f => !f.startsWith('.')).slice(0, 1).map(f => path.join(dir, f)), spec)).slice(0, 1));
	const runs: number[] = [];
	let failed = 0;
	for (let r = 0; r < RUNS; r++) {
		const indexDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-index-'));
		const store = await openIndexForWriting(indexDir, dir, spec);
		const result = await indexFolder(store, encoder, { batchSize: 16, exclusiveInference: args.includes('--overlap') ? false : undefined });
		failed = result.failed.length;
		runs.push(result.embedded / result.seconds);
		await fs.rm(indexDir, { recursive: true, force: true });
	}
	await encoder.dispose();
	const rate = median(runs);
	const ratio = rate / bound;
	rows.push({
		figure: `3. end-to-end cold indexing, ${variant}${corpusLabel} (img/s; ${failed} files failed${args.includes('--overlap') ? '; decoding overlapped with inference' : ''})`,
		value: `${rate.toFixed(1)} = ${(ratio * 100).toFixed(0)}% of the serial bound ${bound.toFixed(1)} (runs: ${runs.map(x => `${((x / bound) * 100).toFixed(0)}%`).join(', ')})`,
		target: '≥ 90% of the bound',
		pass: ratio >= 0.9,
	});
	return rate;
}

export function figurePeakRss(dir: string, model: string, variant: ModelVariant): void {
	const indexDir = path.join(os.tmpdir(), `clip-bench-rss-${process.pid}`);
	const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(repo, 'dist', 'cli.js'), 'index', dir, '--model', model, '--variant', variant, '--index', indexDir, '--provider', 'cpu', '--json'], {
		encoding: 'utf8',
	});
	void fs.rm(indexDir, { recursive: true, force: true });
	const kb = Number(r.stderr.trim().split('\n').pop());
	const mb = kb / 1024;
	const out = JSON.parse(r.stdout || '{}') as { embedded?: number; seconds?: number };
	results[`peakRss_${variant}_MB`] = mb;
	rows.push({
		figure: `3b. peak RSS, whole CLI run (model load included), ${variant}`,
		value: `${mb.toFixed(0)} MB (${out.embedded} images in ${out.seconds?.toFixed(1)} s wall, ${((out.embedded ?? 0) / (out.seconds ?? 1)).toFixed(1)} img/s)`,
		target: variant === 'fp32' ? '≤ 1200 MB' : undefined,
		pass: variant === 'fp32' ? mb <= 1200 : undefined,
	});
}

/**
 * Figure 4: the product against transformers.js on the same files, each a whole process (model
 * load and session creation outside the timing for both), run alternately — product, peer,
 * product, peer… — so that a noisy neighbour on this shared machine hits both alike; medians.
 */
export function figurePeer(dir: string, model: string, variant: ModelVariant, target: number, corpusLabel = ''): void {
	const peerDir = path.join(benchCache, 'peer');
	if (!existsSync(path.join(peerDir, 'node_modules', '@huggingface', 'transformers'))) {
		say('installing transformers.js 4.3.1 for the peer figure (once)');
		mkdirSync(peerDir, { recursive: true });
		execFileSync('sh', ['-c', `cat > package.json <<'J'\n{"name":"clip-bench-peer","private":true,"type":"module","allowScripts":{"onnxruntime-node":false,"sharp":true,"protobufjs":false}}\nJ`], { cwd: peerDir });
		execFileSync('npm', ['install', '--no-audit', '--no-fund', '@huggingface/transformers@4.3.1'], { cwd: peerDir, stdio: 'inherit' });
	}
	execFileSync('cp', [path.join(repo, 'bench', 'peer.mjs'), peerDir]);
	const product: number[] = [];
	const peer: number[] = [];
	const ratios: number[] = [];
	let failed = 0;
	let productFailed = 0;
	const last = (out: string): { rate: number; failed: number } => JSON.parse(out.trim().split('\n').pop()!) as { rate: number; failed: number };
	for (let r = 0; r < Math.max(3, RUNS); r++) {
		const ours = last(execFileSync(process.execPath, [path.join(repo, 'out', 'bench', 'productRun.js'), model, dir, variant], { encoding: 'utf8' }));
		const theirs = last(execFileSync(process.execPath, [path.join(peerDir, 'peer.mjs'), model, dir, variant === 'fp32' ? 'fp32' : 'q8'], { encoding: 'utf8', cwd: peerDir }));
		product.push(ours.rate);
		peer.push(theirs.rate);
		ratios.push(ours.rate / theirs.rate);
		failed = theirs.failed;
		productFailed = ours.failed;
	}
	const ratio = median(product) / median(peer);
	results[`peer_${variant}${corpusLabel ? '_photos' : ''}`] = { product, peer, failed, ratio };
	rows.push({
		figure: `4. whole process, alternating: product vs transformers.js 4.3.1, ${variant}${corpusLabel} (img/s; failed to read: ours ${productFailed}, theirs ${failed})`,
		value: `${median(product).toFixed(1)} vs ${median(peer).toFixed(1)} = ${ratio.toFixed(2)}× (runs ${ratios.map(x => x.toFixed(2)).join(', ')})`,
		target: `≥ ${target}×`,
		pass: ratio >= target,
	});
}
