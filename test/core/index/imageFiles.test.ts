import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { IMAGE_EXTENSIONS, inExcludedFolder, isImagePath } from '../../../src/core/index/imageFiles';
import { repoRoot } from '../../helpers';

describe('imageFiles (what counts as an image)', () => {
	it('package.json `when` clauses list exactly the extensions the engine reads', () => {
		const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { contributes: { menus: Record<string, { when?: string }[]> } };
		const clauses = Object.values(pkg.contributes.menus)
			.flat()
			.map(m => m.when ?? '')
			.filter(w => w.includes('resourceExtname'));
		assert.ok(clauses.length >= 2, 'the image menus are found');
		for (const clause of clauses) {
			const group = /resourceExtname =~ \/\^\\\.\((.*)\)\$\/i/.exec(clause)?.[1];
			assert.ok(group, `a regular expression in: ${clause}`);
			// Expand the alternation, including optional letters such as jpe?g and tiff?.
			const listed = new Set<string>();
			for (const alt of group.split('|')) {
				const m = /^(.*?)(\w)\?(.*)$/.exec(alt);
				if (m) {
					listed.add(m[1] + m[3]);
					listed.add(m[1] + m[2] + m[3]);
				} else {
					listed.add(alt);
				}
			}
			assert.deepEqual([...listed].sort(), [...IMAGE_EXTENSIONS].sort(), clause);
		}
	});

	it('tells images and never-scanned folders by path', () => {
		assert.equal(isImagePath('/a/b/photo.JPEG'), true);
		assert.equal(isImagePath('notes.txt'), false);
		assert.equal(isImagePath('png'), false);
		assert.equal(inExcludedFolder('/ws/node_modules/x/a.png'), true);
		assert.equal(inExcludedFolder('.git'), true);
		assert.equal(inExcludedFolder('/ws/.vscode/clip-search-index/manifest.json'), true);
		assert.equal(inExcludedFolder('/ws/my_node_modules_notes/a.png'), false);
	});
});
