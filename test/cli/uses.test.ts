/**
 * Where each image is used, from the command line (issue 37): refs, unused and broken on the
 * generated repository (with and without an index), their JSON shapes and exit codes; a moved image
 * found again from the index, a re-exported one by cosine; duplicates with their uses; names with
 * control characters printed escaped; and the same questions as agent tools over MCP.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import sharp from 'sharp';
import { tempDir, tinyModelDir } from '../helpers';
import { REPO_ANSWERS, writeRefsRepo } from '../refsRepo';
import { cli, clip } from './runCli';

interface BrokenJson {
	broken: { file: string; line: number; column: number; target: string; reason: string; suggestion?: string; suggested?: { path: string; why: string; cosine?: number } }[];
}

describe('refs, unused and broken on the command line (issue 37)', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let env: Record<string, string>;
	const run = (args: string[], cwd = root) => clip(args, { cwd, env });
	before(async () => {
		root = await tempDir('clip-uses-');
		await writeRefsRepo(root);
		env = { CLIP_SEARCH_CACHE: await tempDir('clip-uses-cache-') };
	});

	it('without an index: broken lists each reason and exits 1; refs and unused answer too', async () => {
		const broken = await run(['broken', '--json']);
		assert.equal(broken.code, 1, broken.stderr);
		const got = (JSON.parse(broken.stdout) as BrokenJson).broken.map(b => ({ file: b.file, target: b.target, reason: b.reason, ...(b.suggestion ? { suggestion: b.suggestion } : {}) }));
		const byTarget = (a: { target: string }, b: { target: string }) => (a.target < b.target ? -1 : 1);
		assert.deepEqual(got.sort(byTarget), [...REPO_ANSWERS.broken].sort(byTarget));
		const first = (JSON.parse(broken.stdout) as BrokenJson).broken.find(b => b.target === './missing.png')!;
		assert.deepEqual([first.line, first.column], [4, 12]);

		const refs = await run(['refs', 'public/images/logo.png', '--json']);
		assert.equal(refs.code, 0, refs.stderr);
		const rows = JSON.parse(refs.stdout) as { file: string; line: number; column: number; text: string }[];
		assert.deepEqual(rows.map(r => r.file).sort(), REPO_ANSWERS.logoUses);
		assert.deepEqual(Object.keys(rows[0]).slice(0, 4), ['file', 'line', 'column', 'text']);

		const unused = await run(['unused', '--json']);
		assert.equal(unused.code, 0, unused.stderr);
		const answer = JSON.parse(unused.stdout) as { unused: { path: string; size: number }[]; possiblyUsed: { path: string; by: unknown[] }[]; bytes: number };
		assert.deepEqual(answer.unused.map(u => u.path), REPO_ANSWERS.unused);
		assert.deepEqual(answer.possiblyUsed.map(u => u.path).sort(), REPO_ANSWERS.possiblyUsed);
		assert.equal(answer.bytes, answer.unused.reduce((n, u) => n + u.size, 0));
	});

	it('text answers: file:line:column rows, the bytes unused images hold, the suggestion; --scope; from a subfolder', async () => {
		// From a subfolder of a repository with no index: the repository is the folder.
		await fs.mkdir(path.join(root, '.git'));
		const refs = await run(['refs', 'diagram.png'], path.join(root, 'docs'));
		assert.equal(refs.code, 0, refs.stderr);
		assert.match(refs.stdout, /^docs\/guide\.md:2:12 {2}!\[Diagram\]\(\.\/diagram\.png\)$/m);
		const unused = await run(['unused']);
		assert.match(unused.stdout, /assets\/unused-big\.png/);
		assert.match(unused.stdout, /2 unused images hold \d+(\.\d)? kB\./);
		assert.match(unused.stdout, /2 more may be used through a pattern/);
		const broken = await run(['broken']);
		assert.equal(broken.code, 1);
		assert.match(broken.stdout, /^docs\/guide\.md:5:\d+ {2}\.\.\/assets\/BG\.png {2}wrong case {2}→ \.\.\/assets\/bg\.png$/m);
		assert.match(broken.stdout, /4 broken image references in 2 files\./);
		const clean = await run(['broken', '--scope', 'src']);
		assert.equal(clean.code, 0, clean.stdout);
		assert.match(clean.stdout, /No broken image references/);
		const outside = await run(['broken', '--scope', '..']);
		assert.equal(outside.code, 2);
		assert.match(outside.stderr, /--scope \.\. is outside the folder/);
		const noImage = await run(['refs', 'nope.png']);
		assert.equal(noImage.code, 1);
		assert.match(noImage.stderr, /nope\.png: no such file/);
	});

	it('a name with control characters prints escaped', async () => {
		const evil = path.join(root, 'evil');
		await fs.mkdir(evil);
		await fs.writeFile(path.join(evil, 'page\u001b[31m.md'), '![x](./gone\u001b[2J.png)\n');
		const r = await run(['broken', '--scope', 'evil']);
		assert.equal(r.code, 1);
		assert.ok(!r.stdout.includes('\u001b'), JSON.stringify(r.stdout));
		assert.match(r.stdout, /page\\(x1b|u001b|e)\[31m\.md/);
		await fs.rm(evil, { recursive: true });
	});

	it('with an index: a moved image is suggested at its new path, a re-exported one by cosine; duplicates show their uses', async () => {
		const indexed = await run(['index', '.', '--model', tinyModelDir]);
		assert.equal(indexed.code, 0, indexed.stderr);
		// git mv media/chart.png media/moved/chart.png; re-exported: docs/diagram.png becomes docs/diagram-v2.png, a corner changed.
		await fs.mkdir(path.join(root, 'media', 'moved'));
		await fs.rename(path.join(root, 'media', 'chart.png'), path.join(root, 'media', 'moved', 'chart.png'));
		const diagram = await fs.readFile(path.join(root, 'docs', 'diagram.png'));
		const raw = await sharp(diagram).raw().toBuffer({ resolveWithObject: true });
		// A corner redrawn: near, not the same (cosine between 0.9 and 1).
		for (let y = 0; y < 5; y++) {
			for (let x = 0; x < 5; x++) {
				raw.data[(y * raw.info.width + x) * raw.info.channels] ^= 0x40;
			}
		}
		await fs.writeFile(path.join(root, 'docs', 'diagram-v2.png'), await sharp(raw.data, { raw: raw.info }).png().toBuffer());
		await fs.rm(path.join(root, 'docs', 'diagram.png'));
		await fs.copyFile(path.join(root, 'public', 'images', 'logo.png'), path.join(root, 'assets', 'logo-copy.png'));
		const again = await run(['index', '.', '--model', tinyModelDir]);
		assert.equal(again.code, 0, again.stderr);

		const broken = JSON.parse((await run(['broken', '--json'])).stdout) as BrokenJson;
		const chart = broken.broken.find(b => b.target === '../media/chart.png');
		assert.equal(chart?.suggestion, '../media/moved/chart.png');
		assert.equal(chart?.suggested?.why, 'moved');
		const diagramLink = broken.broken.find(b => b.target === './diagram.png');
		assert.equal(diagramLink?.suggestion, './diagram-v2.png');
		assert.equal(diagramLink?.suggested?.why, 'similar');
		assert.ok(diagramLink!.suggested!.cosine! >= 0.9 && diagramLink!.suggested!.cosine! < 1, JSON.stringify(diagramLink));
		const text = await run(['broken']);
		assert.match(text.stdout, /\.\.\/media\/chart\.png {2}missing {2}→ \.\.\/media\/moved\/chart\.png \(moved\)/);
		assert.match(text.stdout, /\.\/diagram\.png {2}missing {2}→ \.\/diagram-v2\.png \(similar image, cosine 0\.\d+\)/);

		const dup = await run(['duplicates', '--json']);
		assert.equal(dup.code, 0, dup.stderr);
		const groups = JSON.parse(dup.stdout) as { paths: string[]; images: { path: string; uses: number }[] }[];
		const logo = groups.find(g => g.paths.includes('public/images/logo.png'));
		assert.deepEqual(logo?.images.filter(i => i.path === 'public/images/logo.png' || i.path === 'assets/logo-copy.png'), [
			{ path: 'assets/logo-copy.png', uses: 0 },
			{ path: 'public/images/logo.png', uses: REPO_ANSWERS.logoUses.length },
		]);
		const dupText = await run(['duplicates']);
		assert.match(dupText.stdout, /^group +score +uses +path$/m);
		// Unused, from the index: the copy nothing uses joins the list.
		const unused = JSON.parse((await run(['unused', '--json'])).stdout) as { unused: { path: string }[] };
		assert.ok(unused.unused.some(u => u.path === 'assets/logo-copy.png'));
	});
});

describe('the same questions as agent tools over MCP (issue 37)', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let client: Client;
	type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };
	const call = async (name: string, args: Record<string, unknown>): Promise<Result> => (await client.callTool({ name, arguments: args })) as Result;
	const data = <T>(r: Result): T => {
		assert.ok(!r.isError, r.content[0]?.text);
		return r.structuredContent as T;
	};
	before(async () => {
		root = await tempDir('clip-uses-mcp-');
		await writeRefsRepo(root);
		await fs.copyFile(path.join(root, 'public', 'images', 'logo.png'), path.join(root, 'assets', 'logo-copy.png'));
		const env = { ...(process.env as Record<string, string>), CLIP_SEARCH_CACHE: await tempDir('clip-uses-mcp-cache-') };
		const indexed = await clip(['index', '.', '--model', tinyModelDir], { cwd: root, env });
		assert.equal(indexed.code, 0, indexed.stderr);
		client = new Client({ name: 'clip-search-test', version: '1.0.0' });
		await client.connect(new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp'], cwd: root, env, stderr: 'pipe' }));
	});
	after(() => client?.close());

	it('find_broken_image_links, find_unused_images, find_image_references: the CLI\'s answers, capped by limit', async () => {
		const broken = data<{ total: number; broken: { file: string; target: string; reason: string; suggestion?: string }[] }>(await call('find_broken_image_links', {}));
		assert.equal(broken.total, 4);
		assert.deepEqual(broken.broken.map(b => b.reason).sort(), REPO_ANSWERS.broken.map(b => b.reason).sort());
		const one = data<{ broken: unknown[]; truncated?: string }>(await call('find_broken_image_links', { limit: 1 }));
		assert.equal(one.broken.length, 1);
		assert.match(one.truncated ?? '', /4 broken references; the first 1 shown/);
		const unused = data<{ unused: { path: string }[]; possiblyUsed: { path: string }[]; bytes: number }>(await call('find_unused_images', {}));
		assert.deepEqual(unused.unused.map(u => u.path).sort(), [...REPO_ANSWERS.unused, 'assets/logo-copy.png'].sort());
		assert.deepEqual(unused.possiblyUsed.map(u => u.path).sort(), REPO_ANSWERS.possiblyUsed);
		const refs = data<{ total: number; references: { file: string; line: number; column: number; text: string }[] }>(await call('find_image_references', { path: 'public/images/logo.png' }));
		assert.deepEqual(refs.references.map(r => r.file).sort(), REPO_ANSWERS.logoUses);
		const dup = data<{ groups: { images: { path: string; uses: number }[] }[] }>(await call('find_duplicate_images', {}));
		const logo = dup.groups.find(g => g.images.some(i => i.path === 'public/images/logo.png'));
		assert.deepEqual(logo?.images.find(i => i.path === 'public/images/logo.png')?.uses, REPO_ANSWERS.logoUses.length);
		assert.equal(logo?.images.find(i => i.path === 'assets/logo-copy.png')?.uses, 0);
	});

	it('a file changed since the last call is read again (no watcher: each call refreshes what changed)', async () => {
		await fs.writeFile(path.join(root, 'docs', 'new.md'), '![small](../assets/unused-small.png)\n');
		const unused = data<{ unused: { path: string }[] }>(await call('find_unused_images', {}));
		assert.ok(!unused.unused.some(u => u.path === 'assets/unused-small.png'));
		await fs.rm(path.join(root, 'docs', 'new.md'));
		const again = data<{ unused: { path: string }[] }>(await call('find_unused_images', {}));
		assert.ok(again.unused.some(u => u.path === 'assets/unused-small.png'));
	});

	it('paths an agent gives stay inside the folder; one answer for missing and outside', async () => {
		for (const args of [{ path: '../outside.png' }, { path: '/etc/passwd' }, { path: 'docs/missing.png' }]) {
			const r = await call('find_image_references', args);
			assert.ok(r.isError, JSON.stringify(args));
			assert.match(r.content[0].text ?? '', /no such image in the folder/);
		}
		const r = await call('find_unused_images', { folder: '..' });
		assert.ok(r.isError);
		assert.match(r.content[0].text ?? '', /no such folder in the folder/);
	});

	it('calls sent in parallel each get the answer they get alone', async () => {
		const calls: [string, Record<string, unknown>][] = [
			['find_broken_image_links', {}],
			['find_unused_images', {}],
			['find_image_references', { path: 'public/images/logo.png' }],
			['find_image_references', { path: 'assets/bg.png' }],
			['find_unused_images', { folder: 'src' }],
			['find_broken_image_links', { folder: 'docs' }],
		];
		const alone: unknown[] = [];
		for (const [name, args] of calls) {
			alone.push(data(await call(name, args)));
		}
		const together = await Promise.all(calls.map(async ([name, args]) => data(await call(name, args))));
		assert.deepEqual(together, alone);
	});
});
