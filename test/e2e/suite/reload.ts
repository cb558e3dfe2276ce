/**
 * @file End-to-end pass 2: the profile of pass 1 opened again (a reload, or the next day), with
 * clipSearch.indexing.enabled turned off in the workspace settings and one image added while the
 * window was closed. Search, tags and status must work from what pass 1 committed.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, eventually, searchTop, settled, states, test, ws } from './common';

export { run } from './common';

test('after a reload, search answers from the committed index, with no index run in this window', async () => {
	await activateExtension();
	// Asked at once: the answer can only come from the index pass 1 committed.
	const top = await searchTop('a photo of a yellow triangle');
	assert.equal(top[0], 'yellow-triangle.png');
	const [s] = await states();
	assert.equal(s.result, undefined, 'this window has not indexed anything');
	assert.equal(s.state, 'disabled');
});

test('after a reload, the Image Tags view and the Explorer badges show the saved tags', async () => {
	const api = await activateExtension();
	await eventually('the tags file is read', async () => api.tags.tags.size >= 30);
	const red = api.tags.tags.get(path.join(ws(), 'red-star.png'));
	assert.equal(red?.label, 'red');
	assert.equal(api.tags.tags.get(path.join(ws(), 'copies', 'green-triangle-big.png'))?.label, 'green');
});

test('with indexing off, nothing is scanned or embedded, and the status bar says so with the indexed count', async () => {
	const [s] = await settled(x => x.summary?.files === 32);
	assert.equal(s.state, 'disabled');
	assert.match(s.statusBar, /indexing off · 32 images/);
	const top = await searchTop('a photo of an orange circle');
	assert.ok(!top.includes('while-closed/orange-circle-copy.png'), 'the image added while closed is not indexed');
	const dup = await vscode.commands.executeCommand<{ groups: { paths: string[] }[] }[]>('clipSearch.findDuplicates');
	assert.ok(
		dup.flatMap(d => d.groups).some(g => g.paths.includes('red-circle.png')),
		'Find Duplicates works over the existing index',
	);
});

test('turning indexing on walks the folder and indexes what changed meanwhile', async () => {
	await vscode.workspace.getConfiguration('clipSearch').update('indexing.enabled', true, vscode.ConfigurationTarget.Workspace);
	const [s] = await settled(x => x.state === 'ready' && x.summary?.files === 33, { timeoutMs: 60_000 });
	assert.equal(s.result?.incremental, false, 'a walk, since events were not watched while off');
	assert.equal(s.result?.embedded, 0, 'a copy reuses its vector');
	assert.ok((await searchTop('a photo of an orange circle')).includes('while-closed/orange-circle-copy.png'));
});

test('switching to a SigLIP 2 model folder embeds every image again with it; search, status and tags follow', async () => {
	const config = vscode.workspace.getConfiguration('clipSearch');
	const siglip = path.join(path.dirname(config.get<string>('model')!), 'tiny-siglip2');
	const tagsFile = path.join(ws(), '.vscode', 'image-tags.json');
	const before = JSON.parse(await fs.readFile(tagsFile, 'utf8')) as { key?: string };
	await config.update('model', siglip, vscode.ConfigurationTarget.Workspace);
	// 33 files, 32 distinct contents (while-closed/ holds a byte copy): 32 embedded with the new model.
	const [s] = await settled(x => x.state === 'ready' && (x.result?.embedded ?? 0) === 32, { timeoutMs: 120_000 });
	assert.equal(s.summary?.files, 33);
	const statuses = await vscode.commands.executeCommand<{ status: { model: { key: string; dim: number } } }[]>('clipSearch.showStatus');
	await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
	assert.match(statuses[0].status.model.key, /tiny-siglip2@local-[0-9a-f]{16}#fp32/);
	const top = await searchTop('a photo of a red circle');
	assert.ok(top.length > 0, 'a query is encoded with the SigLIP text tower and answered from the new index');
	// Auto-tag: the model is part of the tags' key, so every image is tagged again, with sigmoid probabilities.
	await eventually('the tags are made again with the new model', async () => {
		const t = JSON.parse(await fs.readFile(tagsFile, 'utf8')) as { key?: string; images: Record<string, unknown> };
		return t.key !== before.key && Object.keys(t.images).length === 33;
	}, 60_000);
});
