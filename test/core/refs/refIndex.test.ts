/**
 * The reference scanner on a generated repository with every kind of reference and known answers
 * (issue 37): Markdown, HTML and templates, srcset, CSS url() and image-set, imports, require,
 * new URL, template literals, JSON and YAML, aliases, root-relative paths, percent-encoding; what is
 * unused, what a pattern may use, what is broken and why; and updates that re-read one file.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { extractReferences } from '../../../src/core/refs/extract';
import { brokenLinks, rewritesTo, targetFor, unusedImages } from '../../../src/core/refs/imageUse';
import { FolderUses } from '../../../src/core/refs/folderUses';
import { RefIndex } from '../../../src/core/refs/refIndex';
import { loadResolveRules } from '../../../src/core/refs/resolve';
import { walkImages } from '../../../src/core/index/walker';
import { tempDir } from '../../helpers';
import { REPO_ANSWERS, REPO_IMAGES, writeRefsRepo } from '../../refsRepo';

describe('image references in a generated repository (issue 37)', () => {
	let root: string;
	let refs: RefIndex;
	const images = async () => {
		const out: { path: string; size: number }[] = [];
		for await (const f of walkImages(root)) {
			out.push({ path: f.rel, size: f.size });
		}
		return out;
	};
	before(async () => {
		root = await tempDir('clip-refs-');
		await writeRefsRepo(root);
		refs = new RefIndex(root, { rules: await loadResolveRules(root) });
		await refs.scan();
	});

	it('reads every kind, and not dependencies, build output or binary files', async () => {
		const files = refs.textFiles();
		assert.ok(!files.some(f => f.startsWith('node_modules/') || f.startsWith('dist/')), files.join(', '));
		assert.ok(!files.includes('src/binary.js'));
		assert.equal(refs.stats.skipped.binary, 1);
		const uses = await refs.uses();
		for (const image of Object.keys(REPO_IMAGES).filter(p => !p.startsWith('node_modules/'))) {
			const expected = REPO_ANSWERS.unused.includes(image) || REPO_ANSWERS.possiblyUsed.includes(image) ? 0 : 1;
			assert.equal(Math.min(1, uses.get(image) ?? 0), expected, `${image}: ${uses.get(image) ?? 0} uses`);
		}
	});

	it('refs: every place that uses an image, with line, column and the text', async () => {
		const logo = await refs.referencesTo('public/images/logo.png');
		assert.deepEqual(logo.map(r => r.file).sort(), REPO_ANSWERS.logoUses);
		const readme = logo.find(r => r.file === 'README.md')!;
		assert.equal(readme.line, 3);
		assert.equal(readme.column, 9);
		assert.match(readme.text, /!\[Logo\]\(public\/images\/logo\.png "the logo"\)/);
		// Through the alias, the srcset, percent-encoding, a query, image-set, new URL, require, JSON and YAML.
		for (const [image, file] of [
			['src/assets/alias.png', 'src/App.tsx'],
			['img/small.png', 'index.html'],
			['docs/photo one.png', 'docs/guide.md'],
			['assets/bg.png', 'styles/site.css'],
			['assets/pattern@2x.png', 'styles/site.css'],
			['src/assets/worker.png', 'src/App.tsx'],
			['src/assets/req.png', 'src/App.tsx'],
			['public/images/icon-192.png', 'public/manifest.webmanifest'],
			['media/ext-icon.png', 'package.json'],
			['assets/yaml.png', 'config.yml'],
			['src/assets/vue.png', 'src/Widget.vue'],
			['public/images/og.png', 'index.html'],
			['public/favicon.ico', 'index.html'],
		]) {
			const found = await refs.referencesTo(image);
			assert.ok(found.some(r => r.file === file), `${image} from ${file}: ${JSON.stringify(found.map(r => r.file))}`);
		}
	});

	it('unused: what nothing references, biggest first, with the bytes; a pattern\'s matches are possibly used', async () => {
		const answer = await unusedImages(refs, (await images()).filter(i => !i.path.startsWith('node_modules/')));
		assert.deepEqual(answer.unused.map(i => i.path), REPO_ANSWERS.unused);
		assert.ok(answer.unused[0].size > answer.unused[1].size);
		assert.equal(answer.bytes, answer.unused[0].size + answer.unused[1].size);
		assert.deepEqual(answer.possiblyUsed.map(i => i.path).sort(), REPO_ANSWERS.possiblyUsed);
		assert.deepEqual(answer.possiblyUsed[0].by[0], { file: 'src/Icon.tsx', line: 2, pattern: './icons/*.png' });
	});

	it('broken: missing, wrong case (with the real path), a missing srcset candidate, outside the folder', async () => {
		const broken = await brokenLinks(refs, undefined, refs.rulesOf());
		const got = broken.filter(b => b.target !== '../media/chart.png').map(b => ({ file: b.file, target: b.target, reason: b.reason, ...(b.suggestion ? { suggestion: b.suggestion } : {}) }));
		assert.deepEqual(
			got.sort((a, b) => (a.target < b.target ? -1 : 1)),
			[...REPO_ANSWERS.broken].sort((a, b) => (a.target < b.target ? -1 : 1)),
		);
	});

	it('use one image everywhere: each reference rewritten from its own file, in its own form', async () => {
		const rewrites = await rewritesTo(refs, 'docs/photo one.png', ['public/images/logo.png', 'src/assets/alias.png']);
		const byFile = (f: string) => rewrites.filter(r => r.file === f).map(r => r.to);
		assert.deepEqual(byFile('README.md'), ['docs/photo%20one.png']);
		assert.deepEqual(byFile('index.html'), ['/docs/photo%20one.png']);
		assert.deepEqual(byFile('src/vendor.min.js'), ['/docs/photo one.png']);
		assert.deepEqual(byFile('src/App.tsx'), ['../docs/photo one.png']);
		// Applied at their offsets, the files name the kept image, and nothing else changed.
		const text = await fs.readFile(path.join(root, 'README.md'), 'utf8');
		const r = rewrites.find(x => x.file === 'README.md')!;
		assert.equal(text.slice(r.offset, r.offset + r.length), r.from);
		const aliasRewrite = await rewritesTo(refs, 'src/assets/req.png', ['src/assets/alias.png']);
		assert.deepEqual(aliasRewrite.map(x => x.to), ['@/assets/req.png']);
	});

	it('refresh re-reads only what changed, and forgets what is gone; skips stay counted once', async () => {
		const fresh = new RefIndex(root, { rules: await loadResolveRules(root) });
		await fresh.scan();
		const before = fresh.stats.references;
		await fs.writeFile(path.join(root, 'added.md'), '![a](assets/unused-small.png)\n');
		await fresh.refresh();
		assert.equal(fresh.stats.references, before + 1);
		assert.equal(fresh.stats.skipped.binary, 1);
		await fs.rm(path.join(root, 'added.md'));
		await fresh.refresh();
		assert.equal(fresh.stats.references, before);
		assert.equal(fresh.stats.skipped.binary, 1);
	});

	it('a changed file is read again alone; an image deleted or added is seen without reading any text', async () => {
		await fs.writeFile(path.join(root, 'docs', 'guide.md'), '# Guide\n![Diagram](./diagram.png)\n');
		await refs.update(['docs/guide.md']);
		assert.equal((await brokenLinks(refs, undefined, refs.rulesOf())).filter(b => b.file === 'docs/guide.md').length, 0);
		await fs.rm(path.join(root, 'docs', 'diagram.png'));
		await refs.update(['docs/diagram.png']);
		const broken = await brokenLinks(refs, undefined, refs.rulesOf());
		assert.deepEqual(broken.filter(b => b.file === 'docs/guide.md').map(b => b.target), ['./diagram.png']);
		await fs.writeFile(path.join(root, 'docs', 'diagram.png'), await fs.readFile(path.join(root, 'assets', 'bg.png')));
		await refs.update(['docs/diagram.png']);
		assert.equal((await brokenLinks(refs, undefined, refs.rulesOf())).filter(b => b.file === 'docs/guide.md').length, 0);
	});

	it('answers kept between questions follow each change: a new image, a text naming it, a folder gone', async () => {
		const uses = await FolderUses.open(root);
		const unusedPaths = async () => (await uses.unused()).unused.map(u => u.path);
		const first = await unusedPaths();
		assert.deepEqual(await unusedPaths(), first, 'asked again unchanged, the same answer');
		await fs.mkdir(path.join(root, 'kept'), { recursive: true });
		await fs.writeFile(path.join(root, 'kept', 'new.png'), await fs.readFile(path.join(root, 'assets', 'bg.png')));
		await uses.refs.update(['kept/new.png']);
		assert.ok((await unusedPaths()).includes('kept/new.png'), 'a new image nothing names is unused');
		await fs.writeFile(path.join(root, 'kept', 'page.md'), '![new](new.png)\n');
		await uses.refs.update(['kept/page.md']);
		assert.ok(!(await unusedPaths()).includes('kept/new.png'), 'named by a new text file, it is used');
		assert.equal((await uses.refs.uses()).get('kept/new.png'), 1);
		await fs.rm(path.join(root, 'kept'), { recursive: true });
		await uses.refs.update(['kept']);
		assert.deepEqual(await unusedPaths(), first, 'the folder gone, its image and its use are gone');
		assert.equal((await uses.refs.uses()).get('kept/new.png'), undefined);
	});

	it('a question asked while files change answers from the files as they were, and the next from the change', async () => {
		await fs.mkdir(path.join(root, 'race'), { recursive: true });
		const names = Array.from({ length: 60 }, (_, i) => `race/p${i}.md`);
		await Promise.all(names.map(n => fs.writeFile(path.join(root, n), '![bg](../assets/bg.png)\n')));
		const uses = await FolderUses.open(root);
		const before = (await uses.refs.uses()).get('assets/bg.png')!;
		await fs.rm(path.join(root, 'race'), { recursive: true });
		await uses.refs.update(['assets/bg.png']); // the listings forgotten: the question below waits on the disk
		const [during] = await Promise.all([uses.refs.resolveAll(), uses.refs.update(['race'])]);
		assert.ok(during.length > 0);
		assert.equal((await uses.refs.uses()).get('assets/bg.png'), before - 60);
	});
});

describe('reading references', () => {
	it('a minified one-line bundle is read in bounded time, and a reference at its end is found', () => {
		const text = `${'var a="x",b=\'y\';'.repeat(100_000)}var logo="/images/logo.png";`;
		const refs = extractReferences(text, 'script');
		assert.deepEqual(refs.map(r => r.target), ['/images/logo.png']);
		assert.equal(refs[0].line, 1);
	});

	it('a target with spaces inside its quotes is placed at its first character', () => {
		const [r] = extractReferences('<img src=" a.png ">', 'html');
		assert.deepEqual([r.target, r.column, r.length], ['a.png', 12, 5]);
	});

	it('template syntax of other tools is left out; URLs are kept as written for the resolver to pass over', () => {
		const refs = extractReferences('<img src="{{ page.image }}.png"><img src="https://x.org/a.png">', 'html');
		assert.deepEqual(refs.map(r => r.target), ['https://x.org/a.png']);
	});

	it('a rewrite target keeps the form: relative, ./ when it was, root-relative from a public root, the query', () => {
		assert.equal(targetFor('docs/guide.md', 'assets/bg.png', '../assets/BG.png'), '../assets/bg.png');
		assert.equal(targetFor('docs/guide.md', 'docs/x.png', './y.png'), './x.png');
		assert.equal(targetFor('index.html', 'public/images/a.png', '/images/b.png'), '/images/a.png');
		assert.equal(targetFor('a/b.css', 'a/c.png', 'd.png?v=2'), 'c.png?v=2');
		// A URL encodes what it cannot hold; an import is a file path, written as it is.
		assert.equal(targetFor('a.md', 'img/my (1)#.png', 'x.png', undefined, 'markdown-image'), 'img/my%20%281%29%23.png');
		assert.equal(targetFor('src/a.ts', 'src/img/my (1).png', './x.png', undefined, 'string'), './img/my (1).png');
		assert.equal(targetFor('src/a.ts', 'src/b.png', 'x.png', undefined, 'string'), './b.png');
	});
});
