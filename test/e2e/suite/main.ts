/**
 * @file End-to-end pass 1 (a fresh profile): the extension in a real VS Code (code-server's extension
 * host), over a workspace of the fixture images with the tiny model. run.sh then reloads the same
 * profile for pass 2 (reload.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import * as os from 'node:os';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, eventually, searchTop, settled, sleep, states, test, withForeignLock, ws } from './common';

export { run } from './common';

test('activates and indexes the workspace in the background', async () => {
	await activateExtension();
	const [s] = await settled(x => x.state === 'ready');
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

/** The extension's own clip-search, run in the workspace folder as a terminal would: its stdout. */
function runCli(args: string[]): Promise<string> {
	const ext = vscode.extensions.all.find(e => e.id.toLowerCase() === 'clip-image-search.clip-image-search')!;
	return new Promise<string>((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(ext.extensionPath, 'dist', 'cli.js'), ...args], { cwd: ws() });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', d => (stdout += d));
		child.stderr.on('data', d => (stderr += d));
		child.on('error', reject);
		child.on('close', code => (code === 0 ? resolve(stdout) : reject(new Error(`clip-search exited ${code}: ${stderr}`))));
	});
}

test('a filtered query and a sort in the search box answer as the CLI does (issue 31)', async () => {
	const filtered = await searchTop('a red circle type:jpg');
	assert.deepEqual(filtered, ['copies/red-circle-copy.jpg'], 'type: by content');
	const notCopies = await searchTop('a red circle -path:copies/**');
	assert.ok(notCopies.length > 0 && notCopies.every(p => !p.startsWith('copies/')));
	const byName = await vscode.commands.executeCommand<{ hit: { rel: string; why?: { cosine: number } } }[]>('clipSearch.search', 'a blue shape', undefined, { sort: 'name' });
	await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
	const names = byName.map(i => i.hit.rel);
	assert.ok(names.length > 0);
	assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' })), 'sorted by path');
	assert.ok(byName.every(i => typeof i.hit.why?.cosine === 'number'), 'every hit says why');
	const cli = await runCli(['search', 'a red circle type:jpg', '-k', '10', '--json']);
	assert.deepEqual((JSON.parse(cli) as { path: string }[]).map(h => h.path), filtered, 'the CLI gives the same paths');
});

test('the CLI in a terminal answers from the index the editor built (one index per folder)', async () => {
	const out = await runCli(['search', 'a photo of a yellow triangle', '-k', '3', '--json']);
	const results = JSON.parse(out) as { path: string }[];
	assert.equal(results[0]?.path, 'yellow-triangle.png');
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

interface TagsJson {
	classes: string[];
	images: Record<string, { label: string | null; score: number }>;
}
const tagsFile = (): string => path.join(ws(), '.vscode', 'image-tags.json');
const classesFile = (): string => path.join(ws(), '.vscode', 'image-labels.json');
const readTags = async (): Promise<TagsJson> => JSON.parse(await fs.readFile(tagsFile(), 'utf8').catch(() => '{"classes":[],"images":{}}')) as TagsJson;

test('auto-tag: an image added to a tagged folder gets its tag without any command', async () => {
	await fs.mkdir(path.join(ws(), 'tagged-later'), { recursive: true });
	await fs.copyFile(path.join(ws(), 'blue-square.png'), path.join(ws(), 'tagged-later', 'another-blue-square.png'));
	await eventually('the new image is tagged', async () => (await readTags()).images['tagged-later/another-blue-square.png']?.label === 'blue', 30_000);
	await fs.rm(path.join(ws(), 'tagged-later'), { recursive: true });
	await eventually('the deleted image loses its tag', async () => !(await readTags()).images['tagged-later/another-blue-square.png'], 30_000);
	await settled(x => x.state === 'ready' && x.summary?.files === 32);
});

test('auto-tag: editing the classes file re-tags every image', async () => {
	await fs.writeFile(classesFile(), JSON.stringify(['circle', 'square', 'triangle', 'star', 'cross']));
	await eventually('the tags follow the new classes', async () => {
		const t = await readTags();
		return t.classes.includes('star') && t.images['red-star.png']?.label === 'star' && Object.keys(t.images).length === 32;
	}, 30_000);
	// Back to the colours (pass 2 reads these tags after a reload).
	await fs.writeFile(classesFile(), `// colours\n${JSON.stringify(['red', 'green', 'blue', 'yellow', 'purple', 'orange'])}\n`);
	await eventually('the colour tags are back', async () => (await readTags()).images['red-star.png']?.label === 'red', 30_000);
});

test('Add as Examples of Class and Not This Class: the classes file changes and the tag follows', async () => {
	const api = await activateExtension();
	const image = vscode.Uri.file(path.join(ws(), 'orange-circle.png'));
	const added = await vscode.commands.executeCommand<{ classesFile: string; class: string }>('clipSearch.addExamples', image, [image], 'red');
	assert.equal(added.class, 'red');
	const classes = JSON.parse(await fs.readFile(classesFile(), 'utf8')) as Record<string, { examples?: string[]; negatives?: string[] }>;
	assert.deepEqual(classes.red.examples, ['orange-circle.png']);
	assert.ok('orange' in classes && 'blue' in classes, 'the other classes are kept');
	await eventually('the example is tagged with its class', async () => (await readTags()).images['orange-circle.png']?.label === 'red', 30_000);
	await eventually('the view knows the tag', async () => api.tags.tags.get(image.fsPath)?.label === 'red', 10_000);
	await vscode.commands.executeCommand('clipSearch.notThisClass', image, [image]);
	const after = JSON.parse(await fs.readFile(classesFile(), 'utf8')) as Record<string, { examples?: string[]; negatives?: string[] }>;
	assert.deepEqual(after.red.negatives, ['orange-circle.png']);
	assert.equal(after.red.examples, undefined, 'no longer an example (the emptied list is removed)');
	await eventually('the tag moves off the class', async () => {
		const label = (await readTags()).images['orange-circle.png']?.label;
		return label !== undefined && label !== 'red';
	}, 30_000);
	assert.equal((await readTags()).images['orange-circle.png'].label, 'orange');
	assert.equal((await readTags()).images['red-star.png'].label, 'red', 'the other tags stay');
});

test('Find Duplicates groups the near copies and deletes nothing', async () => {
	const all = await vscode.commands.executeCommand<{ groups: { paths: string[] }[] }[]>('clipSearch.findDuplicates');
	const groups = all.flatMap(d => d.groups);
	assert.ok(groups.some(g => g.paths.includes('red-circle.png') && g.paths.includes('copies/red-circle-copy.jpg')));
	await fs.access(path.join(ws(), 'copies', 'red-circle-copy.jpg'));
});

test('where each image is used (issue 37): Find Image References, a broken one in Problems with its quick fix, Use This One Everywhere', async () => {
	const api = await activateExtension();
	const docs = path.join(ws(), 'docs');
	await fs.mkdir(docs, { recursive: true });
	const guide = path.join(docs, 'guide.md');
	const page = path.join(docs, 'page.html');
	await fs.writeFile(guide, ['# Guide', '![Red](../red-circle.png)', '![Copy](../copies/red-circle-copy.jpg)', '![Star](../Blue-Star.png)', '![Gone](./gone.png)', ''].join('\n'));
	await fs.writeFile(page, '<p><img src="../copies/red-circle-copy.jpg" alt="copy"></p>\n');
	type Found = { rows: { file: string; line: number; column: number }[]; shownIn?: string };
	let found: Found | undefined;
	await eventually('the new files\' references are read', async () => {
		found = await vscode.commands.executeCommand<Found>('clipSearch.findImageReferences', vscode.Uri.file(path.join(ws(), 'copies', 'red-circle-copy.jpg')));
		return found?.rows.map(r => r.file).join() === 'docs/guide.md,docs/page.html';
	}, 30_000);
	assert.equal(found?.shownIn, 'references-view', 'shown in the References view');
	assert.deepEqual([found!.rows[0].line, found!.rows[0].column], [3, 9]);

	const ours = () => vscode.languages.getDiagnostics(vscode.Uri.file(guide)).filter(d => d.source === 'CLIP Image Search');
	await eventually('Problems lists the wrong case and the missing image', async () => ours().length === 2, 30_000);
	const wrongCase = ours().find(d => /letter case/.test(d.message))!;
	assert.ok(wrongCase, ours().map(d => d.message).join(' | '));
	assert.deepEqual([wrongCase.range.start.line, wrongCase.range.start.character], [3, 8]);
	// Quick fixes are asked of an open document (the workbench answers for the text models it holds).
	await vscode.workspace.openTextDocument(guide);
	const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', vscode.Uri.file(guide), wrongCase.range, vscode.CodeActionKind.QuickFix.value);
	const fix = actions.find(a => a.title === 'Change to "../blue-star.png"');
	assert.ok(fix?.edit, actions.map(a => a.title).join(' | '));
	assert.ok(actions.some(a => a.title === 'Find Similar Image…'));
	assert.ok(await vscode.workspace.applyEdit(fix.edit));
	await (await vscode.workspace.openTextDocument(guide)).save();
	await eventually('the fixed reference leaves Problems', async () => ours().length === 1 && /gone\.png/.test(ours()[0].message), 30_000);

	const all = await vscode.commands.executeCommand<{ root: string; groups: { paths: string[]; images: { path: string; uses: number }[] }[] }[]>('clipSearch.findDuplicates');
	const group = all.flatMap(d => d.groups).find(g => g.paths.includes('red-circle.png'))!;
	assert.deepEqual(group.images, [
		{ path: 'copies/red-circle-copy.jpg', uses: 2 },
		{ path: 'red-circle.png', uses: 1 },
	]);
	const keep = { kind: 'file', file: path.join(ws(), 'red-circle.png'), duplicate: { root: ws(), rel: 'red-circle.png', group } };
	const outcome = await vscode.commands.executeCommand<{ rewritten: number; files: number; deleted: string[] }>('clipSearch.useEverywhere', keep, { deleteOthers: false });
	assert.deepEqual(outcome, { rewritten: 2, files: 2, deleted: [] });
	assert.equal(await fs.readFile(page, 'utf8'), '<p><img src="../red-circle.png" alt="copy"></p>\n');
	assert.match(await fs.readFile(guide, 'utf8'), /!\[Copy\]\(\.\.\/red-circle\.png\)/);

	// Unused Images: the copy nothing references any more is listed, biggest first.
	await eventually('the copy is unused', async () => {
		api.unused.invalidate();
		const [answer] = await api.unused.current();
		return !!answer?.answer.unused.some(u => u.path === 'copies/red-circle-copy.jpg');
	}, 30_000);
	await fs.rm(docs, { recursive: true });
	await eventually('Problems forgets the deleted file', async () => ours().length === 0, 30_000);
});

test('the watcher indexes added images and forgets deleted ones', async () => {
	await fs.mkdir(path.join(ws(), 'added'), { recursive: true });
	await fs.copyFile(path.join(ws(), 'purple-cross.png'), path.join(ws(), 'added', 'another-purple-cross.png'));
	const deadline = Date.now() + 30_000;
	let top: string[] = [];
	while (Date.now() < deadline) {
		await settled(x => x.state === 'ready');
		top = await searchTop('purple cross');
		if (top.includes('added/another-purple-cross.png')) {
			break;
		}
		await sleep(500);
	}
	assert.ok(top.includes('added/another-purple-cross.png'), `added file found: ${top.slice(0, 3).join(', ')}`);
	const [after] = await states();
	assert.equal(after.result?.incremental, true, `only the changed paths were compared: ${JSON.stringify(after.result)}`);
	assert.equal(after.summary?.files, 33);
	await fs.rm(path.join(ws(), 'added'), { recursive: true });
	const until = Date.now() + 30_000;
	while (Date.now() < until) {
		await settled(x => x.state === 'ready');
		top = await searchTop('purple cross');
		if (!top.includes('added/another-purple-cross.png')) {
			break;
		}
		await sleep(500);
	}
	assert.ok(!top.includes('added/another-purple-cross.png'), 'deleted file is gone from the results');
});

test('an added image: only its path is compared (no walk of the folder), and its vector appears', async () => {
	await fs.copyFile(path.join(ws(), 'orange-star.png'), path.join(ws(), 'orange-star-again.png'));
	const [s] = await settled(x => x.state === 'ready' && !!x.result?.incremental && x.summary?.files === 33, { timeoutMs: 30_000 });
	assert.deepEqual({ scanned: s.result?.scanned, embedded: s.result?.embedded, reused: s.result?.reused }, { scanned: 1, embedded: 0, reused: 1 });
	const log = await extensionLog();
	assert.match(log, /scan: compared \d+ changed path\(s\) only \(incremental\)/);
	assert.ok((await searchTop('orange star')).includes('orange-star-again.png'));
	await fs.rm(path.join(ws(), 'orange-star-again.png'));
	await settled(x => x.state === 'ready' && x.summary?.files === 32, { timeoutMs: 30_000 });
});

test('Rebuild Index is refused while another process writes the index, naming it; nothing changes', async () => {
	const [before] = await states();
	await withForeignLock(before.indexDir, async holder => {
		const manifest = await fs.readFile(path.join(before.indexDir, 'manifest.json'), 'utf8');
		const outcome = await vscode.commands.executeCommand<{ rebuilt: string[]; refused: { holder: { pid: number } }[] }>('clipSearch.rebuildIndex');
		assert.deepEqual(outcome.rebuilt, []);
		assert.equal(outcome.refused[0]?.holder.pid, holder.pid);
		await sleep(500);
		assert.equal(await fs.readFile(path.join(before.indexDir, 'manifest.json'), 'utf8'), manifest, 'the index is untouched');
		assert.equal(JSON.parse(await fs.readFile(holder.lockFile, 'utf8')).pid, holder.pid, 'the holder keeps its lock');
		assert.equal((await searchTop('a photo of a yellow triangle'))[0], 'yellow-triangle.png', 'searching goes on');
	});
});

test('text inside images: a screenshot is found by the words it shows, with the matched line', async () => {
	const sharp = (await import('sharp')).default;
	const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="200"><rect width="100%" height="100%" fill="#fff"/><text x="24" y="80" font-family="DejaVu Sans" font-size="30" fill="#b00020">Payment gateway unavailable</text><text x="24" y="150" font-family="DejaVu Sans" font-size="22" fill="#222">Retry later</text></svg>';
	await fs.mkdir(path.join(ws(), 'shots'), { recursive: true });
	await fs.writeFile(path.join(ws(), 'shots', 'error-dialog.png'), await sharp(Buffer.from(svg)).png().toBuffer());
	let items: { hit: { rel: string; text?: string } }[] = [];
	await eventually('the screenshot is found by its text', async () => {
		await settled(x => x.state === 'ready');
		items = (await vscode.commands.executeCommand<{ hit: { rel: string; text?: string } }[]>('clipSearch.search', 'payment gateway')) ?? [];
		await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
		return items[0]?.hit.rel === 'shots/error-dialog.png';
	}, 60_000);
	assert.match(items[0].hit.text ?? '', /payment gateway unavailable/i);
	const textOnly = (await vscode.commands.executeCommand<{ hit: { rel: string } }[]>('clipSearch.search', 'text:retry later')) ?? [];
	await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
	assert.deepEqual(textOnly.map(i => i.hit.rel), ['shots/error-dialog.png']);
	await fs.rm(path.join(ws(), 'shots'), { recursive: true });
	await settled(x => x.state === 'ready' && x.summary?.files === 32, { timeoutMs: 30_000 });
});

test('agent tools: listed in vscode.lm.tools, invoked through the running worker, with a preview on request', async () => {
	const sharp = (await import('sharp')).default;
	const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="200"><rect width="100%" height="100%" fill="#fff"/><text x="24" y="80" font-family="DejaVu Sans" font-size="30" fill="#b00020">Payment gateway unavailable</text></svg>';
	await fs.mkdir(path.join(ws(), 'shots'), { recursive: true });
	await fs.writeFile(path.join(ws(), 'shots', 'error-dialog.png'), await sharp(Buffer.from(svg)).png().toBuffer());
	const ours = vscode.lm.tools.filter(t => t.tags.includes('clip-image-search')).map(t => t.name).sort();
	assert.deepEqual(ours, ['find_broken_image_links', 'find_duplicate_images', 'find_image_references', 'find_similar_images', 'find_unused_images', 'image_index_status', 'label_images', 'read_image_text', 'search_images']);
	const parts = (r: vscode.LanguageModelToolResult): { data: Record<string, unknown>; images: vscode.LanguageModelDataPart[] } => ({
		data: JSON.parse((r.content.find(p => p instanceof vscode.LanguageModelTextPart) as vscode.LanguageModelTextPart).value) as Record<string, unknown>,
		images: r.content.filter((p): p is vscode.LanguageModelDataPart => p instanceof vscode.LanguageModelDataPart),
	});
	const found = parts(await vscode.lm.invokeTool('search_images', { input: { query: 'a photo of a yellow triangle', k: 3, include_thumbnails: true }, toolInvocationToken: undefined }));
	assert.equal((found.data.results as { path: string }[])[0].path, 'yellow-triangle.png');
	assert.equal(found.images.length, 3);
	assert.equal(found.images[0].mimeType, 'image/webp');
	let byText: { path: string }[] = [];
	await eventually('the screenshot is indexed and found by its words', async () => {
		await settled(x => x.state === 'ready');
		byText = parts(await vscode.lm.invokeTool('search_images', { input: { query: 'text:payment gateway' }, toolInvocationToken: undefined })).data.results as { path: string }[];
		return byText[0]?.path === 'shots/error-dialog.png';
	}, 60_000);
	const read = parts(await vscode.lm.invokeTool('read_image_text', { input: { path: 'shots/error-dialog.png' }, toolInvocationToken: undefined }));
	assert.match((read.data.lines as string[]).join(' '), /payment gateway unavailable/i);
	await assert.rejects(Promise.resolve(vscode.lm.invokeTool('read_image_text', { input: { path: '../outside.png' }, toolInvocationToken: undefined })), /no such image in the folder/);
	// A hostile repository's links that lead out of the folder: refused, as a missing file is (issue 25).
	const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-e2e-outside-'));
	await fs.writeFile(path.join(outside, 'secret.png'), await sharp(Buffer.from(svg)).png().toBuffer());
	await fs.symlink(path.join(outside, 'secret.png'), path.join(ws(), 'shots', 'link.png'));
	await fs.symlink(outside, path.join(ws(), 'shots', 'linkdir'));
	for (const [tool, input] of [
		['read_image_text', { path: 'shots/link.png' }],
		['read_image_text', { path: 'shots/linkdir/secret.png' }],
		['find_similar_images', { path: 'shots/link.png' }],
		['search_images', { query: '"red" + ./shots/linkdir/secret.png' }],
	] as const) {
		await assert.rejects(Promise.resolve(vscode.lm.invokeTool(tool, { input, toolInvocationToken: undefined })), /no such image in the folder/, `${tool} ${JSON.stringify(input)}`);
	}
	// The tool that writes, called on the extension's object (through invokeTool it would ask first, in a modal dialog).
	const api = await activateExtension();
	const tags = path.join(ws(), '.vscode', 'image-tags.json');
	const before = await fs.readFile(tags, 'utf8').catch(() => '');
	const labelled = parts(await api.agentTools.invoke('label_images', { classes: ['red', 'blue', 'green', 'yellow', 'purple', 'orange'], write_tags: true }));
	assert.ok((labelled.data.written as unknown[]).length === 1);
	assert.notEqual(await fs.readFile(tags, 'utf8'), before);
	await fs.rm(path.join(ws(), 'shots'), { recursive: true });
	await settled(x => x.state === 'ready' && x.summary?.files === 32, { timeoutMs: 30_000 });
});

test('team store: with clipSearch.store set, images CI pushed are pulled, not embedded; the status says so', async () => {
	const repo = process.env.CLIP_E2E_REPO;
	assert.ok(repo, 'run.sh passes CLIP_E2E_REPO (its node_modules have PGlite)');
	const ext = vscode.extensions.all.find(e => e.id.toLowerCase() === 'clip-image-search.clip-image-search')!;
	const port = await new Promise<number>(resolve => {
		const s = createServer().listen(0, '127.0.0.1', () => {
			const p = (s.address() as AddressInfo).port;
			s.close(() => resolve(p));
		});
	});
	const server = spawn(process.execPath, [path.join(repo, 'node_modules', '@electric-sql', 'pglite-socket', 'dist', 'scripts', 'server.js'), '-d', 'memory://', '-p', String(port), '-m', '8', '-e', '@electric-sql/pglite-pgvector:vector'], { cwd: repo });
	const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
	const config = vscode.workspace.getConfiguration('clipSearch');
	try {
		await new Promise<void>((resolve, reject) => {
			let out = '';
			server.stdout.on('data', d => (out += d) && /listening on/.test(out) && resolve());
			server.on('exit', code => reject(new Error(`pglite-server exited ${code}: ${out}`)));
		});
		// CI: three images the workspace does not have yet, embedded and pushed.
		const ci = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-e2e-ci-'));
		const sharp = require(path.join(ext.extensionPath, 'node_modules', 'sharp')) as typeof import('sharp');
		for (const [i, [r, g, b]] of [[250, 10, 200], [10, 250, 120], [90, 90, 250]].entries()) {
			await sharp({ create: { width: 40 + i, height: 40, channels: 3, background: { r, g, b } } }).png().toFile(path.join(ci, `team-${i}.png`));
		}
		const pushed = await new Promise<string>((resolve, reject) => {
			const child = spawn(process.execPath, [path.join(ext.extensionPath, 'dist', 'cli.js'), 'index', ci, '--model', path.join(repo, 'test', 'fixtures', 'tiny-clip'), '--variant', 'fp32', '--index', path.join(ci, '.index'), '--store', url, '--push', '--json']);
			let stdout = '';
			let stderr = '';
			child.stdout.on('data', d => (stdout += d));
			child.stderr.on('data', d => (stderr += d));
			child.on('close', code => (code === 0 ? resolve(stdout) : reject(new Error(`clip-search exited ${code}: ${stderr}`))));
		});
		assert.equal(JSON.parse(pushed).pushed, 3);
		// The developer: the store in their user settings; then a pull brings those images in.
		await config.update('store', url, vscode.ConfigurationTarget.Global);
		await settled(x => x.state === 'ready');
		await fs.mkdir(path.join(ws(), 'team'), { recursive: true });
		for (const f of ['team-0.png', 'team-1.png', 'team-2.png']) {
			await fs.copyFile(path.join(ci, f), path.join(ws(), 'team', f));
		}
		const [s] = await settled(x => x.state === 'ready' && x.summary?.files === 35, { timeoutMs: 60_000 });
		assert.equal(s.result?.embedded, 0);
		// The watcher may hand the three files over in one batch or several: every run with the store counts.
		const runs = [...(await extensionLog()).matchAll(/index .*?: \d+ images.*?, (\d+) embedded, (\d+) pulled from the team store/g)];
		assert.deepEqual(
			runs.reduce((t, m) => ({ embedded: t.embedded + Number(m[1]), pulled: t.pulled + Number(m[2]) }), { embedded: 0, pulled: 0 }),
			{ embedded: 0, pulled: 3 },
		);
		const statuses = await vscode.commands.executeCommand<unknown[]>('clipSearch.showStatus');
		assert.ok(statuses.length);
		const doc = vscode.window.activeTextEditor?.document.getText() ?? '';
		assert.match(doc, new RegExp(`team store postgres://postgres@127\\.0\\.0\\.1:${port}/postgres: \\d vector\\(s\\) pulled in the last run, 0 embedded here`));
		await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
	} finally {
		await config.update('store', undefined, vscode.ConfigurationTarget.Global);
		server.kill();
		await fs.rm(path.join(ws(), 'team'), { recursive: true, force: true });
		// The walk the setting's change starts may forget team/ first; the watcher's batch for the
		// deletion (1 s debounce) still comes, and must not land in the next test's run.
		await sleep(2500);
		await settled(x => x.state === 'ready' && x.summary?.files === 32, { timeoutMs: 60_000 });
	}
});

test('Pause and Resume Indexing', async () => {
	await vscode.commands.executeCommand('clipSearch.pauseIndexing');
	let [s] = await states();
	assert.equal(s.state, 'paused');
	assert.match(s.statusBar, /paused/);
	await vscode.commands.executeCommand('clipSearch.resumeIndexing');
	[s] = await settled(x => x.state === 'ready');
	assert.equal(s.state, 'ready');
});

test('Show Index Status reports files, model and provider', async () => {
	const statuses = await vscode.commands.executeCommand<{ status: { files: number; provider: string; model: { key: string }; failed: unknown[] } }[]>('clipSearch.showStatus');
	assert.equal(statuses[0].status.files, 32);
	assert.equal(statuses[0].status.provider, 'cpu');
	assert.match(statuses[0].status.model.key, /tiny-clip@local-[0-9a-f]{16}#fp32/);
	await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
});

test('Rebuild Index embeds everything again', async () => {
	const outcome = await vscode.commands.executeCommand<{ rebuilt: string[]; refused: unknown[] }>('clipSearch.rebuildIndex');
	assert.deepEqual(outcome.refused, []);
	const [s] = await settled(x => x.state === 'ready' && (x.result?.embedded ?? 0) > 0);
	assert.equal(s.result?.embedded, 32);
	assert.equal(s.summary?.files, 32);
});

/** The extension's log (its LogOutputChannel's files), under the folders run.sh names in CLIP_E2E_LOGS. */
async function extensionLog(): Promise<string> {
	const found: string[] = [];
	const walk = async (dir: string, depth: number): Promise<void> => {
		for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
			const p = path.join(dir, e.name);
			if (e.isDirectory() && depth < 8) {
				await walk(p, depth + 1);
			} else if (e.name.endsWith('CLIP Image Search.log')) {
				found.push(p);
			}
		}
	};
	for (const root of (process.env.CLIP_E2E_LOGS ?? '').split(path.delimiter).filter(Boolean)) {
		await walk(root, 0);
	}
	assert.ok(found.length, `the extension's log file is found under ${process.env.CLIP_E2E_LOGS}`);
	return (await Promise.all(found.map(f => fs.readFile(f, 'utf8')))).join('\n');
}
