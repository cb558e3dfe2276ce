// Restricted Mode, as a person meets it: a cloned repository whose workspace settings point the
// model and the index at its own files (a model folder, a planted .vscode/clip-search-index with a
// crafted graph, a tags file with a key outside the folder) is opened untrusted. Nothing of it may
// be read: no index written or opened, the tags untouched, searches refused with a way out. Then the
// person trusts the folder, and everything starts: the crafted index is reported and rebuilt with
// the repository's model.
// Usage: node drive-restricted.mjs <url> <workspace> <artifactsDir> <userDataDir> <cacheDir>
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [baseUrl, wsDir, artifacts, userDataDir, cacheDir] = process.argv.slice(2);
fs.mkdirSync(artifacts, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-e2e-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
	headless: true,
	viewport: { width: 1280, height: 800 },
	env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') },
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
let failed = 0;
const check = (ok, what) => {
	console.log(`  ${ok ? '✓' : '✗'} ${what}`);
	if (!ok) failed++;
};
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
async function runCommand(page, title) {
	for (let attempt = 0; attempt < 5; attempt++) {
		await page.keyboard.press('F1');
		const input = page.locator('.quick-input-widget input');
		await input.waitFor({ state: 'visible', timeout: 10_000 });
		await input.fill(`>${title}`);
		const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
		if (await row.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) {
			await page.keyboard.press('Enter');
			return;
		}
		await page.keyboard.press('Escape');
		await page.waitForTimeout(1500);
	}
	throw new Error(`command "${title}" not found in the palette`);
}
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

	// The person trusts the folder: everything starts, with the repository's settings.
	await runCommand(page, 'Workspaces: Manage Workspace Trust');
	const trust = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust/ }).first();
	check(await trust.waitFor({ timeout: 15_000 }).then(() => true, () => false), 'the Workspace Trust editor offers Trust');
	await trust.click();
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
} catch (err) {
	console.log(`[drive-restricted] FAILED: ${err?.stack ?? err}`);
	failed++;
	await ctx.pages()[0]?.screenshot({ path: path.join(artifacts, 'restricted-failure.png') }).catch(() => {});
} finally {
	await ctx.close().catch(() => {});
	fs.rmSync(profile, { recursive: true, force: true });
}
console.log(failed ? `restricted: ${failed} check(s) failed` : 'restricted: all checks passed');
process.exit(failed ? 1 : 0);
