import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gate } from '../../../src/core/common/concurrency';
import { flushPromises } from '../../fakeClock';

describe('Gate (decoding waits while inference takes every core)', () => {
	it('lets work through while open, holds it while shut, and releases every waiter on open', async () => {
		const gate = new Gate();
		await gate.pass(); // open: no wait
		gate.close();
		const passed: number[] = [];
		void gate.pass().then(() => passed.push(1));
		void gate.pass().then(() => passed.push(2));
		await flushPromises();
		assert.deepEqual(passed, []);
		gate.open();
		await flushPromises();
		assert.deepEqual(passed, [1, 2]);
	});
});
