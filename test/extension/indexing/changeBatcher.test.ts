import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeBatcher, type ChangeKind } from '../../../src/extension/indexing/changeBatcher';
import { isRelevantChange } from '../../../src/extension/indexing/watchFilter';
import { FakeClock } from '../../fakeClock';


describe('ChangeBatcher (watcher batching)', () => {
	it('delivers a burst of events once, after they stop', () => {
		const clock = new FakeClock();
		const batches: Map<string, ChangeKind>[] = [];
		const b = new ChangeBatcher(c => batches.push(c), 40, 10_000, clock);
		for (let i = 0; i < 100; i++) {
			b.add(`f${i % 10}.png`, 'change');
		}
		clock.advance(39);
		assert.equal(batches.length, 0);
		clock.advance(1);
		assert.equal(batches.length, 1);
		assert.equal(batches[0].size, 10);
		b.dispose();
	});

	it('folds create+delete away and delete+create into a change (a rename back and forth)', () => {
		const clock = new FakeClock();
		const batches: Map<string, ChangeKind>[] = [];
		const b = new ChangeBatcher(c => batches.push(c), 10, 10_000, clock);
		b.add('tmp.png', 'create');
		b.add('tmp.png', 'delete');
		b.add('a.png', 'delete');
		b.add('a.png', 'create');
		b.add('new.png', 'create');
		b.add('new.png', 'change');
		clock.advance(10);
		assert.equal(batches.length, 1);
		assert.deepEqual([...batches[0]].sort(), [
			['a.png', 'change'],
			['new.png', 'create'],
		]);
		b.dispose();
	});

	it('does not let a steady stream postpone the batch past maxDelay', () => {
		const clock = new FakeClock();
		const batches: Map<string, ChangeKind>[] = [];
		const b = new ChangeBatcher(c => batches.push(c), 30, 80, clock);
		// An event every 10 ms for 200 ms: the 30 ms quiet period never comes.
		for (let t = 0; t < 200; t += 10) {
			b.add(`f${t}.png`, 'create');
			clock.advance(10);
		}
		assert.equal(batches.length, 2, 'flushed at 80 ms and 160 ms');
		assert.equal(batches[0].size, 8);
		b.dispose();
		assert.equal(clock.pending, 0, 'dispose cancels the timer');
	});

	it('delivers nothing after dispose', () => {
		const clock = new FakeClock();
		const batches: Map<string, ChangeKind>[] = [];
		const b = new ChangeBatcher(c => batches.push(c), 10, 100, clock);
		b.add('a.png', 'create');
		b.dispose();
		clock.advance(1000);
		assert.equal(batches.length, 0);
	});
});

describe('isRelevantChange (watcher filter)', () => {
	it('passes images and appearing/disappearing folders, not other files or index writes', () => {
		assert.equal(isRelevantChange('/ws/a/b.PNG', 'change'), true);
		assert.equal(isRelevantChange('/ws/assets', 'delete'), true);
		assert.equal(isRelevantChange('/ws/assets', 'change'), false);
		assert.equal(isRelevantChange('/ws/notes.md', 'create'), false);
		assert.equal(isRelevantChange('/ws/node_modules/x/icon.png', 'create'), false);
		assert.equal(isRelevantChange('/ws/.vscode/clip-search-index/manifest.json', 'change'), false);
		assert.equal(isRelevantChange('/ws/.git/objects/ab', 'create'), false);
		assert.equal(isRelevantChange('/cache/indexes/ws-0123/clip-search-index', 'delete'), false);
	});
});
