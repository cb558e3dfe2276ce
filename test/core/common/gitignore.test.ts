import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import ignore from 'ignore';
import { parseGitIgnore } from '../../../src/core/common/gitignore';
import { walkImages } from '../../../src/core/index/walker';
import { tempDir } from '../../helpers';

describe('.gitignore rules in bounded time', () => {
	const text = [
		'# build output',
		'dist/',
		'node_modules',
		'*.tmp.png',
		'/top-only.png',
		'docs/generated/',
		'!docs/generated/keep.png',
		'assets/**/raw',
		'cache/*.png',
		'!cache/keep.png',
		'\\#hash.png',
		'trailing.png   ',
		'icons/[0-9]*.png',
		'photo?.jpg',
		'**/secret/**',
		'a/**/b.png',
	].join('\n');
	const paths: [string, boolean][] = [
		['dist', true], ['dist/a.png', false], ['src/dist', true], ['node_modules', true], ['x/node_modules', true], ['node_modules', false],
		['a.tmp.png', false], ['deep/b.tmp.png', false], ['top-only.png', false], ['sub/top-only.png', false], ['docs/generated', true],
		['docs/generated/keep.png', false], ['assets/x/y/raw', true], ['assets/raw', true], ['cache/a.png', false], ['cache/keep.png', false],
		['cache/sub/a.png', false], ['#hash.png', false], ['trailing.png', false], ['icons/1.png', false], ['icons/a.png', false],
		['photo1.jpg', false], ['photo12.jpg', false], ['x/secret/y.png', false], ['secret/y.png', false], ['a/b.png', false], ['a/x/y/b.png', false],
		['README.md', false], ['Dist', true],
	];

	it('decides as the `ignore` package (git\'s rules) does, rule for rule', () => {
		const ours = parseGitIgnore(text);
		const theirs = ignore().add(text);
		assert.equal(ours.skipped.length, 0);
		// As the walker asks: a path is ignored when a folder above it is (git cannot re-include below one), else by its own rules.
		const ignored = (rel: string, isDir: boolean): boolean => {
			const parts = rel.split('/');
			for (let i = 1; i < parts.length; i++) {
				if (ours.decide(parts.slice(0, i).join('/'), true) === true) {
					return true;
				}
			}
			return ours.decide(rel, isDir) === true;
		};
		for (const [rel, isDir] of paths) {
			assert.equal(ignored(rel, isDir), theirs.ignores(isDir ? `${rel}/` : rel), `${rel}${isDir ? '/' : ''}`);
		}
	});

	it('passes over lines past its bounds and says so', () => {
		const rules = parseGitIgnore(`${'x'.repeat(600)}\nok.png\n+(a|b).png\n`, 'sub/.gitignore');
		assert.equal(rules.skipped.length, 2);
		assert.match(rules.skipped[0].message, /^sub\/\.gitignore, line 1: longer than 512 characters/);
		assert.match(rules.skipped[1].message, /line 3.*extended glob/);
		assert.equal(rules.decide('ok.png', false), true);
	});

	it('walks the tree that stalled indexing (a line of 14 "**/a/" then "b", 34 nested a/ folders) at once', async () => {
		const root = await tempDir('clip-gitignore-');
		const deep = path.join(root, ...Array(34).fill('a'));
		await fs.mkdir(deep, { recursive: true });
		await fs.writeFile(path.join(deep, 'x.png'), 'png');
		await fs.writeFile(path.join(root, '.gitignore'), `${'**/a/'.repeat(14)}b\n`);
		const found: string[] = [];
		const started = process.hrtime.bigint();
		for await (const f of walkImages(root)) {
			found.push(f.rel);
		}
		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		assert.deepEqual(found, [`${'a/'.repeat(34)}x.png`]);
		// 85 s before; a generous ceiling that only a stall would reach (not a speed target).
		assert.ok(seconds < 10, `${seconds.toFixed(1)} s`);
	});
});
