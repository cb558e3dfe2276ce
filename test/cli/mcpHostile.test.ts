/**
 * `clip-search mcp` against a prompt-injected agent (issue 25): every attack that reached outside the
 * folder, ate memory, hung the server or mangled a result, tried over the real stdio process with the
 * official SDK client, and now refused. The folder holds symbolic links that lead out (a file, a
 * folder, an indexed image replaced by a link, `.vscode` itself), a FIFO, and the outside folder
 * holds a "secret" image, a classes file and a file to plant tags into.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { copyFixtureImages, fixtureImagesDir, tempDir, tinyModelDir, withinMs } from '../helpers';
import { cli, clip } from './runCli';

type Content = { type: string; text?: string; data?: string };
type Result = { content: Content[]; structuredContent?: Record<string, unknown>; isError?: boolean };

/** The server's resident memory, from /proc (Linux). */
function rssMb(pid: number): number {
	const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))!;
	return Number(/\d+/.exec(line)![0]) / 1024;
}

describe('clip-search mcp refuses what a hostile agent asks (issue 25)', { skip: existsSync(cli) ? (process.platform === 'linux' ? false : 'needs /proc and FIFOs (Linux)') : `needs ${cli}: run npm run build` }, () => {
	let base: string;
	let root: string;
	let outside: string;
	let client: Client;
	let pid: number;
	before(async () => {
		base = await tempDir('clip-hostile-');
		root = path.join(base, 'imgs');
		outside = path.join(base, 'outside');
		await fs.mkdir(root);
		await fs.mkdir(outside);
		await copyFixtureImages(root);
		const bytes = await fs.readFile(path.join(fixtureImagesDir, 'green-square.png'));
		await fs.mkdir(path.join(root, 'icons'));
		for (let i = 0; i < 30; i++) {
			await fs.writeFile(path.join(root, 'icons', `copy-${String(i).padStart(2, '0')}.png`), bytes);
		}
		await fs.copyFile(path.join(fixtureImagesDir, 'blue-star.png'), path.join(outside, 'secret.png'));
		await fs.writeFile(path.join(outside, 'classes.json'), JSON.stringify({ red: 'a red shape', blue: 'a blue shape' }));
		await fs.writeFile(path.join(outside, 'planted.conf'), 'keep me\n');
		const env = { ...(process.env as Record<string, string>), CLIP_SEARCH_CACHE: await tempDir('clip-hostile-cache-') };
		const indexed = await clip(['index', '.', '--model', tinyModelDir, '--json'], { cwd: root, env });
		assert.equal(indexed.code, 0, indexed.stderr);
		// After indexing (the walker never follows links): links that lead out, and an indexed image replaced by one.
		await fs.symlink(path.join(outside, 'secret.png'), path.join(root, 'link.png'));
		await fs.symlink(outside, path.join(root, 'linkdir'));
		await fs.rm(path.join(root, 'red-circle.png'));
		await fs.symlink(path.join(outside, 'secret.png'), path.join(root, 'red-circle.png'));
		execFileSync('mkfifo', [path.join(root, 'pipe.png')]);
		client = new Client({ name: 'hostile', version: '1.0.0' });
		const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp'], cwd: root, env, stderr: 'pipe' });
		await client.connect(transport);
		pid = transport.pid!;
	});
	after(() => client?.close());

	const call = async (name: string, args: Record<string, unknown>): Promise<Result> => withinMs(20_000, `${name} ${JSON.stringify(args)}`, client.callTool({ name, arguments: args }) as Promise<Result>);
	const refused = async (name: string, args: Record<string, unknown>, message = /no such (image|classes file) in the folder/): Promise<string> => {
		const r = await call(name, args);
		assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} answered: ${r.content[0]?.text}`);
		assert.match(r.content[0].text!, message, `${name} ${JSON.stringify(args)}`);
		assert.doesNotMatch(r.content[0].text!, /ENOENT|EACCES|EISDIR|format|regular file/, 'nothing that tells one cause from another');
		return r.content[0].text!;
	};

	it('read_image_text, find_similar_images and label_images do not follow links out of the folder', async () => {
		await refused('read_image_text', { path: 'link.png' });
		await refused('read_image_text', { path: 'linkdir/secret.png' });
		await refused('find_similar_images', { path: 'link.png' });
		await refused('find_similar_images', { path: 'linkdir/secret.png' });
		await refused('label_images', { classes_file: 'linkdir/classes.json' });
	});

	it('missing, outside and unreadable paths get the same answer (nothing to probe with)', async () => {
		const answers = [
			await refused('read_image_text', { path: 'nope.png' }),
			await refused('read_image_text', { path: '../outside/secret.png' }),
			await refused('read_image_text', { path: '/etc/shadow' }),
			await refused('read_image_text', { path: '/no/such/file.png' }),
		];
		const shapes = answers.map(a => a.replace(/^.*?: /, ''));
		assert.equal(new Set(shapes).size, 1, shapes.join('\n'));
	});

	it('image terms in a query stay inside the folder; /etc/shadow and a missing file answer alike', async () => {
		await refused('search_images', { query: `${path.join(outside, 'secret.png')}` }, /no such image/);
		await refused('search_images', { query: '../outside/secret.png' }, /no such image/);
		await refused('search_images', { query: '"red" + ./link.png' }, /no such image/);
		const shadow = await refused('search_images', { query: '/etc/shadow' }, /no such image/);
		const missing = await refused('search_images', { query: '/etc/no-such-file' }, /no such image/);
		assert.equal(shadow.replace(/^.*?: /, ''), missing.replace(/^.*?: /, ''));
		// ~ is not expanded for an agent, and the refusal names the path as given (issue 34, item 15).
		const home = await refused('search_images', { query: '~/secret.png' }, /^~\/secret\.png: no such image/);
		assert.ok(!home.includes(os.homedir()), home);
	});

	it('/dev/zero and a FIFO are refused at once: no memory eaten, no hang, later searches answered', async () => {
		const before = rssMb(pid);
		for (const query of ['/dev/zero', './pipe.png', './pipe.png', './pipe.png', './pipe.png']) {
			await refused('search_images', { query }, /no such image/);
		}
		await refused('read_image_text', { path: 'pipe.png' });
		await refused('find_similar_images', { path: 'pipe.png' });
		const grown = rssMb(pid) - before;
		assert.ok(grown < 100, `the server grew by ${grown.toFixed(0)} MB`);
		const ok = await call('search_images', { query: 'a red circle', k: 3 });
		assert.ok(!ok.isError, ok.content[0].text);
	});

	it('previews of an indexed image replaced by a link that leads out are not made', async () => {
		const r = await call('search_images', { query: 'a red circle', k: 12, include_thumbnails: true });
		assert.ok(!r.isError);
		const results = (r.structuredContent as { results: { path: string }[] }).results;
		assert.ok(results.some(h => h.path === 'red-circle.png'), 'the replaced image is still in the index');
		assert.ok(results.slice(0, 8).some(h => h.path === 'red-circle.png'), 'among the eight that get previews');
		// Eight previews are asked for; the link's is refused, so seven come back (none of the secret).
		assert.equal(r.content.filter(c => c.type === 'image').length, 7);
	});

	it('write_tags never writes through .vscode -> outside, nor through a tags file that is a link out', async () => {
		await fs.symlink(outside, path.join(root, '.vscode'));
		let r = await call('label_images', { classes: ['red', 'blue'], write_tags: true });
		assert.equal(r.isError, true, r.content[0].text);
		assert.match(r.content[0].text!, /outside the folder/);
		assert.ok(!existsSync(path.join(outside, 'image-tags.json')), 'nothing created outside');
		await fs.rm(path.join(root, '.vscode'));
		await fs.mkdir(path.join(root, '.vscode'));
		await fs.symlink(path.join(outside, 'planted.conf'), path.join(root, '.vscode', 'image-tags.json'));
		r = await call('label_images', { classes: ['red', 'blue'], write_tags: true });
		assert.equal(r.isError, true, r.content[0].text);
		assert.match(r.content[0].text!, /outside the folder/);
		assert.equal(await fs.readFile(path.join(outside, 'planted.conf'), 'utf8'), 'keep me\n', 'the outside file is untouched');
		await fs.rm(path.join(root, '.vscode'), { recursive: true });
	});

	it('classes named __proto__, constructor and toString are classes like any other', async () => {
		const r = await call('label_images', { classes: ['__proto__', 'constructor', 'toString'] });
		assert.ok(!r.isError, r.content[0].text);
		const data = JSON.parse(r.content[0].text!) as { counts: Record<string, number>; labels: { label: string }[] };
		const counts = Object.entries(data.counts);
		assert.ok(counts.length >= 1);
		for (const [name, n] of counts) {
			assert.ok(['__proto__', 'constructor', 'toString', '(none)'].includes(name), name);
			assert.equal(typeof n, 'number', `${name}: ${String(n)}`);
		}
		assert.equal(
			counts.reduce((a, [, n]) => a + n, 0),
			data.labels.length,
		);
		await fs.writeFile(path.join(root, 'proto-classes.json'), '{"__proto__": "a red shape", "toString": "a blue shape", "constructor": "a green shape"}');
		const fromFile = await call('label_images', { classes_file: 'proto-classes.json' });
		assert.ok(!fromFile.isError, fromFile.content[0].text);
		const names = new Set((JSON.parse(fromFile.content[0].text!) as { labels: { label: string }[] }).labels.map(l => l.label));
		assert.ok([...names].every(n => ['__proto__', 'constructor', 'toString'].includes(n)), [...names].join(', '));
		assert.ok(names.has('__proto__'), 'the class "__proto__" did not vanish');
	});

	it('label_images with classes and classes_file is refused; write_tags is annotated (not read-only, not destructive, idempotent)', async () => {
		await refused('label_images', { classes: ['a', 'b'], classes_file: 'proto-classes.json' }, /classes or classes_file, not both/);
		const { tools } = await client.listTools();
		const label = tools.find(t => t.name === 'label_images')!;
		assert.deepEqual([label.annotations?.readOnlyHint, label.annotations?.destructiveHint, label.annotations?.idempotentHint], [false, false, true]);
		assert.match(label.description!, /writes the labels to \.vscode\/image-tags\.json/);
	});

	it('find_duplicate_images is capped (groups and paths), takes folder and limit, and says what it left out', async () => {
		const all = JSON.parse((await call('find_duplicate_images', {})).content[0].text!) as { groups: { paths: string[]; more?: number }[]; truncated?: string };
		const icons = all.groups.find(g => g.paths.some(p => p.startsWith('icons/')))!;
		assert.deepEqual([icons.paths.length, icons.more], [10, 21], 'the 31 copies (30 and green-square.png): 10 shown, the rest counted');
		assert.match(all.truncated ?? '', /at most 10 paths each/);
		const r = await call('find_duplicate_images', { limit: 1 });
		assert.ok(!r.isError, r.content[0].text);
		const data = JSON.parse(r.content[0].text!) as { groups: { paths: string[]; more?: number }[]; truncated?: string };
		assert.ok(all.groups.length > 1);
		assert.equal(data.groups.length, 1);
		assert.match(data.truncated ?? '', new RegExp(`${all.groups.length} group\\(s\\) found; the first 1 shown`));
		assert.ok(r.content[0].text!.length < 5000, `${r.content[0].text!.length} characters`);
		const scoped = JSON.parse((await call('find_duplicate_images', { folder: 'copies' })).content[0].text!) as { groups: { paths: string[] }[] };
		assert.ok(scoped.groups.every(g => g.paths.every(p => p.startsWith('copies/'))));
	});

	it('the folder itself is a scope: ".", "./" and its absolute path; a scope that does not exist is named', async () => {
		for (const folder of ['.', './', root]) {
			const r = await call('search_images', { query: 'a red circle', k: 3, folder });
			assert.ok(!r.isError, `${folder}: ${r.content[0].text}`);
			assert.equal((r.structuredContent as { results: unknown[] }).results.length, 3, folder);
		}
		await refused('search_images', { query: 'a red circle', folder: 'no-such-folder' }, /no-such-folder: no such folder/);
		await refused('search_images', { query: 'a red circle', folder: 'linkdir' }, /linkdir: no such folder/);
	});
});

describe('clip-search mcp started in / or the home folder', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	it('refuses to serve without a folder named, and says how to name it', async () => {
		for (const cwd of ['/', process.env.HOME ?? '/root']) {
			const r = await clip(['mcp'], { cwd });
			assert.equal(r.code, 2, r.stderr);
			assert.match(r.stderr, /without a folder: give the project folder, e\.g\. clip-search mcp \/path\/to\/project/);
		}
	});
});
