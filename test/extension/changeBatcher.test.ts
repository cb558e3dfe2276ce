import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeBatcher, type ChangeKind } from '../../src/extension/changeBatcher';
import { isRelevantChange } from '../../src/extension/watchFilter';

const wait = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe('ChangeBatcher (watcher batching)', () => {
	it('delivers a burst of events once, after they stop', async () => {
		const batches: Map<string, ChangeKind>[] = [];
		const b = new ChangeBatcher(c => batches.push(c), 40);
		for (let i = 0; i < 100; i++) {
			b.add(`f${i % 10}.png`, 'change');
		}
		await wait(20);
		assert.equal(batches.length, 0);
		await wait(60);
		assert.equal(batches.length, 1);
		assert.equal(batches[0].size, 10);
		b.dispose();
	});

	it('folds create+delete away and delete+create into a change (a rename back and forth)', async () => {
		const batches: Map<string, ChangeKind>[] = [];
		const b = new ChangeBatcher(c => batches.push(c), 10);
		b.add('tmp.png', 'create');
		b.add('tmp.png', 'delete');
		b.add('a.png', 'delete');
		b.add('a.png', 'create');
		b.add('new.png', 'create');
		b.add('new.png', 'change');
		await wait(40);
		assert.deepEqual([...batches[0]].sort(), [
			['a.png', 'change'],
			['new.png', 'create'],
		]);
		b.dispose();
	});

	it('does not let a steady stream postpone the batch past maxDelay', async () => {
		const batches: Map<string, ChangeKind>[] = [];
		const b = new ChangeBatcher(c => batches.push(c), 30, 80);
		const started = Date.now();
		while (Date.now() - started < 200) {
			b.add(`f${Date.now()}.png`, 'create');
			await wait(10);
		}
		assert.ok(batches.length >= 2, `${batches.length} batches during a 200 ms stream`);
		b.dispose();
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
	});
});
