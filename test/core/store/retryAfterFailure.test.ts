import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryAfterFailure } from '../../../src/core/store/retryAfterFailure';

describe('trying a team store again after a failure', () => {
	it('small runs skip the store for the wait after a failure, full runs always try, a success clears it', () => {
		let now = 1_000_000;
		const retry = new RetryAfterFailure(300_000, () => now);
		assert.equal(retry.shouldTry(false), true, 'nothing failed yet');
		retry.failed();
		assert.equal(retry.shouldTry(false), false);
		assert.equal(retry.shouldTry(true), true, 'a full run tries anyway');
		now += 299_999;
		assert.equal(retry.shouldTry(false), false);
		now += 1;
		assert.equal(retry.shouldTry(false), true, 'the wait is over');
		retry.failed();
		retry.succeeded();
		assert.equal(retry.shouldTry(false), true);
	});
});
