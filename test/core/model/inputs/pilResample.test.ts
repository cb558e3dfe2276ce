/**
 * PIL's resampling, reimplemented for enlargements ([Note: enlarging like PIL]): checked against
 * pixels Pillow made (the expected values below are Pillow 12.3's Image.resize on the same inputs)
 * and against its invariants; test/core/model/inputs/preprocess.test.ts and modelLayouts.test.ts compare
 * whole images.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resamplePil } from '../../../../src/core/model/inputs/pilResample';

describe('resamplePil', () => {
	it('keeps a flat image flat at any size, with every filter', () => {
		for (const filter of ['bicubic', 'bilinear', 'lanczos'] as const) {
			const src = new Uint8Array(5 * 3 * 3).fill(77);
			const out = resamplePil(src, 5, 3, 3, 17, 11, filter);
			assert.equal(out.length, 17 * 11 * 3);
			assert.ok(out.every(v => v === 77), filter);
		}
	});

	it('returns a copy when the size does not change', () => {
		const src = Uint8Array.from([1, 2, 3, 4]);
		const out = resamplePil(src, 2, 2, 1, 2, 2, 'bicubic');
		assert.deepEqual(Array.from(out), [1, 2, 3, 4]);
		assert.notEqual(out, src);
	});

	it("matches Pillow's bicubic and bilinear enlargements of a 2×2 to the grey level", () => {
		// Image.frombytes('L', (2, 2), bytes([0, 255, 255, 0])).resize((4, 4), f)
		const src = Uint8Array.from([0, 255, 255, 0]);
		assert.deepEqual(
			Array.from(resamplePil(src, 2, 2, 1, 4, 4, 'bilinear')),
			[0, 64, 191, 255, 64, 96, 159, 191, 191, 159, 96, 64, 255, 191, 64, 0],
		);
		assert.deepEqual(
			Array.from(resamplePil(src, 2, 2, 1, 4, 4, 'bicubic')),
			[0, 40, 215, 255, 53, 84, 171, 202, 202, 171, 84, 53, 255, 215, 40, 0],
		);
	});

	it('overshoots and clips as a cubic does (a sharp edge rings, within 0..255)', () => {
		const src = Uint8Array.from([0, 0, 255, 255]);
		const out = resamplePil(src, 4, 1, 1, 16, 1, 'bicubic');
		assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0, 0, 21, 88, 167, 234, 255, 255, 255, 255, 255, 255]);
		assert.equal(out[0], 0);
		assert.equal(out[15], 255);
		for (let i = 1; i < 16; i++) {
			assert.ok(out[i] >= out[i - 1], `monotone after clipping: ${Array.from(out)}`);
		}
	});
});
