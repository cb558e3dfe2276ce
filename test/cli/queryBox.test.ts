/**
 * Queries that say what they mean (issue 35), through the command line as a person types them: a
 * mistyped filter is named with the filter meant, a unit after a space belongs to its size, an empty
 * filtered answer says why, globs that would empty an index stop first and their vectors are kept,
 * a subfolder updates its parent's index, and the help and JSON say what the README says.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { copyFixtureImages, fixturesDir, tempDir, tinyModelDir } from '../helpers';
import { cli, clip } from './runCli';

describe('the query box on the command line (issue 35)', { skip: existsSync(cli) ? false : `needs ${cli}: run npm run build` }, () => {
	let root: string;
	let env: Record<string, string>;
	const run = (args: string[], cwd = root) => clip(args, { cwd, env });
	const json = <T>(stdout: string): T => JSON.parse(stdout) as T;
	before(async () => {
		root = await tempDir('clip-query-box-');
		await copyFixtureImages(root);
		env = { CLIP_SEARCH_CACHE: await tempDir('clip-query-box-cache-') };
		const r = await run(['index', '.', '--model', tinyModelDir]);
		assert.equal(r.code, 0, r.stderr);
		await fs.mkdir(path.join(root, '.vscode'));
		await fs.writeFile(path.join(root, '.vscode', 'image-tags.json'), JSON.stringify({ version: 1, model: 'x', classes: ['photo', 'icon'], images: { 'red-circle.png': { label: 'photo', score: 0.9 } } }));
	});

	it('a mistyped filter: searched as words, with the filter meant on stderr; quoted, no note', async () => {
		const r = await run(['search', 'a red circle tpye:png', '--json']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /"tpye:png" is not a filter, so it was searched as words: did you mean type:png\?/);
		const quoted = await run(['search', 'a red circle "tpye:png"', '--json']);
		assert.doesNotMatch(quoted.stderr, /did you mean/);
		const alias = await run(['search', 'a red circle ext:jpg', '--json']);
		assert.match(alias.stderr, /"ext:jpg" was read as type:jpg/);
		assert.deepEqual(json<{ path: string }[]>(alias.stdout).map(h => h.path), ['copies/red-circle-copy.jpg']);
	});

	it('larger:2 KB takes its unit; dates and pixels as people type them', async () => {
		const spaced = await run(['search', 'a red circle larger:1 KB', '-k', '40', '--json']);
		const joined = await run(['search', 'a red circle larger:1KB', '-k', '40', '--json']);
		assert.equal(spaced.code, 0, spaced.stderr);
		assert.deepEqual(json<{ path: string }[]>(spaced.stdout), json<{ path: string }[]>(joined.stdout));
		for (const q of ['after:today', 'after:2020', 'after:2020-06', 'before:2999/01/01', 'wider:10px', 'wider:0.01k']) {
			const r = await run(['search', `a red circle ${q}`, '--json']);
			assert.equal(r.code, 0, `${q}: ${r.stderr}`);
		}
	});

	it('an empty filtered answer says what each filter let through and the near miss', async () => {
		const r = await run(['search', 'a red circle tag:photos', '--json']);
		assert.equal(r.code, 0, r.stderr);
		assert.deepEqual(json<unknown[]>(r.stdout), []);
		assert.match(r.stderr, /tag:photos lets 0 of 32 through \(did you mean tag:photo\? 1 image\)/);
		const gif = await run(['search', 'a red circle type:gif', '--json']);
		assert.match(gif.stderr, /type:gif lets 0 of 32 through \(here: png 31, jpeg 1\)/);
	});

	it('--sort name is by path; --sort modifed suggests modified', async () => {
		const r = await run(['search', 'a red shape', '--sort', 'name', '--min-score', '-1', '-k', '40', '--json']);
		const paths = json<{ path: string }[]>(r.stdout).map(h => h.path);
		assert.deepEqual(paths, [...paths].sort((a, b) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' })));
		const typo = await run(['search', 'a red shape', '--sort', 'modifed']);
		assert.equal(typo.code, 2);
		assert.match(typo.stderr, /did you mean --sort modified\?/);
	});

	it('why shows each term with its sign and weight; cat -dog subtracts', async () => {
		const r = await run(['search', '2*"red" - "circle"', '-k', '1']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /2×"red" -?[\d.]+, −"circle" -?[\d.]+/);
		const dash = await run(['search', 'red -circle', '-k', '3', '--json']);
		const minus = await run(['search', 'red - circle', '-k', '3', '--json']);
		assert.deepEqual(json<{ path: string }[]>(dash.stdout).map(h => h.path), json<{ path: string }[]>(minus.stdout).map(h => h.path));
	});

	it('similar --json has the fields search --json has', async () => {
		const r = await run(['similar', './red-circle.png', '-k', '2', '--json']);
		assert.equal(r.code, 0, r.stderr);
		const [hit] = json<{ path: string; mtimeMs?: number; size?: number; why?: { cosine: number; duplicateOf?: string } }[]>(r.stdout);
		assert.equal(hit.path, 'copies/red-circle-copy.jpg');
		assert.ok(typeof hit.mtimeMs === 'number' && typeof hit.size === 'number' && typeof hit.why?.cosine === 'number', JSON.stringify(hit));
	});

	it('globs that would drop most of the index stop first; --force applies them; back again embeds nothing', async () => {
		const own = await tempDir('clip-query-box-globs-');
		await copyFixtureImages(own);
		await run(['index', '.', '--model', tinyModelDir], own);
		const refused = await run(['index', '.', '--include', '*.jpg'], own);
		assert.equal(refused.code, 1);
		assert.match(refused.stderr, /would leave 0 of the 32 indexed images and remove 32; nothing was changed\. A pattern without "\/" matches the top folder only: for any depth write --include '\*\*\/\*\.jpg'/);
		const stats = json<{ indexed: number }>((await run(['stats', '--json'], own)).stdout);
		assert.equal(stats.indexed, 32, 'nothing changed');
		const forced = json<{ removed: number }>((await run(['index', '.', '--include', '*.jpg', '--force', '--json'], own)).stdout);
		assert.equal(forced.removed, 32);
		const back = json<{ embedded: number; reused: number }>((await run(['index', '.', '--include', '', '--force', '--json'], own)).stdout);
		assert.equal(back.embedded, 0, 'the vectors were kept');
		assert.equal(back.reused, 32);
	});

	it('index . in a subfolder updates the parent\'s index for it; --scope . there is that subfolder', async () => {
		const own = await tempDir('clip-query-box-sub-');
		await copyFixtureImages(own);
		await run(['index', '.', '--model', tinyModelDir], own);
		const sub = path.join(own, 'copies');
		await fs.copyFile(path.join(own, 'blue-star.png'), path.join(sub, 'blue-star-copy.png'));
		const r = await run(['index', '.', '--json'], sub);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /is inside the indexed folder .*: updating its index for copies\/ only/);
		const out = json<{ scanned: number; embedded: number; reused: number }>(r.stdout);
		assert.equal(out.scanned, 3, 'the subfolder only');
		assert.equal(out.embedded + out.reused, 1);
		assert.ok(!existsSync(path.join(sub, '.clip-search-index')));
		const dups = json<{ paths: string[] }[]>((await run(['duplicates', '--scope', '.', '--json'], sub)).stdout);
		assert.ok(dups.every(g => g.paths.every(p => p.startsWith('copies/'))), JSON.stringify(dups));
		const whole = json<{ paths: string[] }[]>((await run(['duplicates', '--json'], sub)).stdout);
		assert.ok(whole.some(g => g.paths.some(p => !p.startsWith('copies/'))), 'without a scope: the whole index');
	});

	it('help and messages name what they mean: duplicates --threshold, --model paths, an Immich part folder', async () => {
		assert.match((await run(['duplicates', '--help'])).stdout, /--threshold T\s+the cosine from which two images count as duplicates/);
		assert.match((await run(['search', '--help'])).stdout, /starting with \.\/, \.\.\/ or ~\//);
		const part = await run(['embed', '--text', 'a cat', '--model', path.join(fixturesDir, 'tiny-immich-clip', 'visual')]);
		assert.equal(part.code, 1);
		assert.match(part.stderr, /is the visual part of the Immich model folder .*tiny-immich-clip: give that folder/);
		const models = (await run(['models'])).stdout;
		assert.match(models, /Xenova\/clip-vit-base-patch32 \(default\)\s+quantized/);
		assert.match(models, /immich-app\/ViT-B-32__openai: The model Immich installs by default/);
	});
});
