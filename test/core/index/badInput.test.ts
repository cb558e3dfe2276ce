/**
 * Bad and odd input: a generated corpus of more than 40 kinds of files, indexed next to good images.
 * For each kind the expected outcome is asserted: indexed, or listed with its cause; the run goes
 * on and the good images are indexed whatever else the folder holds.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ClipEncoder } from '../../../src/core/model/runtime/encoder';
import { ClipError } from '../../../src/core/common/errors';
import { indexFolder } from '../../../src/core/index/indexer';
import { type IndexResult } from '../../../src/core/index/indexRun';
import type { IndexStore } from '../../../src/core/index/indexStore';
import { openIndexForWriting } from '../../../src/core/index/indexSession';
import { type ModelSpec } from '../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../src/core/model/inputs/preprocess';
import { cosine, fixtureImagesDir, tempDir, tinyModelDir } from '../../helpers';
import { pngBomb } from '../../png';

type Expect = 'ok' | RegExp;

interface Kind {
	name: string;
	/** Relative path of the file in the corpus. */
	rel: string;
	expect: Expect;
	make: (abs: string) => Promise<void>;
}

const solid = (w: number, h: number, rgb = { r: 200, g: 40, b: 40 }) => sharp({ create: { width: w, height: h, channels: 3, background: rgb } });

/** A 24-bit BMP written by hand (sharp cannot write BMP). */
function bmp(w: number, h: number): Buffer {
	const row = Math.ceil((w * 3) / 4) * 4;
	const buf = Buffer.alloc(54 + row * h);
	buf.write('BM');
	buf.writeUInt32LE(buf.length, 2);
	buf.writeUInt32LE(54, 10);
	buf.writeUInt32LE(40, 14);
	buf.writeInt32LE(w, 18);
	buf.writeInt32LE(h, 22);
	buf.writeUInt16LE(1, 26);
	buf.writeUInt16LE(24, 28);
	buf.fill(0x80, 54);
	return buf;
}

let secretServerHits = 0;
let secretServer: http.Server;
let secretUrl = '';
let outsideSecret = '';

function kinds(): Kind[] {
	const out: Kind[] = [];
	const add = (name: string, rel: string, expect: Expect, make: Kind['make']) => out.push({ name, rel, expect, make });
	const write = (data: Buffer | string) => async (abs: string) => fs.writeFile(abs, data);
	const truncated = (img: () => Promise<Buffer>) => async (abs: string) => {
		const b = await img();
		await fs.writeFile(abs, b.subarray(0, Math.floor(b.length * 0.6)));
	};
	const noisy = () =>
		sharp(Buffer.from(Array.from({ length: 96 * 96 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 96, height: 96, channels: 3 } });

	add('zero-byte PNG', 'bad/empty.png', /empty/, write(''));
	add('zero-byte JPEG', 'bad/empty.jpg', /empty/, write(''));
	add('truncated PNG', 'bad/truncated.png', /truncated\.png/, truncated(() => noisy().png().toBuffer()));
	add('truncated JPEG', 'bad/truncated.jpg', /truncated\.jpg/, truncated(() => noisy().jpeg().toBuffer()));
	add('truncated WebP', 'bad/truncated.webp', /truncated\.webp: cannot/, truncated(() => noisy().webp({ lossless: true }).toBuffer()));
	add('truncated GIF', 'bad/truncated.gif', /truncated\.gif/, truncated(() => noisy().gif().toBuffer()));
	add('PNG named .jpg', 'odd/png-named.jpg', 'ok', async abs => solid(50, 40).png().toFile(abs).then(() => undefined));
	add('text file named .png', 'bad/text.png', /not an image format/, write('hello, I am text\n'));
	add('HTML page named .jpg', 'bad/page.jpg', /not an image format/, write('<!doctype html><title>x</title>'));
	add('decompression bomb (tiny file, 100000×100000 declared)', 'bad/bomb.png', /over the limit/, write(pngBomb(100_000, 100_000)));
	add('over-large real image (over the test limit of 4 MP)', 'bad/huge.png', /over the limit/, async abs => solid(2500, 2000).png({ compressionLevel: 9 }).toFile(abs).then(() => undefined));
	add('16-bit PNG', 'odd/16bit.png', 'ok', async abs => solid(40, 40).toColourspace('rgb16').png().toFile(abs).then(() => undefined));
	add('CMYK JPEG', 'odd/cmyk.jpg', 'ok', async abs => solid(40, 40).toColourspace('cmyk').jpeg().toFile(abs).then(() => undefined));
	add('greyscale JPEG', 'odd/grey.jpg', 'ok', async abs => solid(40, 40).greyscale().jpeg().toFile(abs).then(() => undefined));
	add('palette PNG', 'odd/palette.png', 'ok', async abs => noisy().png({ palette: true, colours: 16 }).toFile(abs).then(() => undefined));
	add('RGBA PNG', 'odd/rgba.png', 'ok', async abs => sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } }).png().toFile(abs).then(() => undefined));
	add('grey+alpha PNG (2 channels)', 'odd/grey-alpha.png', 'ok', async abs =>
		sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 90, g: 90, b: 90, alpha: 0.5 } } }).toColourspace('b-w').png().toFile(abs).then(() => undefined),
	);
	add('1×1 image', 'odd/one-pixel.png', 'ok', async abs => solid(1, 1).png().toFile(abs).then(() => undefined));
	add('extreme aspect ratio (4000×8)', 'odd/stripe.png', 'ok', async abs => solid(4000, 8).png().toFile(abs).then(() => undefined));
	add('JPEG with garbage appended', 'odd/trailing.jpg', 'ok', async abs => fs.writeFile(abs, Buffer.concat([await solid(40, 40).jpeg().toBuffer(), Buffer.from('garbage after the end')])));
	add('animated GIF (first frame used)', 'odd/animated.gif', 'ok', async abs => {
		const frames = await Promise.all([solid(30, 30).raw().toBuffer(), solid(30, 30, { r: 0, g: 0, b: 200 }).raw().toBuffer()]);
		await sharp(Buffer.concat(frames), { raw: { width: 30, height: 60, channels: 3, pageHeight: 30 } }).gif({ loop: 0 }).toFile(abs);
	});
	add('animated WebP (first frame used)', 'odd/animated.webp', 'ok', async abs => {
		const frames = await Promise.all([solid(30, 30).raw().toBuffer(), solid(30, 30, { r: 0, g: 200, b: 0 }).raw().toBuffer()]);
		await sharp(Buffer.concat(frames), { raw: { width: 30, height: 60, channels: 3, pageHeight: 30 } }).webp().toFile(abs);
	});
	add('lossless WebP with alpha', 'odd/alpha.webp', 'ok', async abs => sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 0.2 } } }).webp({ lossless: true }).toFile(abs).then(() => undefined));
	for (let o = 1; o <= 8; o++) {
		add(`EXIF orientation ${o}`, `exif/orientation-${o}.jpg`, 'ok', async abs => {
			// The stored pixels are the upright image transformed so that applying orientation o undoes it.
			const upright = sharp(path.join(fixtureImagesDir, 'red-triangle.png')).flatten({ background: '#fff' });
			const ops: Record<number, (s: sharp.Sharp) => sharp.Sharp> = {
				1: s => s,
				2: s => s.flop(),
				3: s => s.rotate(180),
				4: s => s.flip(),
				5: s => s.rotate(90).flip(),
				6: s => s.rotate(-90),
				7: s => s.rotate(-90).flip(),
				8: s => s.rotate(90),
			};
			const stored = await ops[o](sharp(await upright.png().toBuffer())).jpeg({ quality: 95 }).toBuffer();
			await sharp(stored).withMetadata({ orientation: o }).jpeg({ quality: 95 }).toFile(abs);
		});
	}
	add('SVG with external references (network, and a file outside the root)', 'odd/external.svg', 'ok', async abs =>
		fs.writeFile(
			abs,
			`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><rect width="64" height="64" fill="#fff"/>` +
				`<image href="${secretUrl}" width="64" height="64"/><image xlink:href="file://${outsideSecret}" width="64" height="64"/>` +
				`<image href="../../../../../../..${outsideSecret}" width="64" height="64"/></svg>`,
		),
	);
	add('SVG bomb (entity expansion)', 'bad/bomb.svg', /./, async abs => {
		const lol = ['<!DOCTYPE svg [<!ENTITY a "lollollollollollollollollollol">'];
		for (let i = 1; i < 10; i++) {
			lol.push(`<!ENTITY ${String.fromCharCode(97 + i)} "${`&${String.fromCharCode(96 + i)};`.repeat(10)}">`);
		}
		await fs.writeFile(abs, `<?xml version="1.0"?>${lol.join('')}]><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><text y="20">&j;</text></svg>`);
	});
	add('SVG with deep nesting', 'odd/deep.svg', /./, async abs =>
		fs.writeFile(abs, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">${'<g>'.repeat(5000)}<rect width="9" height="9"/>${'</g>'.repeat(5000)}</svg>`),
	);
	add('SVG with a huge declared size', 'bad/huge.svg', /over the limit/, write('<svg xmlns="http://www.w3.org/2000/svg" width="200000" height="200000"><rect width="10" height="10"/></svg>'));
	add('AVIF', 'formats/image.avif', 'ok', async abs => solid(40, 40).avif().toFile(abs).then(() => undefined));
	add('TIFF', 'formats/image.tiff', 'ok', async abs => solid(40, 40).tiff().toFile(abs).then(() => undefined));
	add('BMP (no decoder in this build)', 'formats/image.bmp', /not an image format/, write(bmp(16, 16)));
	add('ICO (no decoder in this build)', 'formats/favicon.ico', /not an image format/, write(Buffer.concat([Buffer.from([0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0]), Buffer.alloc(200)])));
	add('HEIC (no HEVC decoder in this build)', 'formats/photo.heic', /not an image format|cannot read the image/, write(Buffer.concat([Buffer.from('00000018667479706865696300000000', 'hex'), Buffer.from('mif1heic'), Buffer.alloc(100)])));
	add('unicode file name', 'odd/ünïcödé-图像-🖼.png', 'ok', async abs => solid(30, 30).png().toFile(abs).then(() => undefined));
	add('spaces in the name', 'odd/with some spaces .png', 'ok', async abs => solid(30, 30).png().toFile(abs).then(() => undefined));
	const deep = Array.from({ length: 12 }, (_, i) => `nested-folder-with-a-long-name-${i}-${'x'.repeat(60)}`).join('/');
	add('very long path (over 1000 characters)', `${deep}/deep.png`, 'ok', async abs => {
		await fs.mkdir(path.dirname(abs), { recursive: true });
		await solid(30, 30).png().toFile(abs);
	});
	add('folder named like an image, with an image inside', 'folder.png/inside.png', 'ok', async abs => {
		await fs.mkdir(path.dirname(abs), { recursive: true });
		await solid(30, 30).png().toFile(abs);
	});
	add('valid PNG with a wrong CRC in a chunk', 'odd/bad-crc.png', /./, async abs => {
		const b = Buffer.from(await solid(30, 30).png().toBuffer());
		b[29] ^= 0xff; // IHDR CRC
		await fs.writeFile(abs, b);
	});
	return out;
}

describe('bad and odd input', () => {
	let root: string;
	let spec: ModelSpec;
	let encoder: ClipEncoder;
	let store: IndexStore;
	let result: IndexResult;
	const all = (): Kind[] => kinds();

	before(async () => {
		secretServer = http.createServer((_req, res) => {
			secretServerHits++;
			res.writeHead(200, { 'content-type': 'image/png' }).end();
		});
		await new Promise<void>(resolve => secretServer.listen(0, '127.0.0.1', resolve));
		secretUrl = `http://127.0.0.1:${(secretServer.address() as AddressInfo).port}/secret.png`;
		const outside = await tempDir('clip-outside-');
		outsideSecret = path.join(outside, 'secret.png');
		await solid(64, 64, { r: 255, g: 0, b: 0 }).png().toFile(outsideSecret);

		root = await tempDir('clip-bad-');
		await fs.cp(fixtureImagesDir, path.join(root, 'good'), { recursive: true });
		for (const k of all()) {
			const abs = path.join(root, ...k.rel.split('/'));
			await fs.mkdir(path.dirname(abs), { recursive: true });
			await k.make(abs);
		}
		// Links: a loop to an ancestor, and a link to an image outside the root. Neither is followed.
		await fs.symlink(root, path.join(root, 'odd', 'loop'));
		await fs.symlink(outsideSecret, path.join(root, 'odd', 'outside-link.png'));
		// A named pipe called .png: reading it would block forever; it is not a regular file.
		execFileSync('mkfifo', [path.join(root, 'odd', 'pipe.png')]);
		spec = await loadModelSpec(tinyModelDir);
		encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 2 });
		store = await openIndexForWriting(await tempDir('clip-bad-index-'), root, spec);
		result = await indexFolder(store, encoder, { maxPixels: 4_000_000, timeoutSeconds: 20 });
	});
	after(async () => {
		await encoder?.dispose();
		secretServer?.close();
	});

	it(`covers more than 40 kinds, each with its outcome asserted`, t => {
		const ks = all();
		t.diagnostic(`${ks.length} kinds + 3 (link loop, link outside, named pipe): ${ks.filter(k => !store.files.get(k.rel)?.error).length} indexed, ${result.failed.length} listed with a cause`);
		for (const f of result.failed) {
			t.diagnostic(`  ${f.path}: ${f.error}`);
		}
		assert.ok(ks.length + 3 >= 40, `${ks.length} generated kinds + links and a pipe`);
		const failed = new Map(result.failed.map(f => [f.path, f.error]));
		const wrong: string[] = [];
		for (const k of ks) {
			const entry = store.files.get(k.rel);
			if (k.expect === 'ok') {
				if (!entry || entry.error || !entry.hash || !store.hasEmbedding(entry.hash)) {
					wrong.push(`${k.name}: expected to be indexed, got ${entry?.error ?? 'nothing'}`);
				}
			} else if (!entry) {
				wrong.push(`${k.name}: not recorded at all`);
			} else if (entry.error) {
				if (!k.expect.test(entry.error) || failed.get(k.rel) !== entry.error) {
					wrong.push(`${k.name}: error "${entry.error}" does not match ${k.expect}`);
				}
			} else if (!(k.expect.source === '.')) {
				// only kinds whose outcome may go either way (/./) are allowed to succeed
				wrong.push(`${k.name}: expected a failure matching ${k.expect}, but it was indexed`);
			}
		}
		assert.deepEqual(wrong, []);
	});

	it('names the file and the cause in every failure, and the run goes on', () => {
		for (const f of result.failed) {
			assert.ok(f.error.includes(path.basename(f.path)) || /empty/.test(f.error), `${f.path}: ${f.error}`);
		}
		const good = [...store.files.keys()].filter(p => p.startsWith('good/'));
		assert.equal(good.length, 32);
		assert.ok(good.every(p => !store.files.get(p)!.error));
	});

	it('embeds all 8 EXIF orientations like the upright image', async () => {
		const upright = (await encoder.encodeImages([await decodeImage('u', await fs.readFile(path.join(root, 'exif', 'orientation-1.jpg')), spec.preprocess)]))[0];
		for (let o = 2; o <= 8; o++) {
			const hash = store.files.get(`exif/orientation-${o}.jpg`)!.hash!;
			const c = cosine(store.vectorOf(hash)!, upright);
			assert.ok(c > 0.98, `orientation ${o}: cosine ${c}`);
		}
	});

	it('never follows links, never reads a pipe, never fetches or reads what an SVG points to', async () => {
		assert.ok(![...store.files.keys()].some(p => p.includes('loop/') || p.endsWith('outside-link.png') || p.endsWith('pipe.png')));
		assert.equal(secretServerHits, 0, 'no network request from SVG rendering');
		const svg = await decodeImage('external.svg', await fs.readFile(path.join(root, 'odd', 'external.svg')), spec.preprocess);
		let red = 0;
		for (let i = 0; i < svg.rgb.length; i += 3) {
			red += svg.rgb[i] > 200 && svg.rgb[i + 1] < 60 ? 1 : 0;
		}
		assert.equal(red, 0, 'the red file outside the root was not drawn');
	});

	it('leaves out a file that vanishes between the scan and the read, without a failure', async () => {
		const vanish = path.join(root, 'odd', 'vanishing.png');
		await solid(20, 20).png().toFile(vanish);
		const r = await indexFolder(store, encoder, {
			onProgress: p => {
				if (p.phase === 'embedding' && p.done === 0) {
					require('node:fs').rmSync(vanish, { force: true });
				}
			},
		});
		assert.ok(!store.files.has('odd/vanishing.png'));
		assert.ok(!r.failed.some(f => f.path === 'odd/vanishing.png'));
	});

	it('lists an unreadable file with its cause', async t => {
		if (process.getuid?.() === 0) {
			t.skip('runs as root, where file permissions do not stop reads: this case is not testable here');
			return;
		}
		const locked = path.join(root, 'odd', 'locked.png');
		await solid(20, 20).png().toFile(locked);
		await fs.chmod(locked, 0);
		const r = await indexFolder(store, encoder);
		assert.match(r.failed.find(f => f.path === 'odd/locked.png')?.error ?? '', /EACCES/);
	});

	it('keeps everything already indexed when a later run meets bad files', async () => {
		const before = store.vectorCount;
		await fs.writeFile(path.join(root, 'bad', 'later.png'), 'still not an image');
		const r = await indexFolder(store, encoder);
		assert.deepEqual(
			r.failed.map(f => f.path),
			['bad/later.png'],
		);
		assert.equal(store.vectorCount, before);
	});

	it('refuses a bomb with a ClipError code before decoding it', async () => {
		await assert.rejects(decodeImage('bomb.png', pngBomb(100_000, 100_000), spec.preprocess), (e: unknown) => ClipError.is(e, 'ImageTooLarge'));
	});
});
