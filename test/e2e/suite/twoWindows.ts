/**
 * @file End-to-end pass 3: a second window. run.sh opens a plain first window on the workspace,
 * waits until it has committed its index, then opens this window (the tests) on the same folder.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, eventually, searchTop, settled, states, test, withForeignLock, ws } from './common';

export { run } from './common';

test('a second window embeds nothing: it uses the index the first window built', async () => {
	await activateExtension();
	const [s] = await settled(x => x.state === 'ready', { timeoutMs: 120_000 });
	assert.equal(s.result?.embedded, 0, `nothing embedded again: ${JSON.stringify(s.result)}`);
	assert.equal(s.summary?.files, 32);
	assert.equal((await searchTop('a photo of a blue star'))[0], 'blue-star.png');
});

test('the second window finds an image that the first window indexes after it opened', async () => {
	// This window stops indexing, so only the first window can add the new image to the index.
	await vscode.commands.executeCommand('clipSearch.pauseIndexing');
	const [before] = await states();
	await fs.mkdir(path.join(ws(), 'later'), { recursive: true });
	await fs.copyFile(path.join(ws(), 'green-star.png'), path.join(ws(), 'later', 'green-star-later.png'));
	await eventually('the first window commits the new image and this one reads it', async () => (await searchTop('green star')).includes('later/green-star-later.png'), 60_000);
	const [after] = await states();
	assert.equal(after.result, before.result, 'this window ran no index meanwhile');
	assert.equal(after.state, 'paused');
	await vscode.commands.executeCommand('clipSearch.resumeIndexing');
	await settled(x => x.state === 'ready');
});

test('while another process writes the index, this window says who and keeps searching', async () => {
	const [before] = await states();
	await withForeignLock(before.indexDir, async holder => {
		await vscode.commands.executeCommand('clipSearch.pauseIndexing');
		await vscode.commands.executeCommand('clipSearch.resumeIndexing'); // a walk now meets the lock
		const [s] = await settled(x => x.state === 'busyElsewhere', { timeoutMs: 30_000 });
		assert.equal(s.holder?.pid, holder.pid);
		assert.match(s.statusBar, new RegExp(`clip-search \\(pid ${holder.pid}\\) is indexing`));
		assert.equal((await searchTop('a photo of a blue star'))[0], 'blue-star.png');
	});
});
