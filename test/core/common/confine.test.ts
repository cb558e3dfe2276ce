import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomic } from '../../../src/core/common/atomicFile';
import { confinePath, readRegularFile, staysInside } from '../../../src/core/common/confine';
import { ClipError } from '../../../src/core/common/errors';
import { readImageFile } from '../../../src/core/common/files';
import { tempDir } from '../../helpers';

async function layout(): Promise<{ root: string; outside: string }> {
	const base = await tempDir('clip-confine-');
	const root = path.join(base, 'root');
	const outside = path.join(base, 'outside');
	await fs.mkdir(path.join(root, 'sub'), { recursive: true });
	await fs.mkdir(outside);
	await fs.writeFile(path.join(root, 'sub', 'a.png'), 'inside');
	await fs.writeFile(path.join(outside, 'secret.png'), 'secret');
	await fs.symlink(path.join(outside, 'secret.png'), path.join(root, 'link.png'));
	await fs.symlink(outside, path.join(root, 'linkdir'));
	await fs.symlink(path.join(root, 'sub', 'a.png'), path.join(root, 'inner-link.png'));
	await fs.symlink(path.join(outside, 'nothing-yet'), path.join(root, 'dangling.json'));
	return { root, outside };
}

const outsideError = (e: unknown): boolean => ClipError.is(e, 'OutsideFolder');

describe('one confinement rule for paths from outside', () => {
	it('a path stays inside when its real path does: links that lead out are refused, links within are not', async () => {
		const { root, outside } = await layout();
		assert.equal((await confinePath(root, 'sub/a.png')).rel, 'sub/a.png');
		assert.equal((await confinePath(root, '.')).rel, '', 'the folder itself');
		assert.equal((await confinePath(root, 'inner-link.png')).rel, 'inner-link.png');
		assert.equal((await confinePath(root, 'sub/new/tags.json')).rel, 'sub/new/tags.json', 'a path to create');
		for (const bad of ['link.png', 'linkdir/secret.png', 'linkdir/new.json', '../outside/secret.png', path.join(outside, 'secret.png'), 'dangling.json', 'a\0b']) {
			await assert.rejects(confinePath(root, bad), outsideError, bad);
		}
		assert.equal(await staysInside(root, path.join(root, 'linkdir', 'x')), false);
		assert.equal(await staysInside(root, path.join(root, 'sub', 'x')), true);
	});

	it('reads a regular file once, bounded; a device, a FIFO and a folder are refused at once', async () => {
		const { root } = await layout();
		assert.equal((await readRegularFile(path.join(root, 'sub', 'a.png'), { maxBytes: 100 })).toString(), 'inside');
		await assert.rejects(readRegularFile(path.join(root, 'sub', 'a.png'), { maxBytes: 3 }), (e: unknown) => ClipError.is(e, 'LimitExceeded'));
		const notRegular = (e: unknown): boolean => ClipError.is(e, 'FileUnreadable') && /not a regular file|is a folder/.test((e as Error).message);
		if (existsSync('/dev/zero')) {
			await assert.rejects(readRegularFile('/dev/zero', { maxBytes: 1e9 }), notRegular);
			await assert.rejects(readImageFile('/dev/zero', 1e8), notRegular, 'the image reader too (its size cap came from stat: 0 for a device)');
		}
		if (process.platform !== 'win32') {
			const fifo = path.join(root, 'pipe.png');
			execFileSync('mkfifo', [fifo]);
			await assert.rejects(readRegularFile(fifo, { maxBytes: 1e9 }), notRegular); // would block forever if opened for reading
		}
		await assert.rejects(readRegularFile(root, { maxBytes: 1e9 }), notRegular);
		await assert.rejects(readRegularFile(path.join(root, 'missing.png'), { maxBytes: 10 }), (e: unknown) => ClipError.is(e, 'FileUnreadable') && /ENOENT/.test((e as Error).message));
	});

	it('with `within`, a read through a link that leads out is refused; one within is read', async () => {
		const { root } = await layout();
		await assert.rejects(readRegularFile(path.join(root, 'link.png'), { maxBytes: 100, within: root }), outsideError);
		await assert.rejects(readRegularFile(path.join(root, 'linkdir', 'secret.png'), { maxBytes: 100, within: root }), outsideError);
		assert.equal((await readRegularFile(path.join(root, 'inner-link.png'), { maxBytes: 100, within: root })).toString(), 'inside');
		assert.equal((await readRegularFile(path.join(root, 'link.png'), { maxBytes: 100 })).toString(), 'secret', 'without within (a person\'s own command line), any regular file');
	});

	it('with `within`, a write through .vscode -> outside, or to a file that is a link out, is refused and creates nothing', async () => {
		const { root, outside } = await layout();
		await fs.symlink(outside, path.join(root, '.vscode'));
		await assert.rejects(writeFileAtomic(path.join(root, '.vscode', 'image-tags.json'), '{}', { within: root }), outsideError);
		await assert.rejects(writeFileAtomic(path.join(root, '.vscode', 'deep', 'image-tags.json'), '{}', { within: root }), outsideError);
		assert.deepEqual((await fs.readdir(outside)).sort(), ['secret.png']);
		await fs.writeFile(path.join(outside, 'planted.conf'), 'keep');
		await fs.symlink(path.join(outside, 'planted.conf'), path.join(root, 'sub', 'tags.json'));
		await assert.rejects(writeFileAtomic(path.join(root, 'sub', 'tags.json'), '{}', { within: root }), outsideError);
		assert.equal(await fs.readFile(path.join(outside, 'planted.conf'), 'utf8'), 'keep');
		await writeFileAtomic(path.join(root, 'sub', 'new', 'tags.json'), '{}', { within: root });
		assert.equal(await fs.readFile(path.join(root, 'sub', 'new', 'tags.json'), 'utf8'), '{}', 'inside: its folder is made');
	});
});
