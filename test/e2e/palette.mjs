// What the UI drivers share (drive-ui.mjs, drive-restricted.mjs): running a command from the
// palette as a person does, retried while the workbench is still registering commands.

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
