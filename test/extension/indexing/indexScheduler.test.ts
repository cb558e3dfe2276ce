import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexScheduler, type RunOutcome, type Work } from '../../../src/extension/indexing/indexScheduler';
import { FakeClock, flushPromises } from '../../fakeClock';

/** A run hook whose runs the test finishes by hand, recording what each was asked to do. */
function harness(options: { canRun?: () => boolean } = {}) {
	const clock = new FakeClock();
	const runs: { root: string; work: Work; finish: (o: RunOutcome) => void }[] = [];
	const scheduler = new IndexScheduler(
		(root, work) => new Promise<RunOutcome>(resolve => runs.push({ root, work, finish: resolve })),
		options.canRun ?? (() => true),
		clock,
		30_000,
	);
	return { clock, runs, scheduler };
}

describe('IndexScheduler (when each folder is indexed)', () => {
	it('runs a walk at once, and merges paths asked for during it into one run after it', async () => {
		const { runs, scheduler } = harness();
		scheduler.requestFull('/a');
		assert.equal(runs.length, 1);
		assert.deepEqual(runs[0].work, { full: true, rebuild: false, paths: [] });
		scheduler.requestPaths('/a', ['x.png']);
		scheduler.requestPaths('/a', ['y.png', 'x.png']);
		assert.equal(runs.length, 1, 'one run per folder at a time');
		runs[0].finish('done');
		await flushPromises();
		assert.equal(runs.length, 2);
		assert.deepEqual(runs[1].work, { full: false, rebuild: false, paths: ['x.png', 'y.png'] });
		runs[1].finish('done');
		await scheduler.idle();
		assert.equal(runs.length, 2, 'nothing left to do');
	});

	it('lets a walk absorb pending paths, and keeps folders independent', async () => {
		const { runs, scheduler } = harness();
		scheduler.requestPaths('/a', ['1.png']);
		scheduler.requestPaths('/b', ['2.png']);
		assert.deepEqual(
			runs.map(r => r.root),
			['/a', '/b'],
		);
		scheduler.requestPaths('/a', ['3.png']);
		scheduler.requestFull('/a');
		runs[0].finish('done');
		await flushPromises();
		assert.deepEqual(runs[2].work, { full: true, rebuild: false, paths: [] });
	});

	it('retries after 30 s when another process holds the lock, keeping the work', async () => {
		const { clock, runs, scheduler } = harness();
		scheduler.requestPaths('/a', ['new.png']);
		runs[0].finish('busy');
		await flushPromises();
		assert.equal(runs.length, 1);
		assert.ok(scheduler.isWaitingForRetry('/a'));
		scheduler.requestPaths('/a', ['other.png']);
		assert.equal(runs.length, 2, 'new work does not wait for the retry timer');
		runs[1].finish('busy');
		await flushPromises();
		clock.advance(29_999);
		assert.equal(runs.length, 2);
		clock.advance(1);
		assert.equal(runs.length, 3);
		assert.deepEqual(runs[2].work.paths, ['new.png', 'other.png']);
		assert.equal(clock.pending, 0, 'one retry timer per folder, spent');
	});

	it('keeps work while a folder may not run (paused), and runs it on kick', async () => {
		let paused = true;
		const { runs, scheduler } = harness({ canRun: () => !paused });
		scheduler.requestPaths('/a', ['x.png']);
		assert.equal(runs.length, 0);
		paused = false;
		scheduler.kickAll();
		assert.equal(runs.length, 1);
		assert.deepEqual(runs[0].work.paths, ['x.png']);
	});

	it('puts a cancelled run back, and runs it again only when the folder may run', async () => {
		let paused = false;
		const { runs, scheduler } = harness({ canRun: () => !paused });
		scheduler.requestFull('/a');
		paused = true;
		runs[0].finish('cancelled');
		await flushPromises();
		assert.equal(runs.length, 1);
		assert.ok(scheduler.hasWork('/a'));
		paused = false;
		scheduler.kick('/a');
		assert.equal(runs.length, 2);
		assert.equal(runs[1].work.full, true);
	});

	it('runs a rebuild after the run it cancelled', async () => {
		const { runs, scheduler } = harness();
		scheduler.requestFull('/a');
		scheduler.requestFull('/a', { rebuild: true });
		runs[0].finish('cancelled');
		await flushPromises();
		assert.equal(runs.length, 2);
		assert.deepEqual(runs[1].work, { full: true, rebuild: true, paths: [] });
	});

	it('waits for a kick after a blocked run (no model yet), and drops the work of a failed one', async () => {
		const { runs, scheduler } = harness();
		scheduler.requestFull('/a');
		runs[0].finish('blocked');
		await flushPromises();
		assert.equal(runs.length, 1);
		scheduler.kickAll();
		assert.equal(runs.length, 2);
		runs[1].finish('failed');
		await flushPromises();
		assert.equal(scheduler.hasWork('/a'), false);
	});

	it('dispose cancels retry timers and runs nothing more', async () => {
		const { clock, runs, scheduler } = harness();
		scheduler.requestFull('/a');
		runs[0].finish('busy');
		await flushPromises();
		assert.equal(clock.pending, 1);
		scheduler.dispose();
		assert.equal(clock.pending, 0);
		scheduler.requestFull('/a');
		clock.advance(60_000);
		assert.equal(runs.length, 1);
	});
});
