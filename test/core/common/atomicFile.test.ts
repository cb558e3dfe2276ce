/** Atomic writes keep what a person's file is: a link stays a link, a mode stays, read-only is refused, a full disk leaves nothing. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomic } from '../../../src/core/common/atomicFile';
import { ClipError } from '../../../src/core/common/errors';
import { tempDir } from '../../helpers';


/** Symbolic links and file modes as POSIX has them (Windows needs admin rights for links and has no modes). */
const POSIX_ONLY = process.platform === 'win32' ? 'symbolic links and file modes are POSIX features' : false;
describe('writeFileAtomic on files a person keeps', () => {
	it('writes through a symbolic link to its target: the link stays a link', { skip: POSIX_ONLY }, async () => {
		const dir = await tempDir('clip-atomic-');
		const target = path.join(dir, 'real', 'tags.json');
		await fs.mkdir(path.dirname(target));
		await fs.writeFile(target, 'old');
		const link = path.join(dir, 'tags.json');
		await fs.symlink(path.relative(dir, target), link);
		await writeFileAtomic(link, 'new');
		assert.ok((await fs.lstat(link)).isSymbolicLink(), 'still a link');
		assert.equal(await fs.readFile(target, 'utf8'), 'new', 'the target got the content');
		assert.deepEqual((await fs.readdir(path.dirname(target))).sort(), ['tags.json'], 'no temp file left beside the target');
	});

	it('keeps the file\'s mode, and refuses a read-only file without changing it', { skip: POSIX_ONLY }, async () => {
		const dir = await tempDir('clip-atomic-');
		const shared = path.join(dir, 'group.json');
		await fs.writeFile(shared, 'old');
		await fs.chmod(shared, 0o640);
		await writeFileAtomic(shared, 'new');
		assert.equal((await fs.stat(shared)).mode & 0o777, 0o640);
		const locked = path.join(dir, 'locked.json');
		await fs.writeFile(locked, 'keep me');
		await fs.chmod(locked, 0o444);
		await assert.rejects(writeFileAtomic(locked, 'new'), (e: unknown) => ClipError.is(e, 'ReadOnly') && /locked\.json is read-only/.test((e as Error).message));
		assert.equal(await fs.readFile(locked, 'utf8'), 'keep me');
		assert.equal((await fs.stat(locked)).mode & 0o777, 0o444);
		assert.deepEqual((await fs.readdir(dir)).sort(), ['group.json', 'locked.json']);
	});

	it('on a full disk: NoSpace, the old file intact, no temporary file left', async t => {
		const dir = await tempDir('clip-atomic-full-');
		try {
			execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
		} catch {
			t.skip('mounting a small tmpfs needs root (mount -t tmpfs): the full-disk case cannot be made here');
			return;
		}
		try {
			const file = path.join(dir, 'tags.json');
			await fs.writeFile(file, 'old');
			await assert.rejects(writeFileAtomic(file, Buffer.alloc(256 * 1024, 1)), (e: unknown) => ClipError.is(e, 'NoSpace') && /tags\.json/.test((e as Error).message));
			assert.equal(await fs.readFile(file, 'utf8'), 'old');
			assert.deepEqual(await fs.readdir(dir), ['tags.json']);
		} finally {
			execFileSync('umount', [dir]);
		}
	});
});
