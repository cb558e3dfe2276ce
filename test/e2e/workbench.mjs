// What the UI drivers share (drive-ui.mjs, drive-restricted.mjs): a headless Chromium with a
// throwaway profile, ✓/✗ checks that count failures, and running a command from the palette as a
// person does.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A headless Chromium (Debian's, or CHROMIUM_PATH) on a fresh profile, 1280×800. */
export async function openBrowser() {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-e2e-chromium-'));
	const ctx = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
		headless: true,
		viewport: { width: 1280, height: 800 },
		env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') },
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
	});
	return { ctx, profile };
}

/** `check(ok, what)` prints ✓ or ✗ and counts; `failures()` says how many failed. */
export function checker() {
	let failed = 0;
	return {
		check: (ok, what) => {
			console.log(`  ${ok ? '✓' : '✗'} ${what}`);
			if (!ok) failed++;
		},
		fail: () => failed++,
		failures: () => failed,
	};
}

/** Opens the palette (F1), types `title` and runs the first matching row. */
export async function runCommand(page, title) {
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
