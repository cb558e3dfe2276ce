/**
 * `clip-search mcp` as an agent meets it: the official SDK's Client over the real stdio process,
 * started in the indexed folder as the README's snippet does. The nine tools are listed with their
 * annotations; each is called on the fixtures; ten queries give the same top hits as
 * `clip-search search --json`; bad input gets a clear error and the server goes on.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { seeded, shapeImage } from '../shapes';
import { textImages } from '../textImages';
import { cli, clip } from './runCli';

type Content = { type: string; text?: string; data?: string; mimeType?: string; uri?: string; name?: string };
type Result = { content: Content[]; structuredContent?: Record<string, unknown>; isError?: boolean };

describe('clip-search mcp (stdio, the SDK client)', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let env: Record<string, string>;
	let client: Client;
	let shot: { rel: string; words: string[] };
	before(async () => {
		root = await tempDir('clip-mcp-');
		await copyFixtureImages(root);
		const [img] = await textImages(1, 21);
		shot = { rel: `shots/${img.name}`, words: img.words };
		await fs.mkdir(path.join(root, 'shots'));
		await fs.writeFile(path.join(root, shot.rel), img.bytes);
		env = { ...(process.env as Record<string, string>), CLIP_SEARCH_CACHE: await tempDir('clip-mcp-cache-') };
		const indexed = await clip(['index', '.', '--model', tinyModelDir, '--json'], { cwd: root, env });
		assert.equal(indexed.code, 0, indexed.stderr);
		client = new Client({ name: 'clip-search-test', version: '1.0.0' });
		await client.connect(new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp'], cwd: root, env, stderr: 'pipe' }));
	});
	after(() => client?.close());

	const call = async (name: string, args: Record<string, unknown>): Promise<Result> => (await client.callTool({ name, arguments: args })) as Result;
	const json = (r: Result): Record<string, unknown> => JSON.parse(r.content[0].text!) as Record<string, unknown>;

	it('lists the nine tools, read-only ones annotated so, with short descriptions', async () => {
		const { tools } = await client.listTools();
		assert.deepEqual(tools.map(t => t.name).sort(), [
			'find_broken_image_links',
			'find_duplicate_images',
			'find_image_references',
			'find_similar_images',
			'find_unused_images',
			'image_index_status',
			'label_images',
			'read_image_text',
			'search_images',
		]);
		for (const t of tools) {
			assert.equal(t.annotations?.readOnlyHint, t.name !== 'label_images', t.name);
			assert.ok(t.description && t.description.length <= 450, `${t.name}: ${t.description?.length} characters`);
			assert.equal(t.inputSchema.type, 'object');
		}
	});

	it('search_images gives the same top hits as clip-search search --json, for ten queries', async () => {
		const queries = ['a red circle', 'a blue star', 'a green triangle', 'a yellow square', 'a purple cross', 'an orange circle', 'a photo of a red star', 'blue cross', 'green square', 'yellow triangle'];
		for (const query of queries) {
			const cliHits = JSON.parse((await clip(['search', query, '-k', '5', '--json'], { cwd: root, env })).stdout) as { path: string }[];
			const r = await call('search_images', { query, k: 5 });
			assert.ok(!r.isError, r.content[0].text);
			const hits = (r.structuredContent as { results: { path: string; score: number }[] }).results;
			assert.deepEqual(hits.map(h => h.path), cliHits.map(h => h.path), query);
			assert.deepEqual(json(r).results, hits, 'the text says what the structured content says');
		}
	});

	it('previews only on request: at most 8, WebP, capped in size; links to the files always', async () => {
		const plain = await call('search_images', { query: 'a red circle', k: 12 });
		assert.equal(plain.content.filter(c => c.type === 'image').length, 0);
		assert.equal(plain.content.filter(c => c.type === 'resource_link').length, 12);
		assert.match(plain.content.find(c => c.type === 'resource_link')!.uri!, /^file:\/\//);
		const withThumbs = await call('search_images', { query: 'a red circle', k: 12, include_thumbnails: true, thumbnail_size: 128 });
		const images = withThumbs.content.filter(c => c.type === 'image');
		assert.equal(images.length, 8);
		assert.ok(images.every(i => i.mimeType === 'image/webp' && Buffer.from(i.data!, 'base64').length < 20_000));
	});

	it('find_similar_images, read_image_text, label_images, find_duplicate_images, image_index_status answer on the fixtures', async () => {
		const similar = json(await call('find_similar_images', { path: 'red-circle.png', k: 2 })) as { results: { path: string }[] };
		assert.equal(similar.results[0].path, 'copies/red-circle-copy.jpg');
		const text = json(await call('read_image_text', { path: shot.rel })) as { lines: string[]; source: string };
		const words = text.lines.join(' ').toLowerCase();
		assert.ok(shot.words.every(w => words.includes(w)), `${shot.words} in ${text.lines}`);
		const labels = json(await call('label_images', { classes: ['red', 'blue', 'green'] })) as { counts: Record<string, number>; labels: { path: string; label: string }[] };
		assert.equal(Object.values(labels.counts).reduce((a, b) => a + b, 0), labels.labels.length);
		assert.equal(labels.labels.find(l => l.path === 'blue-star.png')?.label, 'blue');
		assert.ok(!existsSync(path.join(root, '.vscode', 'image-tags.json')), 'no tags file unless asked');
		const duplicates = json(await call('find_duplicate_images', { threshold: 0.95 })) as { groups: { paths: string[] }[] };
		assert.ok(duplicates.groups.some(g => g.paths.includes('red-circle.png') && g.paths.includes('copies/red-circle-copy.jpg')));
		const status = json(await call('image_index_status', {})) as { folders: { indexed: boolean; images: number; model: string; indexing: boolean }[] };
		assert.equal(status.folders[0].indexed, true);
		assert.equal(status.folders[0].images, 33);
		assert.equal(status.folders[0].indexing, false);
		const written = json(await call('label_images', { classes: ['red', 'blue'], write_tags: true })) as { written: { tagsFile: string }[] };
		assert.equal(written.written[0].tagsFile, '.vscode/image-tags.json');
		assert.ok(existsSync(path.join(root, '.vscode', 'image-tags.json')));
	});

	it('concurrent find_similar_images on images not yet indexed: each answer is the one it gets alone (issue 34)', async () => {
		// Two new images, embedded on request (they are not in the index): a shared pixel block swapped
		// their vectors, so 3 of 8 answers were the other image's neighbours.
		const rand = seeded(34);
		await fs.mkdir(path.join(root, 'unindexed'), { recursive: true });
		await fs.writeFile(path.join(root, 'unindexed', 'a.png'), await shapeImage('red', 'circle', rand));
		await fs.writeFile(path.join(root, 'unindexed', 'b.png'), await shapeImage('blue', 'star', rand));
		const paths = ['unindexed/a.png', 'unindexed/b.png'];
		const ask = async (p: string): Promise<string> => {
			const r = await call('find_similar_images', { path: p, k: 6 });
			assert.ok(!r.isError, r.content[0].text);
			return JSON.stringify((json(r) as { results: { path: string; score: number }[] }).results.map(h => [h.path, h.score.toFixed(4)]));
		};
		const alone = [await ask(paths[0]), await ask(paths[1])];
		assert.notEqual(alone[0], alone[1], 'the two images have different neighbours');
		for (let round = 0; round < 3; round++) {
			const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => ask(paths[i % 2])));
			answers.forEach((a, i) => assert.equal(a, alone[i % 2], `round ${round}, call ${i} (${paths[i % 2]})`));
		}
		await fs.rm(path.join(root, 'unindexed'), { recursive: true });
	});

	it('a mistyped filter and an empty filtered answer say so in notes (issue 35, items 1 and 6)', async () => {
		const typo = await call('search_images', { query: 'a red circle tpye:png', k: 3 });
		assert.ok(!typo.isError, typo.content[0].text);
		const notes = (typo.structuredContent as { notes?: string[] }).notes ?? [];
		assert.ok(notes.some(n => /"tpye:png" is not a filter.*did you mean type:png\?/.test(n)), JSON.stringify(notes));
		const empty = await call('search_images', { query: 'a red circle type:gif path:copis' });
		const emptyNotes = (empty.structuredContent as { notes?: string[]; results: unknown[] }).notes ?? [];
		assert.equal((empty.structuredContent as { results: unknown[] }).results.length, 0);
		assert.ok(emptyNotes.some(n => /type:gif lets 0 of \d+ through \(here: png \d+/.test(n) && /path:copis lets 0 of \d+ through \(did you mean path:copies\?/.test(n)), JSON.stringify(emptyNotes));
	});

	it('bad input: a clear error that says what to do, and the server goes on', async () => {
		const cases: [string, Record<string, unknown>, RegExp][] = [
			['find_similar_images', { path: 'no-such.png' }, /no-such\.png: no such image/],
			['read_image_text', { path: '../outside.png' }, /\.\.\/outside\.png: no such image in the folder/],
			['label_images', { classes_file: 'missing-classes.json' }, /missing-classes\.json: no such classes file/],
			['search_images', { query: 'a cat', k: 0 }, /k/],
			['search_images', { query: 'a cat', k: 5000 }, /k/],
			['search_images', { query: '   ' }, /the query is empty/],
			['label_images', { classes: ['only-one'] }, /classes/],
		];
		for (const [name, args, message] of cases) {
			const r = await client.callTool({ name, arguments: args }).then(
				x => x as Result,
				(err: Error) => ({ isError: true, content: [{ type: 'text', text: err.message }] }) as Result,
			);
			assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}`);
			assert.match(r.content[0].text!, message, `${name} ${JSON.stringify(args)}`);
		}
		const ok = await call('image_index_status', {});
		assert.ok(!ok.isError, 'still serving');
	});

	it('an unindexed folder: the error says to run clip-search index', async () => {
		const empty = await tempDir('clip-mcp-empty-');
		const other = new Client({ name: 't', version: '1' });
		await other.connect(new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp'], cwd: empty, env, stderr: 'pipe' }));
		try {
			const r = (await other.callTool({ name: 'search_images', arguments: { query: 'a cat' } })) as Result;
			assert.equal(r.isError, true);
			assert.match(r.content[0].text!, /not indexed yet: run `clip-search index \.`/);
		} finally {
			await other.close();
		}
	});
});
