/**
 * `clip-search index <root> --labels classes.json --tags tags.json`: tags that stay current, taught
 * by prompts and by examples; and the classes file's bad input, each named with its file and key.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import { cli, clip } from './runCli';

/** The tests' environment wins over the process's: the cache stays in a temporary folder. */
const clipIn = (args: string[], env: NodeJS.ProcessEnv) => clip(args, { env });

describe('clip-search index --labels --tags (auto-tagging)', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let index: string;
	let work: string;
	let env: NodeJS.ProcessEnv;
	before(async () => {
		root = await tempDir('clip-tag-root-');
		await copyFixtureImages(root);
		index = await tempDir('clip-tag-index-');
		work = await tempDir('clip-tag-work-');
		env = { CLIP_SEARCH_CACHE: await tempDir('clip-tag-cache-') };
	});
	const indexWith = (classes: string, tags: string) => clipIn(['index', root, '--model', tinyModelDir, '--index', index, '--provider', 'cpu', '--labels', classes, '--tags', tags, '--json'], env);
	const readTags = async (file: string) => JSON.parse(await fs.readFile(file, 'utf8')) as { key: string; images: Record<string, { label: string | null; score: number }> };

	it('tags every image, then rewrites nothing when nothing changed, and only the new image after one is added', async () => {
		const classes = path.join(work, 'colours.json');
		const tags = path.join(work, 'tags.json');
		await fs.writeFile(classes, JSON.stringify({ red: { prompts: ['a red shape'] }, blue: ['a blue shape'], green: {}, other: { prompts: ['a yellow shape', 'a purple shape', 'an orange shape'] } }, null, 2));
		const first = await indexWith(classes, tags);
		assert.equal(first.code, 0, first.stderr);
		const t1 = await readTags(tags);
		assert.equal(Object.keys(t1.images).length, 32);
		assert.equal(t1.images['red-star.png'].label, 'red');
		assert.equal(t1.images['blue-circle.png'].label, 'blue');
		const stamp = (await fs.stat(tags)).mtimeMs;
		const second = JSON.parse((await indexWith(classes, tags)).stdout) as { embedded: number; tags: { written: boolean } };
		assert.equal(second.embedded, 0);
		assert.equal(second.tags.written, false);
		assert.equal((await fs.stat(tags)).mtimeMs, stamp, 'the tags file is not rewritten');
		await fs.copyFile(path.join(root, 'blue-star.png'), path.join(root, 'another-blue-star.png'));
		const third = JSON.parse((await indexWith(classes, tags)).stdout) as { tags: { written: boolean; full: boolean; labelled: number } };
		assert.deepEqual({ written: third.tags.written, full: third.tags.full, labelled: third.tags.labelled }, { written: true, full: false, labelled: 1 });
		assert.equal((await readTags(tags)).images['another-blue-star.png'].label, 'blue');
		await fs.rm(path.join(root, 'another-blue-star.png'));
		const fourth = JSON.parse((await indexWith(classes, tags)).stdout) as { tags: { dropped: number } };
		assert.equal(fourth.tags.dropped, 1);
		assert.equal((await readTags(tags)).images['another-blue-star.png'], undefined);
	});

	it('classes taught by examples only; a changed classes file re-tags everything; missing examples are named', async () => {
		const classes = path.join(work, 'warm.json');
		const tags = path.join(work, 'warm-tags.json');
		await fs.writeFile(
			classes,
			JSON.stringify({
				warm: { prompts: [], examples: ['red-*.png', 'orange-circle.png', 'yellow-star.png', 'not-there.png'] },
				cool: { prompts: [], examples: ['blue-*.png', 'green-square.png', 'purple-cross.png', '../outside.png'] },
			}),
		);
		const res = await indexWith(classes, tags);
		assert.equal(res.code, 0, res.stderr);
		assert.match(res.stderr, /class "warm", "examples": no indexed image matches not-there\.png/);
		assert.match(res.stderr, /class "cool", "examples": \.\.\/outside\.png is outside the indexed folder/);
		const t = await readTags(tags);
		const right = Object.entries(t.images).filter(([p, v]) => (/^(red|orange|yellow)-/.test(p) ? v.label === 'warm' : /^(blue|green|purple)-/.test(p) ? v.label === 'cool' : true));
		// 14 of the 32 are examples (their tags are the person's word); the other 18 are orange, yellow,
		// green and purple shapes the examples barely show. Held out, the examples favour the prototypes
		// here (log-likelihood −0.33 against the probe's −0.46), which tag 13 of those 18 right.
		assert.ok(right.length >= 26, `${right.length} of ${Object.keys(t.images).length} right`);
		const key = t.key;
		await fs.writeFile(classes, JSON.stringify({ warm: { prompts: [], examples: ['red-*.png', 'orange-*.png', 'yellow-*.png'] }, cool: { prompts: [], examples: ['blue-*.png', 'green-*.png', 'purple-*.png'] } }));
		const again = JSON.parse((await indexWith(classes, tags)).stdout) as { tags: { full: boolean } };
		assert.equal(again.tags.full, true);
		assert.notEqual((await readTags(tags)).key, key);
	});

	it('a classes file with invalid JSON, an unknown key or an empty class: a clear error naming the file and key; the tags stay', async () => {
		const tags = path.join(work, 'keep-tags.json');
		await fs.writeFile(tags, '{"version":1,"images":{}}\n');
		const cases: [string, RegExp, string][] = [
			['{"red": ["a red shape"],', /bad\.json is not valid JSON/, 'ClassesInvalid'],
			[`{"red": ${'['.repeat(100_000)}`, /bad\.json: lists and objects nest more than 32 deep/, 'ClassesInvalid'],
			['{"red": {"prompt": ["typo"]}, "blue": []}', /bad\.json: class "red" has an unknown key "prompt" \(known keys: prompts, examples, negatives, threshold\)/, 'InvalidArgument'],
			['{"red": {"prompts": [], "examples": []}, "blue": ["x"]}', /bad\.json: class "red" is empty/, 'InvalidArgument'],
			['{"red": {"threshold": 2}, "blue": ["x"]}', /class "red", "threshold", must be a number from 0 to 1/, 'InvalidArgument'],
		];
		for (const [text, message, code] of cases) {
			const file = path.join(work, 'bad.json');
			await fs.writeFile(file, text);
			const res = await indexWith(file, tags);
			assert.equal(res.code, 1, text);
			assert.match(res.stderr, message);
			assert.ok(res.stderr.includes(`[${code}]`), res.stderr);
			assert.equal(await fs.readFile(tags, 'utf8'), '{"version":1,"images":{}}\n', 'the tags file is untouched');
		}
	});
});
