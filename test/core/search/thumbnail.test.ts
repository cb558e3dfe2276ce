import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ClipError } from '../../../src/core/common/errors';
import { thumbnail } from '../../../src/core/search/thumbnail';
import { tempDir } from '../../helpers';

describe('thumbnail', () => {
	it('downscales once, reuses the cached file, and makes a new one when the image changes', async () => {
		const dir = await tempDir();
		const cache = path.join(dir, 'cache');
		const img = path.join(dir, 'photo.jpg');
		await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#36c' } }).jpeg().toFile(img);
		const first = await thumbnail(img, 64, cache);
		const meta = await sharp(first).metadata();
		assert.equal(meta.format, 'png');
		assert.equal(Math.max(meta.width!, meta.height!), 64);
		assert.equal(await thumbnail(img, 64, cache), first);
		await sharp({ create: { width: 300, height: 300, channels: 3, background: '#c63' } }).jpeg().toFile(img);
		await fs.utimes(img, new Date(), new Date(Date.now() + 5000));
		assert.notEqual(await thumbnail(img, 64, cache), first);
		await assert.rejects(thumbnail(path.join(dir, 'missing.png'), 64, cache), (e: unknown) => ClipError.is(e, 'FileUnreadable'));
	});
});
