import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { cli, clip } from './runCli';

describe('clip-search CLI (dist/cli.js, built by npm run build)', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let index: string;
	let cache: string;
	const env = (): NodeJS.ProcessEnv => ({ CLIP_SEARCH_CACHE: cache });

	before(async () => {
		root = await tempDir('clip-cli-root-');
		await copyFixtureImages(root);
		await fs.writeFile(path.join(root, 'corrupt.png'), Buffer.from('89504e470d0a1a0a0000', 'hex'));
		index = await tempDir('clip-cli-index-');
		cache = await tempDir('clip-cli-cache-');
	});

	it('index --json reports what it did, and a second run embeds nothing', async () => {
		const first = await clip(['index', root, '--model', tinyModelDir, '--index', index, '--provider', 'cpu', '--json'], { env: env() });
		assert.equal(first.code, 0, first.stderr);
		const r = JSON.parse(first.stdout) as { scanned: number; embedded: number; reused: number; removed: number; failed: { path: string; error: string }[]; seconds: number };
		assert.deepEqual(Object.keys(r).sort(), ['embedded', 'failed', 'removed', 'reused', 'scanned', 'seconds']);
		assert.equal(r.scanned, 33);
		assert.equal(r.embedded, 32);
		assert.deepEqual(r.failed.map(f => f.path), ['corrupt.png']);
		assert.match(r.failed[0].error, /corrupt\.png/);
		const second = JSON.parse((await clip(['index', root, '--index', index, '--json'], { env: env() })).stdout) as typeof r;
		assert.equal(second.embedded, 0);
		assert.equal(second.scanned, 33);
	});

	it('search --json returns relative paths with cosine scores, best first', async () => {
		const res = await clip(['search', 'a photo of a purple star', '--index', index, '-k', '3', '--json'], { env: env() });
		assert.equal(res.code, 0, res.stderr);
		const hits = JSON.parse(res.stdout) as { path: string; score: number; why: { cosine: number } }[];
		assert.equal(hits.length, 3);
		assert.deepEqual(Object.keys(hits[0]).sort(), ['mtimeMs', 'path', 'score', 'size', 'why']);
		assert.equal(hits[0].why.cosine, hits[0].score, 'why: the cosine, and what else made it match');
		assert.equal(hits[0].path, 'purple-star.png');
		assert.ok(hits[0].score >= hits[1].score);
		const none = JSON.parse((await clip(['search', 'purple star', '--index', index, '--min-score', '0.9999', '--json'], { env: env() })).stdout);
		assert.deepEqual(none, []);
	});

	it('search uses the current folder’s default index when --index is not given', async () => {
		const cwdIndex = await clip(['index', '.', '--model', tinyModelDir, '--json'], { cwd: root, env: env() });
		assert.equal(cwdIndex.code, 0, cwdIndex.stderr);
		const res = await clip(['search', 'orange cross', '-k', '1', '--json'], { cwd: root, env: env() });
		assert.equal(JSON.parse(res.stdout)[0].path, 'orange-cross.png');
		assert.ok((await fs.readdir(path.join(cache, 'indexes'))).length === 1, 'the default index lives in the cache, outside the indexed tree');
	});

	it('similar excludes the query image and finds its copy', async () => {
		const res = await clip(['similar', path.join(root, 'red-circle.png'), '--index', index, '-k', '2', '--json'], { env: env() });
		assert.equal(res.code, 0, res.stderr);
		const hits = JSON.parse(res.stdout) as { path: string }[];
		assert.equal(hits[0].path, 'copies/red-circle-copy.jpg');
		assert.ok(!hits.some(h => h.path === 'red-circle.png'));
	});

	it('label writes JSON results and a tags file', async () => {
		const out = path.join(await tempDir(), 'tags.json');
		const res = await clip(['label', '--classes', 'red,green,blue,yellow,purple,orange', '--index', index, '--out', out, '--json'], { env: env() });
		assert.equal(res.code, 0, res.stderr);
		const labels = JSON.parse(res.stdout) as { path: string; label: string | null; score: number; scores: Record<string, number> }[];
		assert.equal(labels.length, 32);
		assert.deepEqual(Object.keys(labels[0]).sort(), ['label', 'path', 'score', 'scores']);
		assert.equal(labels.find(l => l.path === 'green-cross.png')?.label, 'green');
		const tags = JSON.parse(await fs.readFile(out, 'utf8')) as { images: Record<string, { label: string }> };
		assert.equal(tags.images['blue-star.png'].label, 'blue');
		const classesFile = path.join(await tempDir(), 'classes.json');
		await fs.writeFile(classesFile, JSON.stringify({ round: ['a photo of a circle'], pointy: ['a photo of a star', 'a photo of a triangle'] }));
		const fromFile = JSON.parse((await clip(['label', '--classes-file', classesFile, '--index', index, '--json'], { env: env() })).stdout) as typeof labels;
		assert.equal(fromFile.find(l => l.path === 'yellow-circle.png')?.label, 'round');
	});

	it('embed prints an L2-normalised vector; tokenize prints the unpadded ids', async () => {
		const text = JSON.parse((await clip(['embed', '--model', tinyModelDir, '--text', 'a red circle', '--json'])).stdout) as { model: string; dim: number; vector: number[] };
		assert.equal(text.dim, 32);
		assert.equal(text.vector.length, 32);
		assert.ok(Math.abs(Math.hypot(...text.vector) - 1) < 1e-5);
		const image = JSON.parse((await clip(['embed', '--model', tinyModelDir, '--image', path.join(root, 'red-circle.png'), '--json'])).stdout) as typeof text;
		const cos = image.vector.reduce((s, v, i) => s + v * text.vector[i], 0);
		assert.ok(cos > 0.2, `a red circle and its caption agree (cosine ${cos})`);
		const tok = JSON.parse((await clip(['tokenize', '--model', tinyModelDir, 'a red circle', '--json'])).stdout) as { ids: number[] };
		assert.equal(tok.ids.length > 3, true);
		assert.equal(tok.ids[0], 614);
		assert.equal(tok.ids.at(-1), 615);
	});

	it('tokenize needs only config.json and the tokenizer; embed --text only the text model', async () => {
		const dir = await tempDir('clip-text-only-');
		for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
			await fs.copyFile(path.join(tinyModelDir, f), path.join(dir, f));
		}
		const tok = await clip(['tokenize', '--model', dir, 'a red circle', '--json']);
		assert.equal(tok.code, 0, tok.stderr);
		assert.equal((JSON.parse(tok.stdout) as { ids: number[] }).ids[0], 614);
		const noModel = await clip(['embed', '--model', dir, '--text', 'a red circle', '--json']);
		assert.equal(noModel.code, 1);
		assert.match(noModel.stderr, /text_model\.onnx/, 'names the one missing file');
		assert.doesNotMatch(noModel.stderr, /preprocessor_config|vision_model/);
		await fs.mkdir(path.join(dir, 'onnx'));
		await fs.copyFile(path.join(tinyModelDir, 'onnx', 'text_model.onnx'), path.join(dir, 'onnx', 'text_model.onnx'));
		const text = await clip(['embed', '--model', dir, '--text', 'a red circle', '--json']);
		assert.equal(text.code, 0, text.stderr);
		const full = await clip(['embed', '--model', tinyModelDir, '--text', 'a red circle', '--json']);
		assert.deepEqual((JSON.parse(text.stdout) as { vector: number[] }).vector, (JSON.parse(full.stdout) as { vector: number[] }).vector);
		const image = await clip(['embed', '--model', dir, '--image', path.join(tinyModelDir, '..', 'images', 'red-circle.png')]);
		assert.equal(image.code, 1);
		assert.match(image.stderr, /preprocessor_config\.json/);
	});

	it('checks --provider before any download or lock', async () => {
		const index = await tempDir();
		const res = await clip(['index', root, '--model', 'Xenova/clip-vit-base-patch32', '--provider', 'quantum', '--index', index], { env: { ...process.env, HF_ENDPOINT: 'http://127.0.0.1:9' } });
		assert.equal(res.code, 2);
		assert.match(res.stderr, /--provider must be one of/);
		assert.deepEqual(await fs.readdir(index), [], 'no lock was taken');
	});

	it('stats reports files, failures with reasons, model, provider and index size', async () => {
		const res = await clip(['stats', '--index', index, '--json'], { env: env() });
		assert.equal(res.code, 0, res.stderr);
		const s = JSON.parse(res.stdout) as { files: number; indexed: number; failed: { path: string }[]; model: { id: string; dim: number }; provider: string; indexBytes: number; vectors: number };
		assert.equal(s.files, 33);
		assert.equal(s.indexed, 32);
		assert.deepEqual(s.failed.map(f => f.path), ['corrupt.png']);
		assert.equal(s.model.dim, 32);
		assert.equal(s.provider, 'cpu');
		assert.ok(s.indexBytes > 0);
	});

	it('refuses to write an index another live process is writing, naming it', async () => {
		const dir = await tempDir();
		await fs.writeFile(path.join(dir, 'index.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), since: new Date().toISOString(), purpose: 'another indexer' }));
		const res = await clip(['index', root, '--model', tinyModelDir, '--index', dir]);
		assert.equal(res.code, 1);
		assert.match(res.stderr, new RegExp(`process ${process.pid} .*another indexer.*\\[IndexLocked\\]`));
	});

	it('fails with one clear line and a non-zero exit code', async () => {
		const badModel = await clip(['index', root, '--model', '/nonexistent/model', '--index', await tempDir()]);
		assert.notEqual(badModel.code, 0);
		assert.match(badModel.stderr.trim(), /^clip-search: .*nonexistent.*\[ModelNotFound\]$/);
		const noIndex = await clip(['search', 'cats', '--index', await tempDir()]);
		assert.equal(noIndex.code, 1);
		assert.match(noIndex.stderr, /No index in .*Run "clip-search index/);
		const usage = await clip(['frobnicate']);
		assert.equal(usage.code, 2);
		const offline = await clip(['embed', '--model', 'Xenova/clip-vit-base-patch32', '--text', 'x'], { env: { ...env(), HF_ENDPOINT: 'http://127.0.0.1:9' } });
		assert.equal(offline.code, 1);
		assert.match(offline.stderr, /Cannot download Xenova\/clip-vit-base-patch32 .*http:\/\/127\.0\.0\.1:9\/Xenova\/clip-vit-base-patch32\/resolve\/d15189d/);
		assert.match(offline.stderr, /--model \/path\/to\/folder/);
	});
});
