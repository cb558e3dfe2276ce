/**
 * @file End-to-end pass 4: a multi-root workspace (two folders) whose clipSearch.model names a model
 * folder that does not exist yet. One offer for both folders; once the setting points at a model,
 * both are indexed.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, searchTop, settled, test } from './common';

export { run } from './common';

test('no model: one offer for both folders, and both wait as "model needed"', async () => {
	await activateExtension();
	const all = await settled(x => x.state === 'needsModel', { all: true, timeoutMs: 60_000 });
	assert.equal(all.length, 2);
	assert.equal(all[0].modelOffers, 1, 'one offer, not one per folder');
	assert.match(all[0].statusBar, /model needed/);
	await vscode.commands.executeCommand('workbench.action.closeNotifications').then(undefined, () => undefined);
});

test('once the model is set, both folders are indexed', async () => {
	const model = process.env.CLIP_E2E_MODEL;
	assert.ok(model, 'run.sh names the model folder');
	await vscode.workspace.getConfiguration('clipSearch').update('model', model, vscode.ConfigurationTarget.Workspace);
	const all = await settled(x => x.state === 'ready', { all: true, timeoutMs: 120_000 });
	assert.deepEqual(
		all.map(s => s.summary?.files),
		[15, 17],
	);
	assert.equal(all[0].modelOffers, 1, 'no second offer');
	const top = await searchTop('a photo of a yellow triangle');
	assert.equal(top[0], 'yellow-triangle.png');
});
