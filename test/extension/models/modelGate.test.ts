import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelGate, type ModelState } from '../../../src/extension/models/modelGate';
import { flushPromises } from '../../fakeClock';

function gate(initial: ModelState) {
	let state = initial;
	let answer: (download: boolean) => void = () => undefined;
	const calls = { offers: 0, downloads: 0, ready: 0 };
	const g = new ModelGate({
		status: async () => state,
		offer: () => {
			calls.offers++;
			return new Promise<boolean>(resolve => (answer = resolve));
		},
		download: async () => {
			calls.downloads++;
			state = { ...state, needsDownload: false };
			return true;
		},
		onReady: () => calls.ready++,
	});
	return { g, calls, answer: (d: boolean) => answer(d), setState: (s: ModelState) => (state = s) };
}

const missing: ModelState = { id: 'Xenova/clip-vit-base-patch32', needsDownload: true, downloadBytes: 156e6 };

describe('ModelGate (the one model offer for all folders)', () => {
	it('is ready at once when the model is there, with no offer', async () => {
		const { g, calls } = gate({ ...missing, needsDownload: false });
		assert.equal(await g.ready(), true);
		assert.equal(calls.offers, 0);
	});

	it('makes one offer for many folders, answers them without waiting, and schedules all after the download', async () => {
		const { g, calls, answer } = gate(missing);
		const answers = await Promise.all([g.ready(), g.ready(), g.ready()]);
		assert.deepEqual(answers, [false, false, false], 'no folder waits on the notification');
		assert.equal(calls.offers, 1);
		answer(true);
		await g.settled();
		assert.equal(calls.downloads, 1);
		assert.equal(calls.ready, 1, 'onReady schedules every folder once');
		assert.equal(await g.ready(), true);
		assert.equal(g.offers, 1);
	});

	it('once declined, asks no more until the model setting changes', async () => {
		const { g, calls, answer } = gate(missing);
		await g.ready();
		answer(false);
		await g.settled();
		assert.equal(await g.ready(), false);
		assert.equal(await g.ready(), false);
		assert.equal(calls.offers, 1);
		assert.equal(calls.ready, 0);
		g.reset();
		await g.ready();
		assert.equal(calls.offers, 2);
	});

	it('makes one offer for a local model folder that is missing, and is ready once the setting points at a good one', async () => {
		const { g, calls, answer, setState } = gate({ id: '/models/none', needsDownload: false, downloadBytes: 0, localMissing: 'Model folder not found: /models/none.' });
		assert.equal(await g.ready(), false);
		assert.equal(await g.ready(), false);
		assert.equal(calls.offers, 1);
		answer(false);
		await flushPromises();
		setState({ id: '/models/tiny', needsDownload: false, downloadBytes: 0 });
		g.reset();
		assert.equal(await g.ready(), true);
		assert.equal(calls.offers, 1);
	});

	it('ignores the answer to an offer made for a model setting that has changed since', async () => {
		const { g, calls, answer } = gate(missing);
		await g.ready();
		g.reset();
		answer(true);
		await flushPromises();
		assert.equal(calls.ready, 0, 'the answer was about the previous model');
	});
});
