/**
 * Filters, sort, `why` and More/Less like this on a real index (the tiny model on the fixture images),
 * and the exact top-k under a filter on an index of thousands of vectors: whatever share of the
 * images passes (0.1 %, 1 %, 10 %, 100 %), the answer is the brute-force top-k among those that pass,
 * by the scan and by the graph (issue 31).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClipError } from '../../../src/core/common/errors';
import { l2normalize as normalize } from '../../../src/core/common/vectors';
import { indexFolder } from '../../../src/core/index/indexer';
import { IndexStore } from '../../../src/core/index/indexStore';
import { openIndexForWriting } from '../../../src/core/index/indexSession';
import { ClipEncoder } from '../../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../../src/core/model/layouts/loadModelSpec';
import { EXACT_SCAN_MAX } from '../../../src/core/search/filteredSearch';
import { parseFilters } from '../../../src/core/search/filters';
import { searchDetailed, searchVector } from '../../../src/core/search/search';
import { copyFixtureImages, tempDir, tinyModelDir } from '../../helpers';

describe('filters, sort and why on the tiny model', () => {
	let root: string;
	let store: IndexStore;
	let encoder: ClipEncoder;

	before(async () => {
		root = await tempDir('clip-filter-');
		await copyFixtureImages(root);
		// One old file, for after:/before: and --sort modified.
		await fs.utimes(path.join(root, 'blue-circle.png'), new Date(2020, 0, 2), new Date(2020, 0, 2));
		const spec = await loadModelSpec(tinyModelDir);
		encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 2 });
		store = await openIndexForWriting(await tempDir('clip-filter-index-'), root, spec);
		await indexFolder(store, encoder);
	});
	after(() => encoder.dispose());

	it('records each image’s format and pixel size while indexing', () => {
		const info = (rel: string) => store.infoOf(store.files.get(rel)!.hash!);
		assert.deepEqual(info('copies/red-circle-copy.jpg')?.format, 'jpeg');
		assert.equal(info('red-circle.png')?.format, 'png');
		assert.deepEqual([info('copies/green-triangle-big.png')?.width, info('copies/green-triangle-big.png')?.height], [218, 168]);
		assert.equal(store.hashesWithoutInfo().length, 0);
	});

	it('an index made before formats were recorded gets them on its next run, nothing embedded again', async () => {
		const spec = encoder.spec;
		const dir = await tempDir('clip-filter-old-');
		const old = await openIndexForWriting(dir, root, spec);
		await indexFolder(old, encoder);
		const catalog = path.join(dir, (await fs.readdir(dir)).find(f => f.startsWith('catalog-'))!);
		const c = JSON.parse(await fs.readFile(catalog, 'utf8')) as { images?: unknown };
		assert.ok(c.images, 'written by this version');
		delete c.images;
		await fs.writeFile(catalog, JSON.stringify(c));
		const before = await IndexStore.load(dir);
		assert.equal(before.hashesWithoutInfo().length, 32, 'an older catalog has none');
		const notes: string[] = [];
		const answer = await searchDetailed(before, encoder, 'a red circle type:jpg', { k: 5, onNote: n => notes.push(n) });
		assert.equal(answer.results.length, 0, 'unknown facts pass no filter');
		assert.match(notes.join(' '), /32 image\(s\) have no recorded format or pixel size yet/);
		const again = await openIndexForWriting(dir, root, spec);
		const result = await indexFolder(again, encoder);
		assert.equal(result.embedded, 0);
		assert.equal(again.hashesWithoutInfo().length, 0);
		assert.deepEqual((await searchDetailed(again, encoder, 'a red circle type:jpg', { k: 5 })).results.map(r => r.path), ['copies/red-circle-copy.jpg']);
	});

	it('type:, wider:, path: and their negations narrow the answer, exactly', async () => {
		const jpg = await searchDetailed(store, encoder, 'a red circle type:jpg', { k: 5 });
		assert.deepEqual(jpg.results.map(r => r.path), ['copies/red-circle-copy.jpg']);
		assert.deepEqual(jpg.filters, [{ filter: 'type:jpg', key: 'type', not: false, formats: ['jpeg'] }]);
		const wide = await searchDetailed(store, encoder, 'a shape wider:200', { k: 5 });
		assert.deepEqual(wide.results.map(r => r.path), ['copies/green-triangle-big.png']);
		const copies = await searchDetailed(store, encoder, 'red circle path:copies/**', { k: 10 });
		assert.ok(copies.results.length === 2 && copies.results.every(r => r.path.startsWith('copies/')));
		const notCopies = await searchDetailed(store, encoder, 'red circle -path:copies', { k: 40 });
		assert.ok(notCopies.results.length === 30 && notCopies.results.every(r => !r.path.startsWith('copies/')));
		const notPng = await searchDetailed(store, encoder, 'red circle -type:png', { k: 40 });
		assert.deepEqual(notPng.results.map(r => r.path), ['copies/red-circle-copy.jpg']);
	});

	it('after:/before: read the modification time (with an injected clock for 7d)', async () => {
		const old = await searchDetailed(store, encoder, 'a circle before:2021-01-01', { k: 5 });
		assert.deepEqual(old.results.map(r => r.path), ['blue-circle.png']);
		const recent = await searchDetailed(store, encoder, 'a blue circle after:30d', { k: 40, now: Date.now() });
		assert.ok(!recent.results.some(r => r.path === 'blue-circle.png') && recent.results.length === 31);
		const never = await searchDetailed(store, encoder, 'a blue circle after:30d', { k: 40, now: new Date(2020, 0, 1).getTime() + 30 * 86_400_000 });
		assert.equal(never.results.length, 32, 'thirty days after 1 Jan 2020, everything is newer than "30 days ago"');
	});

	it('tag: reads the tags the caller gives; has:text says when text was never read', async () => {
		const tagsOf = (rel: string) => (rel.includes('star') ? { labels: ['star'], probability: 0.9 } : rel.includes('circle') ? { labels: ['round'] } : undefined);
		const stars = await searchDetailed(store, encoder, 'something red tag:star', { k: 40, tagsOf });
		assert.ok(stars.results.length > 0 && stars.results.every(r => r.path.includes('star')));
		assert.deepEqual(stars.results[0].why?.tag, { label: 'star', probability: 0.9 });
		const notes: string[] = [];
		const text = await searchDetailed(store, encoder, 'red has:text', { k: 5, onNote: n => notes.push(n) });
		assert.equal(text.results.length, 0);
		assert.match(notes.join(' '), /text inside the images was not read/);
		await assert.rejects(searchDetailed(store, encoder, 'red tag:star', { k: 5 }), (e: unknown) => ClipError.is(e, 'InvalidQuery') && /tags file/.test((e as Error).message));
	});

	it('refuses a query of filters only, naming them', async () => {
		await assert.rejects(searchDetailed(store, encoder, 'type:png wider:10', {}), (e: unknown) => ClipError.is(e, 'InvalidQuery') && /only filters \(type:png wider:10\)/.test((e as Error).message));
	});

	it('sorts the hits above the cut-off by modified time, name or size, and says the cut-off', async () => {
		const byRelevance = await searchDetailed(store, encoder, 'a blue shape', { k: 40 });
		assert.equal(byRelevance.cutoff, undefined, 'relevance needs no cut-off');
		const byDate = await searchDetailed(store, encoder, 'a blue shape', { k: 40, sort: 'modified' });
		assert.ok(byDate.cutoff && /halfway from the typical image/.test(byDate.cutoff.rule));
		assert.ok(byDate.results.length > 0 && byDate.results.length < 32, `the cut-off keeps some: ${byDate.results.length}`);
		assert.ok(byDate.results.every(r => r.score >= byDate.cutoff!.score));
		for (let i = 1; i < byDate.results.length; i++) {
			assert.ok(byDate.results[i - 1].mtimeMs! >= byDate.results[i].mtimeMs!);
		}
		const byName = await searchDetailed(store, encoder, 'a blue shape', { k: 40, sort: 'name', minScore: -1 });
		assert.equal(byName.results.length, 32);
		assert.deepEqual(byName.cutoff, { score: -1, rule: 'min-score' });
		// By the path as printed (issue 35, item 8): copies/… after the top-level files.
		const names = byName.results.map(r => r.path);
		assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' })));
		const bySize = await searchDetailed(store, encoder, 'a blue shape', { k: 40, sort: 'size', minScore: -1 });
		const sizes = bySize.results.map(r => r.size!);
		assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a), 'the largest file first');
		assert.equal(sizes[0], Math.max(...[...store.files.values()].map(e => e.size)));
	});

	it('why: the cosine, each term’s cosine, and a near-duplicate of a higher hit', async () => {
		const { results } = await searchDetailed(store, encoder, '"red circle" + "round"', { k: 3 });
		assert.equal(results[0].why?.cosine, results[0].score);
		assert.deepEqual(results[0].why?.terms?.map(t => t.term), ['"red circle"', '"round"']);
		// The original and its JPEG copy: whichever ranks second is a near-duplicate of the first.
		const pair = results.filter(r => r.path === 'red-circle.png' || r.path === 'copies/red-circle-copy.jpg');
		assert.equal(pair.length, 2);
		assert.equal(pair[0].why?.duplicateOf, undefined);
		assert.equal(pair[1].why?.duplicateOf, pair[0].path);
	});

	it('More/Less like this moves the query by example and leaves the examples out', async () => {
		const star = path.join(root, 'yellow-star.png');
		const plain = await searchDetailed(store, encoder, 'a shape', { k: 5 });
		const liked = await searchDetailed(store, encoder, 'a shape', { k: 40, like: [star], cwd: root });
		assert.ok(!liked.results.some(r => r.path === 'yellow-star.png'));
		// Each hit says how close it is to the liked image; the refined top 5 are closer to it than the plain top 5.
		const toStar = new Map(liked.results.map(r => [r.path, r.why!.terms!.find(t => t.term === 'more like yellow-star.png')!.cosine]));
		const mean = (paths: string[]): number => paths.reduce((a, p) => a + (toStar.get(p) ?? 1), 0) / paths.length;
		assert.ok(
			mean(liked.results.slice(0, 5).map(r => r.path)) > mean(plain.results.map(r => r.path)),
			`towards the star: ${liked.results.slice(0, 5).map(r => r.path)} vs ${plain.results.map(r => r.path)}`,
		);
		const onlyLike = await searchDetailed(store, encoder, '', { k: 2, like: [path.join(root, 'red-circle.png')], cwd: root });
		assert.equal(onlyLike.results[0].path, 'copies/red-circle-copy.jpg');
		const unliked = await searchDetailed(store, encoder, 'a red circle', { k: 40, unlike: [path.join(root, 'red-circle.png')], cwd: root });
		assert.ok(!unliked.results.some(r => r.path === 'red-circle.png'));
	});
});

describe('exact top-k under a filter (thousands of vectors)', () => {
	const N = 6000;
	const DIM = 32;
	let store: IndexStore;

	before(async () => {
		// Clustered unit vectors (as real embeddings are), seeded; each file's size is its number, so
		// larger:/smaller: pass an exact share of the images.
		let seed = 7;
		const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
		const centres = Array.from({ length: 40 }, () => Float32Array.from({ length: DIM }, rnd));
		store = await IndexStore.create(await tempDir('clip-exact-'), '/nowhere', { key: 'test', id: 'test', revision: 'r', variant: 'fp32', dim: DIM });
		for (let i = 0; i < N; i++) {
			const c = centres[i % centres.length];
			const v = normalize(Float32Array.from(c, x => x + 0.35 * rnd()));
			const hash = `h${i}`;
			store.addEmbedding(hash, v);
			store.setFile(`f/${i}.png`, { size: i, mtimeMs: 0, hash });
		}
	});

	const bruteForce = (query: Float32Array, k: number, passes: (i: number) => boolean): string[] => {
		const scored: { path: string; score: number }[] = [];
		for (const { hash, vector } of store.vectors()) {
			const i = Number(hash.slice(1));
			if (passes(i)) {
				let s = 0;
				for (let d = 0; d < DIM; d++) {
					s += query[d] * vector[d];
				}
				scored.push({ path: `f/${i}.png`, score: s });
			}
		}
		return scored
			.sort((a, b) => b.score - a.score)
			.slice(0, k)
			.map(x => x.path);
	};

	for (const [share, filter, passes] of [
		['0.1 %', 'larger:5994', (i: number) => i >= 5994],
		['1 %', 'smaller:60', (i: number) => i < 60],
		['10 %', 'larger:5400', (i: number) => i >= 5400],
		['100 %', 'larger:0', () => true],
	] as const) {
		it(`${share} passing (${filter}): the brute-force top 10 among them, by the scan and by the graph`, () => {
			const { filters } = parseFilters(filter);
			let seed = 99;
			const rnd = (): number => ((seed = (seed * 69069 + 1) % 2 ** 31) / 2 ** 31) * 2 - 1;
			for (let q = 0; q < 20; q++) {
				const query = normalize(Float32Array.from({ length: DIM }, rnd));
				const want = bruteForce(query, 10, passes);
				for (const exactScanMax of [0, N]) {
					const got = searchVector(store, query, { k: 10, exactScanMax, ef: 200 }, filters).map(r => r.path);
					assert.deepEqual(got, want, `${filter}, query ${q}, ${exactScanMax ? 'scan' : 'graph'}`);
				}
				const auto = searchVector(store, query, { k: 10 }, filters).map(r => r.path);
				assert.deepEqual(auto, want, `${filter}, query ${q}, the switch at ${EXACT_SCAN_MAX}`);
			}
		});
	}
});
