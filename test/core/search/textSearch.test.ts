import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexStore, type ModelStamp } from '../../../src/core/index/indexStore';
import { searchText } from '../../../src/core/search/textSearch';
import { l2normalize } from '../../../src/core/common/vectors';
import { tempDir } from '../../helpers';

const stamp: ModelStamp = { key: 'm@r#fp32', id: 'm', revision: 'r', variant: 'fp32', dim: 4 };

describe('searchText (recognised text, MiniSearch)', () => {
	it('follows the text as it changes (added, changed, gone) and tolerates OCR slips', async () => {
		const store = IndexStore.create(await tempDir(), '/root', stamp);
		const add = (rel: string, hash: string, lines: string[]): void => {
			store.addEmbedding(hash, l2normalize(Float32Array.from([1, hash.length, 2, 3])));
			store.setFile(rel, { size: 1, mtimeMs: 1, hash });
			store.setText(hash, lines);
		};
		add('a.png', 'ha', ['Login failed', 'Retry']);
		assert.deepEqual(searchText(store, 'login failed').map(h => h.hash), ['ha']);
		add('b.png', 'hbb', ['Payment gatewy unavailable']); // one letter lost by OCR
		assert.deepEqual(searchText(store, 'payment gateway').map(h => h.hash), ['hbb'], 'fuzzy match');
		add('c.png', 'hccc', ['loginfailed']); // spaces lost by OCR
		assert.deepEqual(searchText(store, 'login failed').map(h => h.hash).sort(), ['ha', 'hccc']);
		store.setText('ha', ['Welcome back']);
		assert.deepEqual(searchText(store, 'login failed').map(h => h.hash), ['hccc'], 'changed text is searched as it is now');
		assert.equal(searchText(store, 'welcome')[0]?.line, 'Welcome back');
		store.removeFile('c.png');
		assert.deepEqual(searchText(store, 'login failed'), [], 'text of an image no file shows is gone');
	});

	it('text earns its place: whole words, no stopwords, no fragments of longer words (issue 35, item 2)', async () => {
		const store = IndexStore.create(await tempDir(), '/root', stamp);
		const texts: Record<string, string[]> = {
			h1: ['Foryourirfommation'],
			h2: ['such an undertaking'],
			h3: ['adp'],
			h4: ['add to cart'],
			h5: ['Abc'],
			h6: ['2 dead frogs'],
			h7: ['a view of the harbour'],
			h8: ['Error:', 'loginfailed', 'retry'],
			h9: ['shared cart'],
		};
		Object.entries(texts).forEach(([hash, lines], i) => {
			store.addEmbedding(hash, l2normalize(Float32Array.from([1, i + 1, 2, 3])));
			store.setFile(`${hash}.png`, { size: 1, mtimeMs: 1, hash });
			store.setText(hash, lines);
		});
		const found = (q: string, partial = true): string[] => searchText(store, q, 10, { partial }).map(h => h.hash);
		assert.deepEqual(found('a frog'), ['h6'], 'a plural is the same word; "a" matches nothing');
		assert.deepEqual(found('red car'), [], '"car" is not a fragment of "cart", nor "red" of "shared"');
		assert.deepEqual(found('a photo of the sky'), [], '"of the" is asked nothing of');
		assert.deepEqual(found('login failed'), ['h8'], 'the words run together by OCR, after "Error:"');
		const cart = searchText(store, 'add to cart', 10, { partial: true });
		assert.equal(cart[0].hash, 'h4');
		assert.equal(cart[0].coverage, 1);
		assert.ok(cart.slice(1).every(h => h.coverage < 1), 'only "add to cart" holds both words');
	});
});
