import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkTransport, downloadModel, fileUrl } from '../../../../src/core/model/hub/download';
import { ClipError } from '../../../../src/core/common/errors';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { DEFAULT_MODEL_ID, downloadSize, estimatedRate, filesForVariant, findKnownModel, type KnownModel, KNOWN_MODELS, licenceText } from '../../../../src/core/model/hub/modelRegistry';
import { needsDownload, resolveModel } from '../../../../src/core/model/hub/modelResolver';
import { onnxFileName } from '../../../../src/core/model/layouts/modelSpec';
import { ensureRclipMerges, fixturesDir, tempDir } from '../../../helpers';

/**
 * A local stand-in for the Hugging Face hub on 127.0.0.1 that misbehaves on demand. `faults`
 * maps a file path to what to do on each successive request for it.
 */
type Fault = 'ok' | 'drop' | '500' | '404' | 'corrupt' | 'slow' | 'redirect-lfs' | 'ignore-range' | 'no-hash' | 'endless';

class FakeHub {
	server!: http.Server;
	endpoint = '';
	files = new Map<string, Buffer>();
	faults = new Map<string, Fault[]>();
	requests: { path: string; range?: string }[] = [];

	async start(): Promise<void> {
		this.server = http.createServer((req, res) => this.handle(req, res));
		await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve));
		this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
	}

	async stop(): Promise<void> {
		this.server.closeAllConnections();
		await new Promise(resolve => this.server.close(resolve));
	}

	private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
		const url = new URL(req.url ?? '/', this.endpoint);
		const cdn = url.pathname.startsWith('/cdn/');
		const m = cdn ? ['', url.pathname.slice(5)] : /^\/[^/]+\/[^/]+\/resolve\/[^/]+\/(.+)$/.exec(url.pathname);
		const file = m ? decodeURIComponent(m[1]) : '';
		this.requests.push({ path: file, range: req.headers.range });
		const body = this.files.get(file);
		if (!body) {
			res.writeHead(404).end('not found');
			return;
		}
		const fault = cdn ? 'ok' : (this.faults.get(file)?.shift() ?? 'ok');
		if (fault === '404') {
			res.writeHead(404).end();
			return;
		}
		if (fault === '500') {
			res.writeHead(503).end('busy');
			return;
		}
		if (fault === 'redirect-lfs') {
			const sha = createHash('sha256').update(body).digest('hex');
			res.writeHead(302, { location: `/cdn/${file}`, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(body.length) }).end();
			return;
		}
		if (fault === 'endless') {
			// A hostile mirror: the file, then bytes for ever, with no length stated.
			res.writeHead(200, { etag: '"0000000000000000000000000000000000000000"' });
			res.write(body);
			const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(randomBytes(64 * 1024))), 1);
			res.on('close', () => clearInterval(t));
			return;
		}
		let start = 0;
		const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
		if (range && fault !== 'ignore-range') {
			start = Number(range[1]);
		}
		const slice = body.subarray(start);
		const headers: http.OutgoingHttpHeaders = { 'content-length': String(slice.length) };
		if (!cdn && fault !== 'no-hash') {
			// Plain Git files: the ETag is the Git blob SHA-1, as on the hub.
			headers.etag = `"${createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex')}"`;
		}
		if (start > 0) {
			headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
		}
		res.writeHead(start > 0 ? 206 : 200, headers);
		if (fault === 'drop') {
			res.write(slice.subarray(0, Math.floor(slice.length / 3)));
			setTimeout(() => res.destroy(), 20);
			return;
		}
		if (fault === 'corrupt') {
			const bad = Buffer.from(slice);
			bad[Math.floor(bad.length / 2)] ^= 0xff;
			res.end(bad);
			return;
		}
		if (fault === 'slow') {
			res.write(slice.subarray(0, 1000));
			const t = setInterval(() => {
				if (res.destroyed) {
					clearInterval(t);
				} else {
					res.write(Buffer.alloc(0));
				}
			}, 50);
			res.on('close', () => clearInterval(t));
			return;
		}
		res.end(slice);
	}
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('model download (against a local hub on 127.0.0.1)', () => {
	const hub = new FakeHub();
	const big = randomBytes(300_000);
	const config = Buffer.from('{"projection_dim": 32}');
	const model: KnownModel = {
		id: 'test/tiny',
		label: 'tiny',
		revision: '0123456789abcdef0123456789abcdef01234567',
		description: 'test',
		goodFor: 'tests',
		variants: ['fp32'],
		licence: { id: 'MIT', name: 'MIT', commercial: true, source: 'test' },
		quality: { source: 'test' },
		files: [
			{ path: 'config.json' },
			{ path: 'onnx/vision_model.onnx', sha256: sha256(big), size: big.length },
		],
	};

	before(async () => {
		await hub.start();
		hub.files.set('config.json', config);
		hub.files.set('onnx/vision_model.onnx', big);
	});
	after(() => hub.stop());

	const fresh = async (): Promise<string> => path.join(await tempDir('clip-dl-'), 'model');
	const opts = (extra: object = {}) => ({ endpoint: hub.endpoint, backoffMs: 10, retries: 4, ...extra });

	it('verifies a resumed file whole: a tampered partial file is discarded even when the server sends the real hash', async () => {
		const dir = await fresh();
		await fs.mkdir(dir, { recursive: true });
		// The first bytes of config.json on disk are not the server's: resuming appends the rest.
		const tampered = Buffer.from(config);
		tampered[2] = 'X'.charCodeAt(0);
		await fs.writeFile(path.join(dir, 'config.json.part'), tampered.subarray(0, 10));
		hub.requests = [];
		await assert.rejects(downloadModel(model, 'fp32', dir, opts()), (e: unknown) => ClipError.is(e, 'ChecksumMismatch') && /config\.json.*Git blob SHA-1/.test((e as Error).message));
		assert.ok(hub.requests.some(r => r.path === 'config.json' && r.range === 'bytes=10-'), 'it did resume');
		assert.ok(!(await fs.readdir(dir)).includes('config.json'), 'never moved into place');
		assert.ok(!(await fs.readdir(dir)).includes('config.json.part'), 'the tampered bytes are gone');
		// The next try starts clean and succeeds.
		await downloadModel(model, 'fp32', dir, opts());
		assert.deepEqual(await fs.readFile(path.join(dir, 'config.json')), config);
	});

	it('stops a body that does not end: at the pinned size, else at the ceiling; nothing is left on disk', async () => {
		const dir = await fresh();
		hub.faults.set('onnx/vision_model.onnx', ['endless']);
		await assert.rejects(downloadModel(model, 'fp32', dir, opts({ retries: 1 })), (e: unknown) => ClipError.is(e, 'DownloadFailed') && /vision_model\.onnx .*sent more than 300 kB \(the size it should have\)/.test((e as Error).message));
		assert.ok(!(await fs.readdir(path.join(dir, 'onnx')).catch(() => [] as string[])).some(f => f.startsWith('vision_model')), 'no partial file kept');
		hub.faults.set('config.json', ['endless']);
		const other = await fresh();
		await assert.rejects(downloadModel(model, 'fp32', other, opts({ retries: 1, maxBytes: 200_000 })), (e: unknown) => ClipError.is(e, 'DownloadFailed') && /config\.json .*sent more than 200 kB \(the most a model file may have\)/.test((e as Error).message));
		assert.ok(!(await fs.readdir(other)).some(f => f.startsWith('config.json')));
		hub.faults.delete('config.json');
		hub.faults.delete('onnx/vision_model.onnx');
	});

	it('refuses a file that no hash vouches for (none pinned, none stated), unless told to accept it', async () => {
		const dir = await fresh();
		hub.faults.set('config.json', ['no-hash']);
		await assert.rejects(downloadModel(model, 'fp32', dir, opts()), (e: unknown) => ClipError.is(e, 'Unverifiable') && /config\.json.*CLIP_SEARCH_ALLOW_UNVERIFIED=1/.test((e as Error).message));
		assert.ok(!(await fs.readdir(dir)).includes('config.json'));
		hub.faults.set('config.json', ['no-hash']);
		await downloadModel(model, 'fp32', dir, opts({ allowUnverified: true }));
		assert.deepEqual(await fs.readFile(path.join(dir, 'config.json')), config);
	});

	it('refuses plain http:// to another machine before connecting; loopback and an explicit opt-in are allowed', async () => {
		const dir = await fresh();
		await assert.rejects(downloadModel(model, 'fp32', dir, { endpoint: 'http://mirror.example.invalid', retries: 1 }), (e: unknown) =>
			ClipError.is(e, 'Unverifiable') && /plain http:\/\/.*CLIP_SEARCH_ALLOW_HTTP=1/.test((e as Error).message),
		);
		assert.doesNotThrow(() => checkTransport('http://127.0.0.1:8080/x'));
		assert.doesNotThrow(() => checkTransport('http://[::1]/x'));
		assert.doesNotThrow(() => checkTransport('https://huggingface.co/x'));
		assert.doesNotThrow(() => checkTransport('http://mirror.example.invalid/x', { allowHttp: true }));
		assert.throws(() => checkTransport('ftp://huggingface.co/x'), (e: unknown) => ClipError.is(e, 'Unverifiable'));
	});

	it('builds pinned-revision Hugging Face URLs', () => {
		assert.equal(
			fileUrl('https://huggingface.co', model, 'onnx/vision_model.onnx'),
			'https://huggingface.co/test/tiny/resolve/0123456789abcdef0123456789abcdef01234567/onnx/vision_model.onnx',
		);
	});

	it('downloads, verifies (pinned SHA-256 and Git blob ETag) and reports progress per file', async () => {
		const dir = await fresh();
		const events: string[] = [];
		await downloadModel(model, 'fp32', dir, opts({ onProgress: (p: { file: string; status: string; loaded: number; total?: number }) => events.push(`${p.file}:${p.status}`) }));
		assert.deepEqual(await fs.readFile(path.join(dir, 'onnx/vision_model.onnx')), big);
		assert.deepEqual(await fs.readFile(path.join(dir, 'config.json')), config);
		assert.ok(events.includes('onnx/vision_model.onnx:start') && events.includes('onnx/vision_model.onnx:done'));
		assert.ok(!(await fs.readdir(path.join(dir, 'onnx'))).some(f => f.endsWith('.part')));
		// Nothing left to do on a second call.
		const before = hub.requests.length;
		await downloadModel(model, 'fp32', dir, opts());
		assert.equal(hub.requests.length, before);
	});

	it('resumes with a range request after the connection drops mid-file', async () => {
		const dir = await fresh();
		hub.requests = [];
		hub.faults.set('onnx/vision_model.onnx', ['drop']);
		await downloadModel(model, 'fp32', dir, opts());
		assert.deepEqual(await fs.readFile(path.join(dir, 'onnx/vision_model.onnx')), big);
		const ranged = hub.requests.filter(r => r.path === 'onnx/vision_model.onnx' && r.range);
		assert.equal(ranged.length, 1, 'the second request asks for the rest only');
		assert.match(ranged[0].range!, /^bytes=[1-9]\d*-$/);
	});

	it('starts over when the server ignores the range', async () => {
		const dir = await fresh();
		hub.faults.set('onnx/vision_model.onnx', ['drop', 'ignore-range']);
		await downloadModel(model, 'fp32', dir, opts());
		assert.deepEqual(await fs.readFile(path.join(dir, 'onnx/vision_model.onnx')), big);
	});

	it('retries 5xx answers with backoff, then succeeds', async () => {
		const dir = await fresh();
		hub.faults.set('onnx/vision_model.onnx', ['500', '500']);
		const logs: string[] = [];
		await downloadModel(model, 'fp32', dir, opts({ log: (m: string) => logs.push(m) }));
		assert.equal(logs.filter(l => /503/.test(l)).length, 2);
		assert.deepEqual(await fs.readFile(path.join(dir, 'onnx/vision_model.onnx')), big);
	});

	it('fails on 404 with an error naming the model, the file, the URL and the offline way out', async () => {
		const dir = await fresh();
		hub.faults.set('config.json', ['404']);
		await assert.rejects(downloadModel(model, 'fp32', dir, opts()), (e: unknown) => {
			assert.ok(ClipError.is(e, 'DownloadFailed'));
			assert.match(e.message, /config\.json/);
			assert.match(e.message, /404/);
			assert.match(e.message, new RegExp(hub.endpoint.replace(/[.:/]/g, '\\$&')));
			return true;
		});
	});

	it('discards a corrupted file (checksum mismatch) and never moves it into place', async () => {
		const dir = await fresh();
		hub.faults.set('onnx/vision_model.onnx', ['corrupt']);
		await assert.rejects(downloadModel(model, 'fp32', dir, opts()), (e: unknown) => ClipError.is(e, 'ChecksumMismatch') && /vision_model\.onnx/.test((e as Error).message));
		const names = await fs.readdir(path.join(dir, 'onnx'));
		assert.deepEqual(names, [], 'neither the file nor its .part remains');
	});

	it('checks the SHA-256 the server states for LFS files (X-Linked-Etag on the redirect)', async () => {
		const dir = await fresh();
		const unpinned: KnownModel = { ...model, files: [{ path: 'onnx/vision_model.onnx' }] };
		hub.faults.set('onnx/vision_model.onnx', ['redirect-lfs']);
		await downloadModel(unpinned, 'fp32', dir, opts());
		assert.deepEqual(await fs.readFile(path.join(dir, 'onnx/vision_model.onnx')), big);
	});

	it('cancels a slow download, keeps the partial file, and resumes it next time', async () => {
		const dir = await fresh();
		hub.faults.set('onnx/vision_model.onnx', ['slow']);
		const controller = new AbortController();
		const pending = downloadModel(model, 'fp32', dir, opts({ signal: controller.signal }));
		setTimeout(() => controller.abort(), 300);
		await assert.rejects(pending, (e: unknown) => ClipError.is(e, 'Cancelled'));
		const part = path.join(dir, 'onnx/vision_model.onnx.part');
		assert.equal((await fs.stat(part)).size, 1000);
		await assert.rejects(fs.access(path.join(dir, 'onnx/vision_model.onnx')));
		hub.requests = [];
		await downloadModel(model, 'fp32', dir, opts());
		assert.deepEqual(await fs.readFile(path.join(dir, 'onnx/vision_model.onnx')), big);
		assert.equal(hub.requests.find(r => r.path === 'onnx/vision_model.onnx')?.range, 'bytes=1000-');
	});

	it('says how to work offline when the hub cannot be reached', async () => {
		const dir = await fresh();
		await assert.rejects(downloadModel(model, 'fp32', dir, { endpoint: 'http://127.0.0.1:9', backoffMs: 1, retries: 2 }), (e: unknown) => {
			assert.ok(ClipError.is(e, 'DownloadFailed'));
			assert.match(e.message, /test\/tiny/);
			assert.match(e.message, /--model \/path\/to\/folder/);
			return true;
		});
	});
});

describe('known models of other families (from a local hub)', () => {
	const hub = new FakeHub();
	const serve = async (fixture: string, skip: string[] = []): Promise<void> => {
		hub.files.clear();
		const root = path.join(fixturesDir, fixture);
		for (const rel of ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/text_model.onnx', 'onnx/vision_model.onnx', 'onnx/text_model_quantized.onnx', 'onnx/vision_model_quantized.onnx']) {
			if (!skip.includes(rel)) {
				hub.files.set(rel, await fs.readFile(path.join(root, rel)));
			}
		}
	};
	before(() => hub.start());
	after(() => hub.stop());

	it('lists each model with a pinned revision, the files of every variant it offers, a size and a purpose', () => {
		assert.ok(KNOWN_MODELS.some(m => m.id === DEFAULT_MODEL_ID));
		for (const m of KNOWN_MODELS) {
			if (m.unpinned) {
				assert.equal(m.revision, 'main', `${m.id}: an unpinned model comes from main (its key is its files' fingerprint)`);
			} else {
				assert.match(m.revision, /^[0-9a-f]{40}$/, m.id);
			}
			assert.ok(m.variants.length > 0 && m.goodFor.length > 20, m.id);
			assert.ok(m.quality.source.length > 10, `${m.id}: where its quality figures come from`);
			for (const v of m.variants) {
				const paths = filesForVariant(m, v).map(f => f.path);
				const rclipName = paths.find(p => p.endsWith('/visual.onnx'))?.split('/')[0];
				const needs = paths.includes('visual/model.onnx')
					? ['config.json', 'visual/preprocess_cfg.json', 'visual/model.onnx', 'textual/model.onnx', 'textual/tokenizer.json', 'textual/tokenizer_config.json']
					: rclipName
						? ['tokenizer/bpe_simple_vocab_16e6.txt.gz', `${rclipName}/visual.onnx`, `${rclipName}/textual.onnx`]
						: ['config.json', 'preprocessor_config.json', 'tokenizer.json', onnxFileName('text', v), onnxFileName('vision', v)];
				for (const need of needs) {
					assert.ok(paths.includes(need), `${m.id} ${v} lists ${need}`);
				}
				assert.ok(downloadSize(m, v) > 1e8, `${m.id} ${v}: a size to show before downloading`);
				assert.ok(m.speed?.[v], `${m.id} ${v}: the bench speed behind the time estimate`);
			}
		}
		assert.deepEqual(findKnownModel('Xenova/mobileclip_s2')?.variants, ['fp32'], 'MobileCLIP: no int8 (not shown to hold its parity)');
	});

	it('every known model carries its licence; a research-only one is flagged and is never the default', () => {
		for (const m of KNOWN_MODELS) {
			assert.ok(m.licence.id && m.licence.name && m.licence.source, m.id);
		}
		const mobileclip = findKnownModel('Xenova/mobileclip_s2')!;
		assert.equal(mobileclip.licence.commercial, false, 'Apple research-only model licence since 2025-08-28');
		assert.match(licenceText(mobileclip), /^⚠ .*research only.*\(no commercial use\)$/);
		assert.equal(findKnownModel(DEFAULT_MODEL_ID)!.licence.commercial, true);
		assert.equal(licenceText(findKnownModel(DEFAULT_MODEL_ID)!), 'MIT');
	});

	it('the time estimate before a switch: the bench speed, scaled by how this machine did with the current model', () => {
		const clip = findKnownModel(DEFAULT_MODEL_ID)!;
		const bench = clip.speed!.quantized!.imagesPerSecond;
		assert.deepEqual(estimatedRate(10, DEFAULT_MODEL_ID, 'quantized', []), { imagesPerSecond: 10, calibrated: false }, 'no run to learn from');
		assert.deepEqual(estimatedRate(10, '/some/folder', 'fp32', [{ lastResult: { embedded: 500, seconds: 5 } }]), { imagesPerSecond: 10, calibrated: false }, 'a local folder has no bench figure');
		assert.equal(estimatedRate(10, DEFAULT_MODEL_ID, 'quantized', [{ lastResult: { embedded: 3, seconds: 1 } }]).calibrated, false, 'too few images to time');
		// This machine indexed at half the bench speed: the new model is expected at half its bench speed too.
		const half = estimatedRate(10, DEFAULT_MODEL_ID, 'quantized', [{}, { lastResult: { embedded: 200, seconds: 400 / bench } }]);
		assert.equal(half.calibrated, true);
		assert.ok(Math.abs(half.imagesPerSecond - 5) < 1e-9, `${half.imagesPerSecond}`);
	});

	it('MobileCLIP asked for as int8 resolves to the variant it offers, downloads it and reads as CLIP I/O', async () => {
		await serve('tiny-mobileclip');
		const cacheDir = await tempDir('clip-known-');
		const spec = await resolveModel('Xenova/mobileclip_s2', { variant: 'quantized', cacheDir, endpoint: hub.endpoint, backoffMs: 1 });
		assert.equal(spec.variant, 'fp32');
		assert.equal(spec.family, 'clip');
		assert.equal(await needsDownload('Xenova/mobileclip_s2', { variant: 'quantized', cacheDir }), false);
		assert.ok(!hub.requests.some(r => r.path.includes('_quantized')), 'no int8 file fetched');
		const enc = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
		try {
			assert.equal((await enc.encodeText('a red circle')).length, spec.dim, 'the fixed 77-token text graph gets rows of 77');
		} finally {
			await enc.dispose();
		}
	});

	it("Immich's and rclip's known models download in their own layouts and load (rclip's from its repository, keyed by its files)", async t => {
		const serveTree = async (fixture: string, map: (rel: string) => string | undefined): Promise<void> => {
			hub.files.clear();
			const root = path.join(fixturesDir, fixture);
			const walk = async (dir: string): Promise<void> => {
				for (const e of await fs.readdir(dir, { withFileTypes: true })) {
					const abs = path.join(dir, e.name);
					if (e.isDirectory()) {
						await walk(abs);
					} else {
						const to = map(path.relative(root, abs).split(path.sep).join('/'));
						if (to) {
							hub.files.set(to, await fs.readFile(abs));
						}
					}
				}
			};
			await walk(root);
		};
		const cacheDir = await tempDir('clip-known-');
		await serveTree('tiny-immich-clip', rel => rel);
		hub.requests.length = 0;
		// The real model's files (and their pinned sizes), the fixture's bytes: sizes are left to the hub here.
		const immichKnown = findKnownModel('immich-app/ViT-B-32__openai')!;
		(KNOWN_MODELS as KnownModel[]).push({ ...immichKnown, id: 'test/immich-tiny', files: immichKnown.files.map(f => ({ path: f.path })) });
		try {
			const immich = await resolveModel('test/immich-tiny', { variant: 'quantized', cacheDir, endpoint: hub.endpoint, backoffMs: 1 });
			assert.equal(immich.layout, 'immich');
			assert.equal(immich.variant, 'fp32', 'Immich publishes full precision only');
			assert.equal(immich.revision, immichKnown.revision, 'pinned');
			assert.ok(!hub.requests.some(r => /armnn|rknn|vocab\.json|merges/.test(r.path)), 'only the ONNX files and what the runtime reads');
		} finally {
			(KNOWN_MODELS as KnownModel[]).pop();
		}

		const skip = ensureRclipMerges();
		if (skip) {
			t.skip(skip);
			return;
		}
		const rclip = findKnownModel('rclip/ViT-B-32-256-datacomp_s34b_b86k')!;
		assert.equal(fileUrl('https://huggingface.co', rclip, 'tokenizer/bpe_simple_vocab_16e6.txt.gz'), 'https://huggingface.co/yurijmikhalevich/rclip-models/resolve/main/tokenizer/bpe_simple_vocab_16e6.txt.gz');
		// The fixture's merge file is a cut of OpenAI's, so the test pins its own hash for it.
		const fixtureMerges = await fs.readFile(path.join(fixturesDir, 'tiny-rclip/tokenizer/bpe_simple_vocab_16e6.txt.gz'));
		const tinyRclip: KnownModel = {
			...rclip,
			id: 'test/rclip-tiny',
			files: rclip.files.map(f => (f.path.endsWith('.gz') ? { path: f.path, sha256: sha256(fixtureMerges), size: fixtureMerges.length } : { path: f.path })),
		};
		(KNOWN_MODELS as KnownModel[]).push(tinyRclip);
		try {
			await serveTree('tiny-rclip', rel => (/\.(onnx|gz)$/.test(rel) ? rel : undefined));
			const spec = await resolveModel('test/rclip-tiny', { cacheDir, endpoint: hub.endpoint, backoffMs: 1 });
			assert.equal(spec.layout, 'rclip');
			assert.match(spec.revision, /^local-[0-9a-f]{16}$/, "main is not a revision: the model's key is its files' fingerprint");
			const again = await resolveModel('test/rclip-tiny', { cacheDir, endpoint: hub.endpoint, backoffMs: 1 });
			assert.equal(again.revision, spec.revision);
			const enc = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
			try {
				assert.equal((await enc.encodeText('a red circle')).length, spec.dim);
			} finally {
				await enc.dispose();
			}
		} finally {
			(KNOWN_MODELS as KnownModel[]).pop();
		}
	});

	it('a SigLIP model gets its pinned scale and bias; without them, probabilities are relative', async () => {
		await serve('tiny-siglip-multilingual', ['onnx/model.onnx']);
		const cacheDir = await tempDir('clip-known-');
		const plain = await resolveModel('pulsejet/siglip-base-patch16-256-multilingual-onnx', { variant: 'quantized', cacheDir, endpoint: hub.endpoint, backoffMs: 1 });
		assert.equal(plain.family, 'siglip');
		assert.equal(plain.link, 'softmax', 'no published bias: a softmax, and the log says why');
		const pinned: KnownModel = { ...findKnownModel('pulsejet/siglip-base-patch16-256-multilingual-onnx')!, id: 'test/siglip-pinned', logitParams: { logScale: 2.5, bias: -3, source: 'test (pinned)' } };
		(KNOWN_MODELS as KnownModel[]).push(pinned);
		try {
			const spec = await resolveModel('test/siglip-pinned', { variant: 'quantized', cacheDir, endpoint: hub.endpoint, backoffMs: 1 });
			assert.equal(spec.link, 'sigmoid');
			assert.equal(spec.logitBias, -3);
			assert.ok(Math.abs(spec.logitScale - Math.exp(2.5)) < 1e-9);
			assert.match(spec.scoringSource, /^test \(pinned\): scale 12\.182, bias -3\.000$/);
		} finally {
			(KNOWN_MODELS as KnownModel[]).pop();
		}
	});
});
