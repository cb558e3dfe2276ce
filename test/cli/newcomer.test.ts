/**
 * The product as a newcomer meets it (issue 27): one query means one thing, and every first mistake
 * gets an answer rather than a silent "No matching images.". Each test is one of the items,
 * through the CLI a person types.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { textImages } from '../textImages';
import { cli, clip } from './runCli';

interface Hit {
	path: string;
	score: number;
	text?: string;
	textScore?: number;
}

describe('clip-search as a newcomer meets it', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let env: NodeJS.ProcessEnv;
	before(async () => {
		root = await tempDir('clip-newcomer-');
		await copyFixtureImages(root);
		await fs.mkdir(path.join(root, 'docs', 'deep'), { recursive: true });
		env = { CLIP_SEARCH_CACHE: await tempDir('clip-newcomer-cache-'), HF_ENDPOINT: 'http://127.0.0.1:9' };
		const res = await clip(['index', '.', '--model', tinyModelDir, '--json'], { cwd: root, env });
		assert.equal(res.code, 0, res.stderr);
	});

	it('a quoted phrase on an index without text reading is searched by meaning, with a note; stats says text was not read', async () => {
		for (const q of ['"red circle"', 'text:red circle']) {
			const res = await clip(['search', q, '--json'], { cwd: root, env });
			assert.equal(res.code, 0, res.stderr);
			assert.ok((JSON.parse(res.stdout) as Hit[]).length > 0, `${q}: hits, not "No matching images."`);
			assert.match(res.stderr, /text inside the images was not read for this index, so the quoted words were searched by what the images show.*index \. --ocr/);
		}
		assert.match((await clip(['stats'], { cwd: root, env })).stdout, /Text: +not read \(index --ocr reads the text inside images\)/);
		assert.equal((JSON.parse((await clip(['stats', '--json'], { cwd: root, env })).stdout) as { textRead: number }).textRead, 0);
	});

	it('"." is the whole folder as a scope; a scope that does not exist is an error naming it', async () => {
		const all = (JSON.parse((await clip(['search', 'red', '-k', '100', '--json'], { cwd: root, env })).stdout) as Hit[]).length;
		for (const scope of ['.', './', root]) {
			const res = await clip(['search', 'red', '-k', '100', '--scope', scope, '--json'], { cwd: root, env });
			assert.equal(res.code, 0, res.stderr);
			assert.equal((JSON.parse(res.stdout) as Hit[]).length, all, scope);
		}
		const copies = JSON.parse((await clip(['search', 'red', '--scope', './copies/', '--json'], { cwd: root, env })).stdout) as Hit[];
		assert.ok(copies.length > 0 && copies.every(h => h.path.startsWith('copies/')));
		const missing = await clip(['search', 'red', '--scope', 'nope'], { cwd: root, env });
		assert.equal(missing.code, 1);
		assert.match(missing.stderr, /--scope nope: no such folder in .*\[InvalidArgument\]/);
	});

	it('from a subfolder the nearest index above is used; from above, the error names the indexes below', async () => {
		const fromBelow = await clip(['search', 'a red circle', '-k', '1', '--json'], { cwd: path.join(root, 'docs', 'deep'), env });
		assert.equal(fromBelow.code, 0, fromBelow.stderr);
		assert.equal((JSON.parse(fromBelow.stdout) as Hit[]).length, 1);
		const fromAbove = await clip(['search', 'a red circle'], { cwd: path.dirname(root), env });
		assert.equal(fromAbove.code, 1);
		assert.match(fromAbove.stderr, new RegExp(`No index for .* or a folder above it; there is one below it: ${path.basename(root)}\\. Run the command in that folder.*\\[IndexNotFound\\]`));
	});

	it('an empty folder indexed is an index: an empty answer, exit 0', async () => {
		const empty = await tempDir('clip-empty-');
		assert.equal((await clip(['index', '.', '--model', tinyModelDir], { cwd: empty, env })).code, 0);
		const res = await clip(['search', 'anything', '--json'], { cwd: empty, env });
		assert.equal(res.code, 0, res.stderr);
		assert.deepEqual(JSON.parse(res.stdout), []);
	});

	it('a moved model folder: the advice names --model, every command that encodes takes it, and index embeds nothing again', async () => {
		const dir = await tempDir('clip-moved-');
		const images = path.join(dir, 'imgs');
		await copyFixtureImages(images);
		const copy = path.join(dir, 'modelcopy');
		await fs.cp(tinyModelDir, copy, { recursive: true });
		assert.equal((await clip(['index', '.', '--model', copy], { cwd: images, env })).code, 0);
		const moved = path.join(dir, 'modelmoved');
		await fs.rename(copy, moved);
		const lost = await clip(['search', 'red'], { cwd: images, env });
		assert.equal(lost.code, 1);
		assert.match(lost.stderr, /model folder this index was made with is gone .*give its new place with --model <folder>/);
		for (const args of [['search', 'red'], ['similar', './red-circle.png'], ['label', '--classes', 'red,blue']]) {
			const res = await clip([...args, '--model', moved, '--json'], { cwd: images, env });
			assert.equal(res.code, 0, `${args[0]}: ${res.stderr}`);
		}
		const other = path.join(dir, 'other');
		await fs.cp(moved, other, { recursive: true });
		await fs.writeFile(path.join(other, 'config.json'), (await fs.readFile(path.join(other, 'config.json'), 'utf8')).replace('{', '{"_note": "changed",'));
		const mismatch = await clip(['search', 'red', '--model', other], { cwd: images, env });
		assert.equal(mismatch.code, 1);
		assert.match(mismatch.stderr, /another model.*\[ModelMismatch\]/);
		const reindexed = await clip(['index', '.', '--model', moved, '--json'], { cwd: images, env });
		assert.equal(reindexed.code, 0, reindexed.stderr);
		assert.equal((JSON.parse(reindexed.stdout) as { embedded: number }).embedded, 0, 'the same files are the same model');
		assert.equal((await clip(['search', 'red'], { cwd: images, env })).code, 0, 'the index now names the new place');
	});

	it('Ctrl-C while reading text stops like Ctrl-C while embedding: "Stopped", exit 130, and the next run reads only the rest', async () => {
		const dir = await tempDir('clip-ctrlc-');
		for (const img of await textImages(24, 7)) {
			await fs.writeFile(path.join(dir, img.name), img.bytes);
		}
		const first = await new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve => {
			const child = spawn(process.execPath, [cli, 'index', '.', '--model', tinyModelDir, '--ocr'], { cwd: dir, env: { ...process.env, ...env, CLIP_SEARCH_VERBOSE: '1' } });
			let stdout = '';
			let stderr = '';
			let sent = false;
			child.stdout.on('data', d => (stdout += d));
			child.stderr.on('data', d => {
				stderr += d;
				if (!sent && /text: reading \d+ image/.test(stderr)) {
					sent = true;
					setTimeout(() => child.kill('SIGINT'), 300);
				}
			});
			child.on('exit', code => resolve({ code, stdout, stderr }));
		});
		assert.equal(first.code, 130, first.stderr.slice(-500));
		const read = Number(/Stopped while reading text: (\d+) image\(s\) read and saved/.exec(first.stdout)?.[1] ?? NaN);
		assert.ok(Number.isFinite(read) && read < 24, first.stdout);
		assert.match(first.stderr, /stopping after the image in hand; what is done is saved/);
		const second = await clip(['index', '.', '--ocr', '--json'], { cwd: dir, env });
		assert.equal(second.code, 0, second.stderr);
		assert.equal((JSON.parse(second.stdout) as { text: { read: number } }).text.read, 24 - read, 'nothing read twice');
	});

	it('scores are cosines on every surface: with text reading, a text match keeps its cosine as score and gives its match apart', async () => {
		const dir = await tempDir('clip-scores-');
		await copyFixtureImages(dir);
		const [img] = await textImages(1, 21);
		await fs.writeFile(path.join(dir, img.name), img.bytes);
		assert.equal((await clip(['index', '.', '--model', tinyModelDir, '--ocr'], { cwd: dir, env })).code, 0);
		const hits = JSON.parse((await clip(['search', img.words.join(' '), '-k', '10', '--json'], { cwd: dir, env })).stdout) as Hit[];
		assert.equal(hits[0].path, img.name, 'the image whose text matches comes first');
		assert.ok(hits[0].text && hits[0].textScore! > 0 && hits[0].textScore! <= 1);
		assert.ok(hits.every(h => h.score >= -1 && h.score <= 1), JSON.stringify(hits));
		const over = await clip(['search', 'red', '--min-score', '1.5'], { cwd: dir, env });
		assert.equal(over.code, 2);
		assert.match(over.stderr, /--min-score must be a number from -1 to 1/);
	});

	it('unknown options and commands suggest the nearest', async () => {
		const opt = await clip(['search', 'red', '--kk', '3'], { cwd: root, env });
		assert.equal(opt.code, 2);
		assert.match(opt.stderr, /^clip-search search: unknown option --kk \(did you mean -k\?\)\.\n/);
		assert.match((await clip(['search', 'red', '--min-scor', '0.1'], { cwd: root, env })).stderr, /did you mean --min-score\?/);
		assert.match((await clip(['serch', 'red'], { cwd: root, env })).stderr, /unknown command "serch" \(did you mean search\?\)/);
		assert.doesNotMatch((await clip(['search', 'red', '--zzzzzzzz'], { cwd: root, env })).stderr, /did you mean/, 'nothing near: no guess');
	});

	it('clip-search duplicates: groups, a threshold and a scope, JSON or a table', async () => {
		const res = await clip(['duplicates', '--json'], { cwd: root, env });
		assert.equal(res.code, 0, res.stderr);
		const groups = JSON.parse(res.stdout) as { paths: string[]; score: number }[];
		assert.ok(groups.some(g => g.paths.includes('red-circle.png') && g.paths.includes('copies/red-circle-copy.jpg')), res.stdout);
		assert.deepEqual(JSON.parse((await clip(['duplicates', '--scope', 'copies', '--json'], { cwd: root, env })).stdout), [], 'no group inside copies/ alone');
		assert.match((await clip(['duplicates'], { cwd: root, env })).stdout, /^group\s+score\s+uses\s+path\n1\s+/);
		assert.equal((await clip(['duplicates', '--threshold', '0.2'], { cwd: root, env })).code, 2);
	});

	it('--provider webgpu where it cannot start: one line of ours, nothing of the GPU library', { skip: process.platform === 'linux' ? false : 'Vulkan loader paths are Linux here' }, async () => {
		const res = await clip(['search', 'red', '--provider', 'webgpu', '--json'], { cwd: root, env: { ...env, VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' } });
		assert.equal(res.code, 0, res.stderr);
		assert.ok((JSON.parse(res.stdout) as Hit[]).length > 0);
		const lines = res.stderr.trim().split('\n');
		assert.equal(lines.length, 1, res.stderr);
		assert.match(lines[0], /^clip-search: webgpu did not start \(.*\) → cpu$/);
	});
});
