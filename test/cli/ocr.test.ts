/**
 * `clip-search ocr` and `index --ocr`: text recognised per content hash beside the vectors, and
 * search that finds images by the words they show — with the tiny CLIP, which knows none of them.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { textImages } from '../textImages';
import { cli, clip } from './runCli';

describe('clip-search ocr, index --ocr and text search', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let index: string;
	let env: NodeJS.ProcessEnv;
	const set: { rel: string; words: string[] }[] = [];
	before(async () => {
		root = await tempDir('clip-ocr-root-');
		index = await tempDir('clip-ocr-index-');
		env = { CLIP_SEARCH_CACHE: await tempDir('clip-ocr-cache-') };
		await copyFixtureImages(root);
		await fs.mkdir(path.join(root, 'shots'));
		for (const img of await textImages(20, 17)) {
			await fs.writeFile(path.join(root, 'shots', img.name), img.bytes);
			set.push({ rel: `shots/${img.name}`, words: img.words });
		}
	});
	const run = (args: string[]) => clip(args, { env });

	it('ocr <image> --json prints the lines with their scores and boxes', async () => {
		const res = await run(['ocr', path.join(root, set[0].rel), '--json']);
		assert.equal(res.code, 0, res.stderr);
		const out = JSON.parse(res.stdout) as { lines: { text: string; score: number; box: number[][] }[] };
		assert.ok(out.lines.length >= 1);
		assert.equal(out.lines[0].box.length, 4);
		assert.ok(out.lines.every(l => l.score >= 0.5));
		const words = out.lines.flatMap(l => l.text.toLowerCase().split(/\s+/));
		assert.ok(set[0].words.every(w => words.includes(w)), `${JSON.stringify(set[0].words)} in ${JSON.stringify(out.lines)}`);
	});

	it('an index made without --ocr gains text later without embedding again, and keeps it in a run without --ocr', async () => {
		const first = JSON.parse((await run(['index', root, '--model', tinyModelDir, '--index', index, '--provider', 'cpu', '--json'])).stdout) as { embedded: number };
		assert.ok(first.embedded > 40);
		const withText = await run(['index', root, '--index', index, '--provider', 'cpu', '--ocr', '--json']);
		assert.equal(withText.code, 0, withText.stderr);
		const r = JSON.parse(withText.stdout) as { embedded: number; text: { read: number; withText: number } };
		assert.equal(r.embedded, 0, 'nothing embedded again');
		assert.ok(r.text.withText >= 20, `text found in ${r.text.withText} images`);
		await fs.copyFile(path.join(root, set[1].rel), path.join(root, 'shots', 'renamed-copy.png'));
		const again = JSON.parse((await run(['index', root, '--index', index, '--provider', 'cpu', '--ocr', '--json'])).stdout) as { text: { read: number } };
		assert.equal(again.text.read, 0, 'a copy of a read image costs nothing');
		await run(['index', root, '--index', index, '--provider', 'cpu', '--json']);
		const hits = JSON.parse((await run(['search', `text:${set[2].words.slice(-1)[0]}`, '--index', index, '--json'])).stdout) as { path: string; text?: string }[];
		assert.ok(hits.length > 0 && hits.every(h => h.text), 'the text is still there after a run without --ocr');
	});

	it('finds an image by the words it shows (recall@1 ≥ 0.95), and says which line matched', async () => {
		let right = 0;
		const misses: string[] = [];
		for (const img of set) {
			// The longest run of words in the image (a message, a caption, a title).
			const query = img.words.slice(0, Math.min(3, img.words.length)).join(' ');
			const hits = JSON.parse((await run(['search', query, '--index', index, '-k', '3', '--json'])).stdout) as { path: string; score: number; text?: string }[];
			const best = hits[0];
			// Several images may show the same words: right when the best hit shows them all.
			const ok = best?.text !== undefined && (best.path === img.rel || set.find(s => s.rel === best.path)?.words.join(' ').includes(query));
			if (ok) {
				right++;
			} else {
				misses.push(`${query} → ${JSON.stringify(hits.slice(0, 2))}`);
			}
		}
		console.log(`  text query recall@1: ${right}/${set.length}${misses.length ? `\n  ${misses.join('\n  ')}` : ''}`);
		assert.ok(right / set.length >= 0.95, `recall@1 ${right}/${set.length}`);
		const quoted = JSON.parse((await run(['search', `"${set[4].words[0]}"`, '--index', index, '--json'])).stdout) as { path: string; text?: string }[];
		assert.ok(quoted.length > 0 && quoted.every(h => h.text && h.path.startsWith('shots/')), 'a quoted query searches the text only');
	});

	it('reading text changes nothing for queries about what images show: shape recall with --ocr equals recall without (issue 35, item 2)', async () => {
		const plain = await tempDir('clip-ocr-plain-');
		const made = await run(['index', root, '--model', tinyModelDir, '--index', plain, '--provider', 'cpu', '--json']);
		assert.equal(made.code, 0, made.stderr);
		const queries = ['a frog', 'red car', 'a photo of the sky', 'a photo of a red circle', 'a blue star', 'green square', 'a photo of a yellow triangle', 'an orange cross', 'a purple shape'];
		for (const q of queries) {
			const withText = JSON.parse((await run(['search', q, '--index', index, '-k', '5', '--json'])).stdout) as { path: string; text?: string }[];
			const without = JSON.parse((await run(['search', q, '--index', plain, '-k', '5', '--json'])).stdout) as { path: string }[];
			assert.deepEqual(withText.map(h => h.path), without.map(h => h.path), q);
			assert.ok(withText.every(h => h.text === undefined), `${q}: no text match promoted (${JSON.stringify(withText.filter(h => h.text))})`);
		}
	});
});
