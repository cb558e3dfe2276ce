/** Organize by label and the tags file's keys: every path a tags file or a class name leads to stays inside the folder. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClipError } from '../../../src/core/common/errors';
import { planOrganize } from '../../../src/core/labels/organize';
import { parseTagsText, tagsFileToReplace } from '../../../src/core/labels/tagsFile';
import { tempDir } from '../../helpers';


/** Symbolic links and file modes as POSIX has them (Windows needs admin rights for links and has no modes). */
const POSIX_ONLY = process.platform === 'win32' ? 'symbolic links and file modes are POSIX features' : false;
describe('paths from tags files and class names', () => {
	it('refuses a class named ".." (and other names that are no folder), never moving a file out', async () => {
		const root = await tempDir('clip-organize-');
		await fs.writeFile(path.join(root, 'red-star.png'), 'x');
		await fs.writeFile(path.join(root, 'blue.png'), 'x');
		await fs.writeFile(path.join(root, 'nul.png'), 'x');
		const { moves, refused } = await planOrganize(root, [
			['red-star.png', '..'],
			['blue.png', 'sky/blue'],
			['nul.png', 'NUL'],
		]);
		assert.deepEqual(moves, [{ from: path.join(root, 'blue.png'), to: path.join(root, 'sky_blue', 'blue.png') }]);
		assert.deepEqual(
			refused.map(r => r.path),
			['red-star.png', 'nul.png'],
		);
		assert.match(refused[0].reason, /class "\.\." names no usable folder/);
	});

	it('refuses tags-file keys outside the folder when the file is read, and images reached through a link', { skip: POSIX_ONLY }, async () => {
		const text = JSON.stringify({ version: 1, model: 'm', classes: ['a'], images: { '../../.ssh/id_rsa': { label: 'a', score: 1 }, '/etc/passwd': { label: 'a', score: 1 }, 'ok/x.png': { label: 'a', score: 1 } } });
		const parsed = parseTagsText(text, 'image-tags.json');
		assert.deepEqual(Object.keys(parsed.images), ['ok/x.png']);
		assert.deepEqual(parsed.refused, ['../../.ssh/id_rsa', '/etc/passwd']);
		const root = await tempDir('clip-organize-');
		const outside = await tempDir('clip-outside-');
		await fs.writeFile(path.join(outside, 'secret.png'), 'x');
		await fs.symlink(outside, path.join(root, 'link'));
		const { moves, refused } = await planOrganize(root, [
			['link/secret.png', 'a'],
			['../../.ssh/id_rsa', 'a'],
		]);
		assert.deepEqual(moves, []);
		assert.deepEqual(refused.map(r => r.reason), ['it lies outside the folder (through a symbolic link)', 'not a path inside the folder']);
	});

	it('never writes tags over the classes file, an image, or a file that is not a tags file', async () => {
		const dir = await tempDir('clip-tags-target-');
		const classes = path.join(dir, 'classes.json');
		await fs.writeFile(classes, '// my classes\n{"cat": ["a cat"], "dog": ["a dog"]}\n');
		const notes = path.join(dir, 'notes.md');
		await fs.writeFile(notes, '# notes\n');
		const refused = async (file: string, re: RegExp): Promise<void> => {
			await assert.rejects(tagsFileToReplace(file, { classesFile: classes }), (e: unknown) => ClipError.is(e, 'WouldOverwrite') && re.test((e as Error).message));
		};
		await refused(classes, /is the classes file/);
		await refused(path.join(dir, 'red-star.png'), /is an image/);
		await refused(notes, /notes\.md exists and is not a tags file/);
		const empty = path.join(dir, 'empty.json');
		await fs.writeFile(empty, '');
		assert.equal(await tagsFileToReplace(empty, { classesFile: classes }), '');
		assert.equal(await tagsFileToReplace(path.join(dir, 'new.json'), { classesFile: classes }), undefined);
	});
});
