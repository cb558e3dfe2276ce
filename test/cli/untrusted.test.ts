/**
 * A cloned repository is untrusted input, tried through the CLI as someone preparing one would:
 * files named on the command line that are not ours, a folder named like a known model id, a
 * crafted index graph, pathological example globs and too many classes. Each ends in a clear refusal
 * or a warning, with nothing overwritten and no crash.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { cli, clip } from './runCli';


/** Symbolic links and file modes as POSIX has them (Windows needs admin rights for links and has no modes). */
const POSIX_ONLY = process.platform === 'win32' ? 'symbolic links and file modes are POSIX features' : false;
describe('clip-search on a hostile repository', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let index: string;
	let env: NodeJS.ProcessEnv;
	before(async () => {
		root = await tempDir('clip-hostile-');
		await copyFixtureImages(root);
		index = await tempDir('clip-hostile-index-');
		env = { CLIP_SEARCH_CACHE: await tempDir('clip-hostile-cache-'), HF_ENDPOINT: 'http://127.0.0.1:9' };
		const res = await clip(['index', root, '--model', tinyModelDir, '--index', index, '--json'], { env });
		assert.equal(res.code, 0, res.stderr);
	});

	it('a query, similar or ocr naming /dev/zero or a FIFO is refused at once, naming the file (the CLI may read other files a person names)', { skip: POSIX_ONLY }, async () => {
		const fifo = path.join(await tempDir('clip-fifo-'), 'pipe.png');
		execFileSync('mkfifo', [fifo]);
		for (const args of [['search', '/dev/zero'], ['search', `"red" + ${fifo}`], ['similar', fifo], ['ocr', '/dev/zero']]) {
			const res = await clip(args[0] === 'ocr' ? args : [...args, '--index', index], { env });
			assert.equal(res.code, 1, `${args.join(' ')}: ${res.stderr}`);
			assert.match(res.stderr, /is not a regular file \(a device, a pipe or a socket\)/, args.join(' '));
		}
		const outside = path.join(await tempDir('clip-outside-'), 'ref.png');
		await fs.copyFile(path.join(root, 'red-star.png'), outside);
		const res = await clip(['search', outside, '--index', index, '--json'], { env });
		assert.equal(res.code, 0, res.stderr);
		assert.ok((JSON.parse(res.stdout) as unknown[]).length > 0, 'a regular image anywhere, named by the person');
	});

	it('classes named __proto__, constructor and toString (from --classes or a classes file) are classes like any other', async () => {
		const file = path.join(await tempDir('clip-proto-'), 'classes.json');
		await fs.writeFile(file, '{"__proto__": "a red shape", "constructor": "a blue shape", "toString": "a green shape"}');
		for (const args of [['--classes', '__proto__,constructor,toString'], ['--classes-file', file]]) {
			const res = await clip(['label', ...args, '--index', index, '--json'], { env });
			assert.equal(res.code, 0, res.stderr);
			const labels = JSON.parse(res.stdout) as { label: string; scores: Record<string, number> }[];
			assert.ok(labels.length > 0);
			for (const l of labels) {
				assert.deepEqual(Object.keys(l.scores).sort(), ['__proto__', 'constructor', 'toString'], args.join(' '));
				assert.ok(Math.abs(Object.values(l.scores).reduce((a, b) => a + b, 0) - 1) < 1e-4);
			}
			assert.ok(labels.some(l => l.label === '__proto__'), `${args.join(' ')}: the class "__proto__" did not vanish`);
		}
	});

	it('file names with terminal escapes or newlines print escaped, one result a line (search, stats, failures); --json keeps them exact', { skip: POSIX_ONLY }, async () => {
		const dir = await tempDir('clip-names-');
		const evil = 'evil\x1b]0;PWNED\x07\x1b[2Jred.png';
		await fs.copyFile(path.join(root, 'red-circle.png'), path.join(dir, evil));
		await fs.copyFile(path.join(root, 'red-star.png'), path.join(dir, 'new\nline.png'));
		await fs.writeFile(path.join(dir, 'bad\x1b[31m.png'), 'not an image');
		const idx = await tempDir('clip-names-index-');
		const indexed = await clip(['index', dir, '--model', tinyModelDir, '--index', idx], { env });
		assert.equal(indexed.code, 0, indexed.stderr);
		const res = await clip(['search', 'red', '--index', idx, '-k', '2'], { env });
		assert.equal(res.code, 0, res.stderr);
		for (const out of [res.stdout, indexed.stdout, (await clip(['stats', '--index', idx], { env })).stdout]) {
			assert.doesNotMatch(out, /[\x00-\x08\x0b-\x1f\x7f]/, 'no control character reaches the terminal');
		}
		const lines = res.stdout.trim().split('\n');
		assert.equal(lines.length, 1 + 2, 'a header and the two results, one a line');
		assert.ok(res.stdout.includes('evil\\x1b]0;PWNED\\x07\\x1b[2Jred.png'), res.stdout);
		assert.ok(res.stdout.includes('new\\nline.png'), res.stdout);
		assert.match(indexed.stdout, /failed: bad\\x1b\[31m\.png/);
		const json = JSON.parse((await clip(['search', 'red', '--index', idx, '-k', '3', '--json'], { env })).stdout) as { path: string }[];
		assert.ok(json.some(r => r.path === evil), 'JSON keeps the exact name');
	});

	it('--tags never replaces the classes file, an image or notes; --out neither, and writes through a link', { skip: POSIX_ONLY }, async () => {
		const classes = path.join(root, 'classes.json');
		const text = '// colours\n{"red": ["a red shape"], "blue": ["a blue shape"]}\n';
		await fs.writeFile(classes, text);
		const notes = path.join(root, 'notes.md');
		await fs.writeFile(notes, '# notes\n');
		const image = path.join(root, 'red-star.png');
		const imageBytes = await fs.readFile(image);
		for (const [target, why] of [
			[classes, /is the classes file/],
			[notes, /notes\.md exists and is not a tags file/],
			[image, /red-star\.png is an image/],
		] as const) {
			const res = await clip(['index', root, '--index', index, '--labels', classes, '--tags', target], { env });
			assert.equal(res.code, 1, res.stderr);
			assert.match(res.stderr, why);
			assert.match(res.stderr, /\[WouldOverwrite\]/);
		}
		assert.equal(await fs.readFile(classes, 'utf8'), text);
		assert.equal(await fs.readFile(notes, 'utf8'), '# notes\n');
		assert.deepEqual(await fs.readFile(image), imageBytes);
		const out = await clip(['label', '--classes-file', classes, '--index', index, '--out', classes], { env });
		assert.equal(out.code, 1);
		assert.match(out.stderr, /is the classes file.*\[WouldOverwrite\]/);
		assert.equal(await fs.readFile(classes, 'utf8'), text);
		// A tags file kept elsewhere behind a link: updated through it, the link stays.
		const real = path.join(await tempDir('clip-hostile-tags-'), 'tags.json');
		const link = path.join(root, 'tags-link.json');
		await fs.symlink(real, link);
		const ok = await clip(['label', '--classes-file', classes, '--index', index, '--out', link], { env });
		assert.equal(ok.code, 0, ok.stderr);
		assert.ok((await fs.lstat(link)).isSymbolicLink());
		assert.equal(JSON.parse(await fs.readFile(real, 'utf8')).version, 1);
	});

	it('a folder named like a known model id does not stand in for it: ids resolve to the cache, paths start with ./', async () => {
		const repo = await tempDir('clip-shadow-');
		await fs.cp(tinyModelDir, path.join(repo, 'Xenova', 'clip-vit-base-patch32'), { recursive: true });
		await fs.copyFile(path.join(root, 'red-star.png'), path.join(repo, 'a.png'));
		const shadowed = await clip(['index', '.', '--model', 'Xenova/clip-vit-base-patch32', '--json'], { cwd: repo, env });
		assert.equal(shadowed.code, 1, 'the id is downloaded (here: no network), never read from the folder');
		assert.match(shadowed.stderr, /Cannot download Xenova\/clip-vit-base-patch32/);
		const plain = await clip(['index', '.', '--json'], { cwd: repo, env });
		assert.match(plain.stderr, /Cannot download Xenova\/clip-vit-base-patch32/, 'the default model too');
		const explicit = await clip(['index', '.', '--model', './Xenova/clip-vit-base-patch32', '--index', await tempDir(), '--json'], { cwd: repo, env });
		assert.equal(explicit.code, 0, explicit.stderr);
		const bare = await clip(['embed', '--model', 'some-folder', '--text', 'x'], { cwd: repo, env });
		assert.match(bare.stderr, /Unknown model "some-folder".*given as a path: absolute, or starting with \.\//);
	});

	it('a crafted index graph is reported, not a crash (exit 1, not 139), and index rebuilds it', async () => {
		const dir = await tempDir('clip-hostile-graph-');
		await fs.cp(index, dir, { recursive: true });
		const graph = path.join(dir, (await fs.readdir(dir)).find(f => f.endsWith('.hnsw'))!);
		const buf = await fs.readFile(graph);
		buf.writeUInt32LE(0x7fffffff, 96 + 4);
		await fs.writeFile(graph, buf);
		const search = await clip(['search', 'a red star', '--index', dir, '--json'], { env });
		assert.equal(search.code, 1, search.stderr);
		assert.match(search.stderr, /vectors-\d+\.hnsw is damaged or not an index graph.*\[IndexCorrupt\]/);
		const rebuilt = await clip(['index', root, '--index', dir, '--json'], { env });
		assert.equal(rebuilt.code, 0, rebuilt.stderr);
		const again = await clip(['search', 'a red star', '--index', dir, '-k', '1', '--json'], { env });
		assert.equal(again.code, 0, again.stderr);
		assert.equal(JSON.parse(again.stdout).length, 1);
	});

	it('a pathological example glob is answered at once; too many classes are refused with the limit', async () => {
		const name = `${'a'.repeat(44)}.png`;
		await fs.copyFile(path.join(root, 'red-star.png'), path.join(root, name));
		await clip(['index', root, '--index', index, '--json'], { env });
		const classes = path.join(await tempDir(), 'evil.json');
		await fs.writeFile(classes, JSON.stringify({ evil: { prompts: [], examples: ['*a*a*a*a*a*a*a*a*a*a*b.png', 'red-star.png'] }, other: ['a blue shape'], tooLong: { examples: [`*${'x'.repeat(600)}`] } }));
		const res = await clip(['label', '--classes-file', classes, '--index', index, '--json'], { env });
		assert.equal(res.code, 0, res.stderr);
		assert.match(res.stderr, /class "evil", "examples": no indexed image matches \*a\*a/);
		assert.match(res.stderr, /class "tooLong", "examples": the pattern "\*x+…" is longer than 512 characters; it is ignored/);
		const many = path.join(await tempDir(), 'many.json');
		await fs.writeFile(many, JSON.stringify(Object.fromEntries(Array.from({ length: 1600 }, (_, i) => [`c${i}`, { prompts: [], examples: ['red-star.png'] }]))));
		const refused = await clip(['label', '--classes-file', many, '--index', index, '--json'], { env });
		assert.equal(refused.code, 1);
		assert.match(refused.stderr, /1600 classes are more than the 256 a labelling takes.*\[LimitExceeded\]/);
	});
});
