// Restricted Mode, as a person meets it: a cloned repository whose workspace settings point the
// model and the index at its own files (a model folder, a planted .vscode/clip-search-index with a
// crafted graph, a tags file with a key outside the folder) is opened untrusted. Nothing of it may
// be read: no index written or opened, the tags untouched, searches refused with a way out. Then the
// person trusts the folder, and everything starts: the crafted index is reported and rebuilt with
// the repository's model, except its team store: that is asked about first, and "Keep Local" keeps
// the images' hashes and paths on this machine (a listener on the store's port counts connections).
// Usage: node drive-restricted.mjs <url> <workspace> <artifactsDir> <userDataDir> <cacheDir> <storePort>
import { checker, openBrowser, runCommand } from './workbench.mjs';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const [baseUrl, wsDir, artifacts, userDataDir, cacheDir, storePort] = process.argv.slice(2);
// Stands in for the server the repository's settings name: counts who connects, answers nothing.
let storeConnections = 0;
const collector = net.createServer(sock => {
	storeConnections++;
	sock.destroy();
});
await new Promise(resolve => collector.listen(Number(storePort), '127.0.0.1', resolve));
fs.mkdirSync(artifacts, { recursive: true });
const { ctx, profile } = await openBrowser();
const { check, fail, failures } = checker();
/** Every file below `dir` with its size and mtime: what "nothing changed" is checked against. */
const snapshot = dir =>
	fs.existsSync(dir)
		? fs
				.readdirSync(dir, { recursive: true })
				.map(f => path.join(dir, String(f)))
				.filter(f => fs.statSync(f).isFile())
				.map(f => `${path.relative(dir, f)} ${fs.statSync(f).size} ${fs.statSync(f).mtimeMs}`)
				.sort()
				.join('\n')
		: '(none)';
const extensionLog = () => {
	const found = [];
	const walk = d => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, e.name);
			if (e.isDirectory()) walk(p);
			else if (e.name.includes('CLIP Image Search') && e.name.endsWith('.log')) found.push(fs.readFileSync(p, 'utf8'));
		}
	};
	walk(userDataDir);
	return found.join('\n');
};
const planted = path.join(wsDir, '.vscode', 'clip-search-index');
const tagsFile = path.join(wsDir, '.vscode', 'image-tags.json');
const indexes = path.join(cacheDir, 'clip-image-search', 'indexes');
try {
	const before = { planted: snapshot(planted), tags: fs.readFileSync(tagsFile, 'utf8'), indexes: snapshot(indexes) };
	const page = ctx.pages()[0] ?? (await ctx.newPage());
	await page.goto(`${baseUrl.replace(/\/$/, '')}/?folder=${encodeURIComponent(path.resolve(wsDir))}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
	await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
	const status = page.locator('.statusbar-item', { hasText: 'CLIP:' }).first();
	await status.waitFor({ timeout: 60_000 });
	await page.waitForTimeout(8000); // time for anything that would read the workspace to do so
	const text = (await status.innerText().catch(() => '')).trim();
	check(/CLIP: restricted mode/.test(text), `status bar says Restricted Mode ("${text}")`);
	await page.screenshot({ path: path.join(artifacts, 'restricted-statusbar.png') });

	await runCommand(page, 'CLIP: Search Images');
	const toast = page.locator('.notifications-toasts', { hasText: 'only once you trust it' }).first();
	check(await toast.waitFor({ timeout: 10_000 }).then(() => true, () => false), 'a search says the workspace must be trusted first, with a way to do it');
	await page.screenshot({ path: path.join(artifacts, 'restricted-search.png') });
	await page.keyboard.press('Escape');

	await runCommand(page, 'CLIP: Show Index Status');
	const editor = page.locator('.monaco-editor .view-lines').first();
	await editor.waitFor({ timeout: 10_000 });
	await page.waitForTimeout(500);
	const statusText = await editor.innerText().catch(() => '');
	check(/Restricted Mode: nothing of this folder is read/.test(statusText.replace(/\s+/g, ' ')), 'Show Index Status reads no index and says why');

	check(snapshot(planted) === before.planted, 'the repository\'s planted index was not opened or changed');
	check(fs.readFileSync(tagsFile, 'utf8') === before.tags, 'the repository\'s tags file was not rewritten');
	check(snapshot(indexes) === before.indexes, 'no index was written to the cache');
	const restrictedLog = extensionLog();
	check(/Restricted Mode: nothing of this workspace is read until it is trusted/.test(restrictedLog), 'the log says nothing is read until the workspace is trusted');
	check(!/repo-model|clip-search-index|image-tags\.json|outside\.png/.test(restrictedLog), 'the log names none of the repository\'s model, index or tags');
	check(storeConnections === 0, 'the team store the repository names was not contacted');

	// The person trusts the folder: everything starts, with the repository's settings.
	await runCommand(page, 'Workspaces: Manage Workspace Trust');
	const trust = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust/ }).first();
	check(await trust.waitFor({ timeout: 15_000 }).then(() => true, () => false), 'the Workspace Trust editor offers Trust');
	await trust.click();
	// Its team store is asked about before anything is sent there; the person keeps it local.
	const dialog = page.locator('.monaco-dialog-box', { hasText: 'team store' }).first();
	check(await dialog.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'trusted, the workspace\'s team store is asked about first');
	const dialogText = (await dialog.innerText().catch(() => '')).replace(/\s+/g, ' ');
	check(dialogText.includes(`127.0.0.1:${storePort}`) && /hashes and paths/.test(dialogText), `the question names the store and what it would receive ("${dialogText.slice(0, 160)}")`);
	await page.screenshot({ path: path.join(artifacts, 'restricted-store-question.png') });
	await dialog.locator('.monaco-button', { hasText: 'Keep Local' }).first().click();
	const deadline = Date.now() + 180_000;
	let after = '';
	while (Date.now() < deadline) {
		after = (await status.innerText().catch(() => '')).trim();
		if (/CLIP: 32 images/.test(after)) break;
		await page.waitForTimeout(500);
	}
	check(/CLIP: 32 images/.test(after), `trusted, the folder is indexed ("${after}")`);
	await page.screenshot({ path: path.join(artifacts, 'restricted-trusted.png') });
	const trustedLog = extensionLog();
	check(/vectors-\d+\.hnsw is damaged or not an index graph/.test(trustedLog), 'the crafted graph is reported by name, not a crash');
	check(fs.existsSync(path.join(planted, 'manifest.json')) && snapshot(planted) !== before.planted, 'the index in .vscode/ was rebuilt (the repository\'s indexLocation counts once trusted)');
	check(/tags: 1 entry of .* refused: not paths inside the folder \(\.\.\/\.\.\/outside\.png\)/.test(trustedLog), 'the tags file\'s key outside the folder is refused');
	check(storeConnections === 0 && /team store .*: declined; indexing stays local/.test(trustedLog), `"Keep Local": nothing sent to the store, indexed here (${storeConnections} connection(s))`);
} catch (err) {
	console.log(`[drive-restricted] FAILED: ${err?.stack ?? err}`);
	fail();
	await ctx.pages()[0]?.screenshot({ path: path.join(artifacts, 'restricted-failure.png') }).catch(() => {});
} finally {
	collector.close();
	await ctx.close().catch(() => {});
	fs.rmSync(profile, { recursive: true, force: true });
}
const failed = failures();
console.log(failed ? `restricted: ${failed} check(s) failed` : 'restricted: all checks passed');
process.exit(failed ? 1 : 0);
