import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClipEncoder } from '../../../src/core/model/runtime/encoder';
import { ClipError } from '../../../src/core/common/errors';
import { indexFolder } from '../../../src/core/index/indexer';
import type { IndexStore } from '../../../src/core/index/indexStore';
import { openIndexForWriting } from '../../../src/core/index/indexSession';
import { parseClasses, tagsFileContent, Labeler } from '../../../src/core/labels/labeler';
import { loadModelSpec } from '../../../src/core/model/layouts/loadModelSpec';
import { parseQuery } from '../../../src/core/search/query';
import { search, similar } from '../../../src/core/search/search';
import { COLOURS, copyFixtureImages, SHAPES, tempDir, tinyModelDir } from '../../helpers';

describe('parseQuery', () => {
	it('reads one plain text term, keeping hyphenated words', () => {
		assert.deepEqual(parseQuery('a close-up of a t-shirt'), [{ kind: 'text', value: 'a close-up of a t-shirt', weight: 1 }]);
	});
	it('reads signed, weighted text and image terms', () => {
		assert.deepEqual(parseQuery('"beach" + ./ref.png - "people"'), [
			{ kind: 'text', value: 'beach', weight: 1 },
			{ kind: 'image', value: './ref.png', weight: 1 },
			{ kind: 'text', value: 'people', weight: -1 },
		]);
		assert.deepEqual(parseQuery('2*"sunset" + 0.5*red boat -"people"'), [
			{ kind: 'text', value: 'sunset', weight: 2 },
			{ kind: 'text', value: 'red boat', weight: 0.5 },
			{ kind: 'text', value: 'people', weight: -1 },
		]);
		assert.deepEqual(parseQuery('icons/bell.svg'), [{ kind: 'image', value: 'icons/bell.svg', weight: 1 }]);
	});
	it('reads -word after a term as subtraction, as "cat - dog" (issue 35, item 10)', () => {
		const subtracted = [
			{ kind: 'text', value: 'cat', weight: 1 },
			{ kind: 'text', value: 'dog', weight: -1 },
		];
		assert.deepEqual(parseQuery('cat -dog'), subtracted);
		assert.deepEqual(parseQuery('cat - dog'), subtracted);
		assert.deepEqual(parseQuery('sunset +boat'), [
			{ kind: 'text', value: 'sunset', weight: 1 },
			{ kind: 'text', value: 'boat', weight: 1 },
		]);
		assert.deepEqual(parseQuery('a t-shirt -logo'), [
			{ kind: 'text', value: 'a t-shirt', weight: 1 },
			{ kind: 'text', value: 'logo', weight: -1 },
		]);
	});
	it('refuses empty, negative-only and unclosed queries', () => {
		assert.throws(() => parseQuery('   '), (e: unknown) => ClipError.is(e, 'InvalidQuery'));
		assert.throws(() => parseQuery('- "cats"'), (e: unknown) => ClipError.is(e, 'InvalidQuery'));
		assert.throws(() => parseQuery('"cats'), (e: unknown) => ClipError.is(e, 'InvalidQuery'));
	});
});

describe('search and labelling on the tiny model (held-out fixture images)', () => {
	let root: string;
	let store: IndexStore;
	let encoder: ClipEncoder;

	before(async () => {
		root = await tempDir('clip-search-');
		await copyFixtureImages(root);
		const spec = await loadModelSpec(tinyModelDir);
		encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 2 });
		store = await openIndexForWriting(await tempDir('clip-index-'), root, spec);
		await indexFolder(store, encoder);
	});
	after(() => encoder.dispose());

	it('finds the right image first for colour + shape queries (recall@1)', async t => {
		let hits = 0;
		let total = 0;
		const misses: string[] = [];
		for (const colour of COLOURS) {
			for (const shape of SHAPES) {
				const [top] = await search(store, encoder, `a photo of a ${colour} ${shape}`, { k: 3, scope: '' });
				total++;
				// The near copies in copies/ show the same thing; they count as right too.
				if (top && path.basename(top.path).startsWith(`${colour}-${shape}`)) {
					hits++;
				} else {
					misses.push(`${colour} ${shape} → ${top?.path}`);
				}
			}
		}
		const recall = hits / total;
		t.diagnostic(`text→image recall@1: ${hits}/${total} = ${recall.toFixed(3)}${misses.length ? `; misses: ${misses.join('; ')}` : ''}`);
		assert.ok(recall >= 0.9, `recall@1 ${recall}`);
	});

	it('ranks by cosine, honours k, the minimum score, the relative cut-off and the folder scope', async () => {
		const all = await search(store, encoder, 'red circle', { k: 10 });
		assert.equal(all.length, 10);
		for (let i = 1; i < all.length; i++) {
			assert.ok(all[i - 1].score >= all[i].score);
		}
		assert.ok(all.every(r => r.score <= 1.0001 && r.score >= -1.0001));
		const strict = await search(store, encoder, 'red circle', { k: 10, minScore: all[2].score });
		assert.equal(strict.length, 3);
		const near = await search(store, encoder, 'red circle', { k: 10, relativeCutoff: all[0].score - all[1].score });
		assert.equal(near.length, 2);
		const scoped = await search(store, encoder, 'red circle', { k: 5, scope: 'copies' });
		assert.ok(scoped.length > 0 && scoped.every(r => r.path.startsWith('copies/')));
	});

	it('combines positive and negative terms', async () => {
		const [top] = await search(store, encoder, '"red circle" - "red" + "blue"', { k: 1 });
		assert.equal(top.path, 'blue-circle.png');
	});

	it('finds near copies of an image, leaving the query image out', async () => {
		const results = await similar(store, encoder, path.join(root, 'red-circle.png'), { k: 3 });
		assert.ok(!results.some(r => r.path === 'red-circle.png'));
		assert.equal(results[0].path, 'copies/red-circle-copy.jpg');
		assert.ok(results[0].score > 0.95, `copy scores ${results[0].score}`);
		const big = await similar(store, encoder, path.join(root, 'green-triangle.png'), { k: 1 });
		assert.equal(big[0].path, 'copies/green-triangle-big.png');
		// An image from outside the root works too (decoded and embedded on the fly).
		const outside = await tempDir();
		await fs.copyFile(path.join(root, 'yellow-star.png'), path.join(outside, 'q.png'));
		await fs.appendFile(path.join(outside, 'q.png'), Buffer.from([0])); // other bytes, same picture
		const [fromOutside] = await similar(store, encoder, path.join(outside, 'q.png'), { k: 1 });
		assert.equal(fromOutside.path, 'yellow-star.png');
	});

	it('labels colour and shape zero-shot above the stated accuracy', async t => {
		const colourLabeler = await Labeler.create(encoder, parseClasses(COLOURS.join(',')));
		const shapeLabeler = await Labeler.create(encoder, parseClasses(SHAPES.join(',')));
		const colours = colourLabeler.labelIndex(store).filter(l => !l.path.startsWith('copies/'));
		const shapes = shapeLabeler.labelIndex(store).filter(l => !l.path.startsWith('copies/'));
		assert.equal(colours.length, 30);
		const colourAcc = colours.filter(l => l.path.startsWith(`${l.label}-`)).length / colours.length;
		const shapeAcc = shapes.filter(l => l.path.endsWith(`-${l.label}.png`)).length / shapes.length;
		t.diagnostic(`zero-shot accuracy: colour ${colourAcc.toFixed(3)}, shape ${shapeAcc.toFixed(3)} (30 images)`);
		assert.ok(colourAcc >= 0.9, `colour accuracy ${colourAcc}`);
		assert.ok(shapeAcc >= 0.8, `shape accuracy ${shapeAcc}`);
		for (const l of colours) {
			const sum = Object.values(l.scores).reduce((a, b) => a + b, 0);
			assert.ok(Math.abs(sum - 1) < 1e-6, 'probabilities sum to 1');
		}
	});

	it('says "none of these" under the threshold, honours per-class thresholds, and keeps every class above it in multi-label mode', async () => {
		const labeler = await Labeler.create(encoder, parseClasses('circle,square'));
		const free = labeler.labelIndex(store);
		assert.ok(free.every(l => l.label !== null), 'threshold 0: always the best class');
		const weakest = Math.min(...free.map(l => l.score));
		const strict = labeler.labelIndex(store, { threshold: weakest + 1e-9 });
		assert.ok(strict.some(l => l.label === null) && strict.some(l => l.label !== null));
		const noCircles = await Labeler.create(encoder, [{ name: 'circle', threshold: 1.01 }, { name: 'square' }]);
		assert.ok(noCircles.labelIndex(store).every(l => l.label !== 'circle'));
		const multi = labeler.labelIndex(store, { multi: true, threshold: 0 });
		assert.ok(multi.every(l => l.labels?.length === 2));
		const multiDefault = labeler.labelIndex(store, { multi: true });
		assert.ok(multiDefault.every(l => (l.labels ?? []).every(c => l.scores[c] >= 0.5)));
	});

	it('writes a stable, sorted, diff-friendly tags file', async () => {
		const classes = parseClasses('red,blue,green');
		const labeler = await Labeler.create(encoder, classes);
		const labels = labeler.labelIndex(store);
		const a = tagsFileContent(labels, { model: store.model.key, classes });
		const b = tagsFileContent([...labels].reverse(), { model: store.model.key, classes });
		assert.equal(a, b);
		const parsed = JSON.parse(a) as { images: Record<string, { label: string; score: number }> };
		const keys = Object.keys(parsed.images);
		assert.deepEqual(keys, [...keys].sort());
		assert.equal(parsed.images['red-star.png'].label, 'red');
	});

	it('reads classes from lists and from JSON with prompts and thresholds', () => {
		assert.deepEqual(parseClasses(' cat, dog ,icon'), [{ name: 'cat' }, { name: 'dog' }, { name: 'icon' }]);
		assert.deepEqual(parseClasses({ cat: ['a photo of a cat'], dog: { prompts: ['a dog'], threshold: 0.5 } }), [
			{ name: 'cat', prompts: ['a photo of a cat'] },
			{ name: 'dog', prompts: ['a dog'], threshold: 0.5 },
		]);
		assert.throws(() => parseClasses('cat'), (e: unknown) => ClipError.is(e, 'InvalidArgument'));
	});
});
