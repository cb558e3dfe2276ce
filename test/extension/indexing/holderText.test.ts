import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeHolderShort } from '../../../src/extension/indexing/holderText';

describe('describeHolderShort (status bar text for a lock held elsewhere)', () => {
	it('names another window, or the CLI with its pid', () => {
		assert.equal(describeHolderShort({ pid: 7, host: 'h', since: 's', purpose: 'VS Code: indexing /ws' }), 'CLIP: another window is indexing');
		assert.equal(describeHolderShort({ pid: 4242, host: 'h', since: 's', purpose: 'clip-search index /ws' }), 'CLIP: clip-search (pid 4242) is indexing');
	});
});
