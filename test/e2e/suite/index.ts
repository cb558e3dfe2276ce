/**
 * @file End-to-end tests, run inside a real VS Code (code-server's extension host) by
 * test/e2e/run.sh through VS Code's extensionTestsPath contract: run() resolves when every test
 * passed. The workspace holds the fixture images and points clipSearch.model at the tiny model.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

interface Test {
	name: string;
	fn: () => Promise<void>;
}

const tests: Test[] = [];
const test = (name: string, fn: () => Promise<void>): void => {
	tests.push({ name, fn });
};

const ws = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

interface FolderState {
	folder: string;
	state: string;
	result?: { scanned: number; embedded: number; reused: number; removed: number; failed: { path: string }[] };
	error?: string;
}

async function settled(predicate: (s: FolderState) => boolean, timeoutMs = 120_000): Promise<FolderState> {
	const deadline = Date.now() + timeoutMs;
	let last: FolderState | undefined;
	while (Date.now() < deadline) {
		[last] = await vscode.commands.executeCommand<FolderState[]>('clipSearch.waitForIndex');
		if (last && predicate(last)) {
			return last;
		}
		await sleep(300);
	}
	throw new Error(`indexing did not settle: ${JSON.stringify(last)}`);
}

async function searchTop(query: string): Promise<string[]> {
	const items = await vscode.commands.executeCommand<{ label: string; hit: { rel: string } }[]>('clipSearch.search', query);
	await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
	return items.map(i => i.hit.rel);
}

test('activates and indexes the workspace in the background', async () => {
	const ext = vscode.extensions.all.find(e => e.id.toLowerCase() === 'clip-image-search.clip-image-search');
	assert.ok(ext, 'the extension is installed');
	await ext.activate();
	const s = await settled(x => x.state === 'ready');
	assert.equal(s.result?.scanned, 32);
	assert.deepEqual(s.result?.failed, []);
});

test('Search Images shows the expected image first', async () => {
	const top = await searchTop('a photo of a yellow triangle');
	assert.equal(top[0], 'yellow-triangle.png');
	const scoped = await vscode.commands.executeCommand<{ hit: { rel: string } }[]>('clipSearch.search', 'red circle', vscode.Uri.file(path.join(ws(), 'copies')));
	await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
	assert.ok(scoped.length > 0 && scoped.every(i => i.hit.rel.startsWith('copies/')));
});

test('Show Results in Panel opens a webview with the results', async () => {
	const hits = await vscode.commands.executeCommand<{ rel: string }[]>('clipSearch.showResultsPanel', 'a photo of a blue star');
	assert.equal(hits[0].rel, 'blue-star.png');
	let tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs);
	for (let i = 0; i < 50 && !tabs.some(t => t.label === 'Images: a photo of a blue star'); i++) {
		await sleep(100); // the tab model reaches the extension host a moment later
		tabs = vscode.window.tabGroups.all.flatMap(g => g.tabs);
	}
	assert.ok(
		tabs.some(t => t.label === 'Images: a photo of a blue star'),
		`a results tab is open (tabs: ${tabs.map(t => t.label).join(', ')})`,
	);
});

test('Find Similar Images finds the near copy', async () => {
	const hits = await vscode.commands.executeCommand<{ rel: string }[]>('clipSearch.findSimilar', vscode.Uri.file(path.join(ws(), 'red-circle.png')));
	await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
	assert.equal(hits[0].rel, 'copies/red-circle-copy.jpg');
	assert.ok(!hits.some(h => h.rel === 'red-circle.png'));
});

test('Label Images writes the tags file from .vscode/image-labels.json', async () => {
	await fs.mkdir(path.join(ws(), '.vscode'), { recursive: true });
	await fs.writeFile(path.join(ws(), '.vscode', 'image-labels.json'), JSON.stringify(['red', 'green', 'blue', 'yellow', 'purple', 'orange']));
	const out = await vscode.commands.executeCommand<{ tagsFile: string; labels: { path: string; label: string }[] }>('clipSearch.labelImages');
	assert.equal(out.labels.length, 32);
	const tags = JSON.parse(await fs.readFile(path.join(ws(), '.vscode', 'image-tags.json'), 'utf8')) as { images: Record<string, { label: string }> };
	assert.equal(tags.images['red-star.png'].label, 'red');
	assert.equal(tags.images['copies/green-triangle-big.png'].label, 'green');
	const right = Object.entries(tags.images).filter(([p, t]) => path.basename(p).startsWith(t.label)).length;
	assert.ok(right >= 30, `${right} of 32 labelled with their colour`);
});

test('Find Duplicates groups the near copies and deletes nothing', async () => {
	const all = await vscode.commands.executeCommand<{ groups: { paths: string[] }[] }[]>('clipSearch.findDuplicates');
	const groups = all.flatMap(d => d.groups);
	assert.ok(groups.some(g => g.paths.includes('red-circle.png') && g.paths.includes('copies/red-circle-copy.jpg')));
	await fs.access(path.join(ws(), 'copies', 'red-circle-copy.jpg'));
});

test('the watcher indexes added images and forgets deleted ones', async () => {
	await fs.mkdir(path.join(ws(), 'added'), { recursive: true });
	await fs.copyFile(path.join(ws(), 'purple-cross.png'), path.join(ws(), 'added', 'another-purple-cross.png'));
	const deadline = Date.now() + 30_000;
	let top: string[] = [];
	while (Date.now() < deadline) {
		await settled(s => s.state === 'ready');
		top = await searchTop('purple cross');
		if (top.includes('added/another-purple-cross.png')) {
			break;
		}
		await sleep(500);
	}
	assert.ok(top.includes('added/another-purple-cross.png'), `added file found: ${top.slice(0, 3).join(', ')}`);
	await fs.rm(path.join(ws(), 'added'), { recursive: true });
	const until = Date.now() + 30_000;
	while (Date.now() < until) {
		await settled(s => s.state === 'ready');
		top = await searchTop('purple cross');
		if (!top.includes('added/another-purple-cross.png')) {
			break;
		}
		await sleep(500);
	}
	assert.ok(!top.includes('added/another-purple-cross.png'), 'deleted file is gone from the results');
});

test('Pause and Resume Indexing', async () => {
	await vscode.commands.executeCommand('clipSearch.pauseIndexing');
	let [s] = await vscode.commands.executeCommand<FolderState[]>('clipSearch.waitForIndex');
	assert.equal(s.state, 'paused');
	await vscode.commands.executeCommand('clipSearch.resumeIndexing');
	s = await settled(x => x.state === 'ready');
	assert.equal(s.state, 'ready');
});

test('Show Index Status reports files, model and provider', async () => {
	const statuses = await vscode.commands.executeCommand<{ status: { files: number; provider: string; model: string; failed: unknown[] } }[]>('clipSearch.showStatus');
	assert.equal(statuses[0].status.files, 32);
	assert.equal(statuses[0].status.provider, 'cpu');
	assert.match(statuses[0].status.model, /tiny-clip/);
	await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
});

test('Rebuild Index embeds everything again', async () => {
	await vscode.commands.executeCommand('clipSearch.rebuildIndex');
	const s = await settled(x => x.state === 'ready' && (x.result?.embedded ?? 0) > 0);
	assert.equal(s.result?.embedded, 32);
});

export async function run(): Promise<void> {
	const results = { passed: 0, failed: 0, failures: [] as { title: string; error: string }[] };
	for (const t of tests) {
		const started = Date.now();
		try {
			await t.fn();
			results.passed++;
			console.log(`  ✓ ${t.name} (${Date.now() - started} ms)`);
		} catch (err) {
			results.failed++;
			results.failures.push({ title: t.name, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
			console.log(`  ✗ ${t.name}: ${err instanceof Error ? err.message : String(err)}`);
		}
	}
	const out = process.env.CLIP_E2E_RESULTS;
	if (out) {
		await fs.writeFile(out, JSON.stringify(results, null, 2));
	}
	console.log(`${results.passed} passed, ${results.failed} failed`);
	if (results.failed) {
		throw new Error(`${results.failed} end-to-end test(s) failed`);
	}
}
