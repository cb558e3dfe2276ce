/**
 * Numbers from files, checked before use (issue 34, items 6 and 7), through the CLI where they were
 * found: an image whose recorded size the catalog's check would refuse is refused when indexed (the
 * index stays readable), and model folders that lie about their sizes are named as wrong before
 * anything is sized by them (hnswlib aborted the process; one image took 154 s and 2.7 GB).
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { copyFixtureImages, ensureRclipMerges, fixtureImagesDir, fixturesDir, tempDir } from '../helpers';
import { blackPng } from '../png';
import { cli, clip } from './runCli';

const skip = existsSync(cli) ? false : `needs ${cli}: run npm run build`;

describe('an image whose size the catalog would refuse (issue 34, item 6)', { skip }, () => {
	it('a 20,000,000 × 1 PNG under a squashing model is refused with the reason; the index stays readable and is not rewritten', async () => {
		const root = await tempDir('clip-wide-');
		await copyFixtureImages(root);
		await fs.writeFile(path.join(root, 'wide.png'), blackPng(20_000_000, 1));
		const env = { CLIP_SEARCH_CACHE: await tempDir('clip-wide-cache-') };
		const model = path.join(fixturesDir, 'tiny-siglip2');
		const first = await clip(['index', '.', '--model', model, '--json'], { cwd: root, env, timeoutMs: 120_000 });
		assert.equal(first.code, 0, first.stderr);
		const result = JSON.parse(first.stdout) as { embedded: number; failed: { path: string; error: string }[] };
		assert.equal(result.embedded, 32);
		const wide = result.failed.find(f => f.path === 'wide.png');
		assert.match(wide?.error ?? '', /20000000×1 pixels: a side longer than 10,000,000 pixels is not indexed/);
		const search = await clip(['search', 'a red circle', '-k', '2', '--json'], { cwd: root, env });
		assert.equal(search.code, 0, search.stderr);
		assert.equal((JSON.parse(search.stdout) as unknown[]).length, 2);
		const again = await clip(['index', '.', '--model', model, '--json'], { cwd: root, env, timeoutMs: 120_000 });
		assert.equal(again.code, 0, again.stderr);
		assert.equal((JSON.parse(again.stdout) as { embedded: number }).embedded, 0, 'nothing rebuilt');
	});
});

/** Copies a fixture model folder and changes one of its files. */
async function lyingModel(name: string, file: string, change: (bytes: Buffer) => Buffer | string): Promise<string> {
	const dir = path.join(await tempDir('clip-lying-'), name);
	await fs.cp(path.join(fixturesDir, name), dir, { recursive: true });
	const p = path.join(dir, file);
	await fs.writeFile(p, change(await fs.readFile(p)));
	return dir;
}

const json = (edit: (o: Record<string, unknown>) => void) => (bytes: Buffer): string => {
	const o = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
	edit(o);
	return JSON.stringify(o);
};

describe('model folders that lie about their sizes (issue 34, item 7)', { skip }, () => {
	const image = path.join(fixtureImagesDir, 'red-circle.png');
	const env = async () => ({ CLIP_SEARCH_CACHE: await tempDir('clip-lying-cache-') });
	const cases: [string, () => Promise<string>, string[], RegExp][] = [
		['Immich config.json embed_dim 1e9', () => lyingModel('tiny-immich-clip', 'config.json', json(o => (o.embed_dim = 1e9))), ['--text', 'a cat'], /config\.json: an embedding size of 1000000000 is not one a CLIP model has/],
		['transformers.js projection_dim 1e9', () => lyingModel('tiny-clip', 'config.json', json(o => (o.projection_dim = 1e9))), ['--text', 'a cat'], /config\.json: an embedding size of 1000000000/],
		['transformers.js projection_dim 48 (the graph gives 32)', () => lyingModel('tiny-clip', 'config.json', json(o => (o.projection_dim = 48))), ['--text', 'a cat'], /config\.json states an embedding size of 48, but text_model\.onnx gives 32/],
		['Immich preprocess_cfg size [12000, 12000]', () => lyingModel('tiny-immich-clip', 'visual/preprocess_cfg.json', json(o => (o.size = [12000, 12000]))), ['--image', image], /preprocess_cfg\.json: an input size of 12000 pixels/],
		['Immich preprocess_cfg size [96, 96] (the graph takes 64)', () => lyingModel('tiny-immich-clip', 'visual/preprocess_cfg.json', json(o => (o.size = [96, 96]))), ['--image', image], /preprocess_cfg\.json states an input of 96×96 pixels, but model\.onnx takes 64×64/],
	];
	for (const [name, make, args, message] of cases) {
		it(`${name}: refused naming the file, exit 1`, async () => {
			const dir = await make();
			const r = await clip(['embed', '--model', dir, ...args], { env: await env(), timeoutMs: 60_000 });
			assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
			assert.match(r.stderr, message);
			assert.match(r.stderr, /\[ModelInvalid\]/);
		});
	}

	it('an rclip graph declaring a 1.5e9 output: refused naming the graph, and no index is made', { skip: ensureRclipMerges() }, async () => {
		const dir = await lyingModel('tiny-rclip', 'ViT-B-32-256-datacomp_s34b_b86k/textual.onnx', bytes => {
			const m = onnx.ModelProto.decode(bytes);
			const dims = m.graph!.output![0].type!.tensorType!.shape!.dim!;
			dims[dims.length - 1] = { dimValue: 1_500_000_000 };
			return Buffer.from(onnx.ModelProto.encode(m).finish());
		});
		const root = await tempDir('clip-lying-rclip-root-');
		await copyFixtureImages(root);
		const r = await clip(['index', '.', '--model', dir], { cwd: root, env: await env(), timeoutMs: 60_000 });
		assert.equal(r.code, 1, `exit ${r.code} (134 is SIGABRT): ${r.stderr}`);
		assert.match(r.stderr, /textual\.onnx: an embedding size of 1500000000/);
	});
});

describe('a variant a model folder does not offer (issue 34, item 13)', { skip }, () => {
	for (const name of ['tiny-immich-clip', 'tiny-rclip']) {
		it(`${name} with --variant quantized: VariantUnavailable, saying to use fp32 (the model was found)`, { skip: name === 'tiny-rclip' ? ensureRclipMerges() : false }, async () => {
			const r = await clip(['embed', '--model', path.join(fixturesDir, name), '--variant', 'quantized', '--text', 'a cat'], { env: { CLIP_SEARCH_CACHE: await tempDir('clip-variant-cache-') } });
			assert.equal(r.code, 1, r.stderr);
			assert.match(r.stderr, /full-precision \(fp32\) graphs only: use --variant fp32 .*\[VariantUnavailable\]/);
		});
	}
});
