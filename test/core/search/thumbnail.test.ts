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
		const first = await thumbnail(img, 64, cache, 1e8, dir);
		const meta = await sharp(first).metadata();
		assert.equal(meta.format, 'png');
		assert.equal(Math.max(meta.width!, meta.height!), 64);
		assert.equal(await thumbnail(img, 64, cache, 1e8, dir), first);
		await sharp({ create: { width: 300, height: 300, channels: 3, background: '#c63' } }).jpeg().toFile(img);
		await fs.utimes(img, new Date(), new Date(Date.now() + 5000));
		assert.notEqual(await thumbnail(img, 64, cache, 1e8, dir), first);
		await assert.rejects(thumbnail(path.join(dir, 'missing.png'), 64, cache, 1e8, dir), (e: unknown) => ClipError.is(e, 'FileUnreadable'));
	});

	it('makes none of an image that leads out of its folder, or of a device', async () => {
		const dir = await tempDir();
		const root = path.join(dir, 'root');
		await fs.mkdir(root);
		const outside = path.join(dir, 'secret.png');
		await sharp({ create: { width: 40, height: 40, channels: 3, background: '#c63' } }).png().toFile(outside);
		await fs.symlink(outside, path.join(root, 'link.png'));
		const cache = path.join(dir, 'cache');
		await assert.rejects(thumbnail(path.join(root, 'link.png'), 64, cache, 1e8, root), (e: unknown) => ClipError.is(e, 'OutsideFolder'));
		await assert.rejects(thumbnail(outside, 64, cache, 1e8, root), (e: unknown) => ClipError.is(e, 'OutsideFolder'));
		await fs.symlink('/dev/zero', path.join(root, 'zero.png'));
		await assert.rejects(thumbnail('/dev/zero', 64, cache, 1e8, '/dev'), (e: unknown) => ClipError.is(e, 'FileUnreadable') && /not a regular file/.test((e as Error).message));
	});
});
