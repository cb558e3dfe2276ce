/**
 * Reads the earlier bound did not reach (issue 34, items 3-5 and 8), on the surfaces where they were
 * found: the tags file on every search (CLI and MCP), the watcher's .gitignore, a model folder's
 * JSON and tokenizer files, and rclip's gzipped merge list. A FIFO, a link to /dev/zero, a malformed
 * or oversized file is one clear answer naming the file, at once; the work goes on where it can.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { statPaths } from '../../src/core/index/walker';
import { copyFixtureImages, ensureRclipMerges, fixturesDir, tempDir, tinyModelDir, withinMs } from '../helpers';
import { cli, clip } from './runCli';

type Result = { content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };

const LINUX_ONLY = process.platform === 'linux' ? false : 'needs FIFOs and /dev/zero (Linux)';

describe('the tags file, read on every search, is bounded (issue 34, item 3)', { skip: existsSync(cli) ? LINUX_ONLY : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let env: Record<string, string>;
	const tags = (): string => path.join(root, '.vscode', 'image-tags.json');
	before(async () => {
		root = await tempDir('clip-bounded-tags-');
		await copyFixtureImages(root);
		env = { ...(process.env as Record<string, string>), CLIP_SEARCH_CACHE: await tempDir('clip-bounded-tags-cache-') };
		const indexed = await clip(['index', '.', '--model', tinyModelDir, '--json'], { cwd: root, env });
		assert.equal(indexed.code, 0, indexed.stderr);
		await fs.mkdir(path.join(root, '.vscode'));
	});
	const placeTags = async (kind: 'fifo' | 'zero' | 'malformed' | 'good'): Promise<void> => {
		await fs.rm(tags(), { force: true });
		if (kind === 'fifo') {
			execFileSync('mkfifo', [tags()]);
		} else if (kind === 'zero') {
			await fs.symlink('/dev/zero', tags());
		} else if (kind === 'malformed') {
			await fs.writeFile(tags(), '{ "version": 1, "classes": [');
		} else {
			await fs.writeFile(tags(), JSON.stringify({ version: 1, model: 'x', classes: ['red', 'blue'], images: { 'red-circle.png': { label: 'red', score: 0.9 } } }));
		}
	};

	for (const kind of ['fifo', 'zero', 'malformed'] as const) {
		it(`a ${kind} tags file: a search without tag: answers at once with a note, one with tag: fails naming the file`, async () => {
			await placeTags(kind);
			const plain = await clip(['search', 'a red circle', '-k', '3', '--json'], { cwd: root, env, timeoutMs: 20_000 });
			assert.equal(plain.code, 0, `exit ${plain.code}: ${plain.stderr}`);
			assert.equal((JSON.parse(plain.stdout) as { path: string }[]).length, 3);
			assert.match(plain.stderr, /tags file was not used .*image-tags\.json/);
			const tagged = await clip(['search', 'a red circle tag:red', '--json'], { cwd: root, env, timeoutMs: 20_000 });
			assert.equal(tagged.code, 1, `exit ${tagged.code}: ${tagged.stderr}`);
			assert.match(tagged.stderr, /image-tags\.json/);
			assert.match(tagged.stderr, kind === 'malformed' ? /not valid JSON/ : /not a regular file/);
		});
	}

	it('a good tags file still gives tag: and why', async () => {
		await placeTags('good');
		const r = await clip(['search', 'a red circle tag:red', '--json'], { cwd: root, env, timeoutMs: 20_000 });
		assert.equal(r.code, 0, r.stderr);
		const hits = JSON.parse(r.stdout) as { path: string; why?: { tag?: { label: string } } }[];
		assert.deepEqual(hits.map(h => h.path), ['red-circle.png']);
		assert.equal(hits[0].why?.tag?.label, 'red');
	});

	it('over MCP: searches beside a FIFO tags file are answered, many at once, and the server goes on', async () => {
		await placeTags('fifo');
		const client = new Client({ name: 'bounded', version: '1.0.0' });
		await client.connect(new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp'], cwd: root, env, stderr: 'pipe' }));
		try {
			const call = (args: Record<string, unknown>): Promise<Result> => withinMs(20_000, JSON.stringify(args), client.callTool({ name: 'search_images', arguments: args }) as Promise<Result>);
			// Four searches exhausted Node's I/O pool on the FIFO; eight now, then one more.
			const answers = await Promise.all(Array.from({ length: 8 }, () => call({ query: 'a blue star', k: 2 })));
			for (const a of answers) {
				assert.ok(!a.isError, a.content[0].text);
				assert.match(JSON.stringify(a.structuredContent), /tags file was not used/);
			}
			const tagged = await call({ query: 'a blue star tag:blue' });
			assert.equal(tagged.isError, true);
			assert.match(tagged.content[0].text!, /tags file/);
			const status = await withinMs(20_000, 'status', client.callTool({ name: 'image_index_status', arguments: {} }) as Promise<Result>);
			assert.ok(!status.isError);
		} finally {
			await client.close();
		}
	});
});

describe('the watcher\'s walk reads .gitignore as the full walk does (issue 34, item 4)', { skip: LINUX_ONLY }, () => {
	it('a FIFO .gitignore at the root is reported, and the changed paths are still stat\'ed', async () => {
		const root = await tempDir('clip-bounded-gitignore-');
		await copyFixtureImages(root);
		execFileSync('mkfifo', [path.join(root, '.gitignore')]);
		const errors: string[] = [];
		const changes = await withinMs(10_000, 'statPaths', statPaths(root, ['red-circle.png', 'blue-star.png'], { onError: (rel, err) => errors.push(`${rel}: ${(err as Error).message}`) }));
		assert.equal(changes.files.length, 2);
		assert.ok(errors.some(e => /^\.gitignore: .*not a regular file/.test(e)), errors.join('\n'));
	});
});

describe('model-folder files are read bounded (issue 34, items 5 and 8)', { skip: existsSync(cli) ? LINUX_ONLY : `needs ${cli}: run npm run build` }, () => {
	const cases: [string, string, string][] = [
		['tiny-immich-clip', 'config.json', 'embed'],
		['tiny-immich-clip', 'textual/tokenizer_config.json', 'tokenize'],
		['tiny-immich-clip', 'visual/preprocess_cfg.json', 'embed'],
		['tiny-clip', 'config.json', 'tokenize'],
		['tiny-clip', 'preprocessor_config.json', 'embed'],
		['tiny-clip', 'tokenizer.json', 'tokenize'],
	];
	for (const [model, file, command] of cases) {
		for (const kind of ['fifo', 'zero'] as const) {
			it(`${model}/${file} as a ${kind}: ${command} fails at once naming it`, async () => {
				const dir = path.join(await tempDir('clip-bounded-model-'), model);
				await fs.cp(path.join(fixturesDir, model), dir, { recursive: true });
				await fs.rm(path.join(dir, file));
				if (kind === 'fifo') {
					execFileSync('mkfifo', [path.join(dir, file)]);
				} else {
					await fs.symlink('/dev/zero', path.join(dir, file));
				}
				const args = command === 'tokenize' ? ['tokenize', 'a red circle', '--model', dir] : ['embed', '--image', path.join(fixturesDir, 'images', 'red-circle.png'), '--model', dir];
				const r = await clip(args, { env: { CLIP_SEARCH_CACHE: await tempDir('clip-bounded-model-cache-') }, timeoutMs: 30_000 });
				assert.equal(r.code, 1, `exit ${r.code} (null: it hung): ${r.stderr}`);
				assert.ok(r.stderr.includes(path.basename(file)), r.stderr);
				assert.match(r.stderr, /not a regular file/);
			});
		}
	}

	it('a gzip bomb for rclip\'s merge list is refused naming the file (it ended the process, 3.1 GB)', { skip: ensureRclipMerges() }, async () => {
		const dir = path.join(await tempDir('clip-bounded-rclip-'), 'tiny-rclip');
		await fs.cp(path.join(fixturesDir, 'tiny-rclip'), dir, { recursive: true });
		const merges = path.join(dir, 'tokenizer', 'bpe_simple_vocab_16e6.txt.gz');
		// 300 MB of one repeated line, about 300 KB gzipped.
		const line = Buffer.from('a b\n');
		const body = Buffer.alloc(300 * 1024 * 1024);
		for (let at = 0; at < body.length; at += line.length) {
			line.copy(body, at);
		}
		await fs.writeFile(merges, gzipSync(body, { level: 9 }));
		const r = await clip(['tokenize', 'a red circle', '--model', dir], { env: { CLIP_SEARCH_CACHE: await tempDir('clip-bounded-rclip-cache-') }, timeoutMs: 60_000 });
		assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
		assert.match(r.stderr, /bpe_simple_vocab_16e6\.txt\.gz inflates to more than 64 MiB/);
	});
});
