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
});
