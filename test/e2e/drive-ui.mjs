// Drives the real workbench like a person: waits for the status bar to say the images are
// indexed, runs "CLIP: Search Images…" from the command palette, types a query, checks the first
// result and takes a screenshot; then "CLIP: Show Results in Panel" and a screenshot of the grid.
// Usage: node drive-ui.mjs <url> <workspace> <artifactsDir>
import { checker, openBrowser, runCommand } from './workbench.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [baseUrl, wsDir, artifacts] = process.argv.slice(2);
fs.mkdirSync(artifacts, { recursive: true });
const { ctx, profile } = await openBrowser();
const log = m => console.log(`[drive-ui] ${m}`);
const { check, fail, failures } = checker();
try {
	const page = ctx.pages()[0] ?? (await ctx.newPage());
	await page.goto(`${baseUrl.replace(/\/$/, '')}/?folder=${encodeURIComponent(path.resolve(wsDir))}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
	await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
	const status = page.locator('.statusbar-item', { hasText: 'CLIP:' }).first();
	await status.waitFor({ timeout: 60_000 });
	const deadline = Date.now() + 120_000;
	let text = '';
	while (Date.now() < deadline) {
		text = (await status.innerText().catch(() => '')).trim();
		if (/CLIP: 32 images/.test(text)) break;
		await page.waitForTimeout(500);
	}
	check(/CLIP: 32 images/.test(text), `status bar says the images are indexed ("${text}")`);
	await page.screenshot({ path: path.join(artifacts, 'statusbar.png') });

	await runCommand(page, 'CLIP: Search Images');
	const input = page.locator('.quick-input-widget input');
	await input.waitFor({ state: 'visible' });
	await input.fill('a photo of a yellow triangle');
	const first = page.locator('.quick-input-list .monaco-list-row').first();
	await page.locator('.quick-input-list .monaco-list-row', { hasText: 'yellow-triangle.png' }).first().waitFor({ timeout: 30_000 });
	await page.waitForTimeout(800); // thumbnails
	const firstText = await first.innerText();
	check(firstText.includes('yellow-triangle.png'), `first QuickPick item is yellow-triangle.png ("${firstText.replace(/\s+/g, ' ')}")`);
	await page.screenshot({ path: path.join(artifacts, 'quickpick.png') });

	// A filtered query, then the sort button (issue 31): the filters narrow, the order follows the button.
	await input.fill('a blue shape -path:copies/**');
	await page.locator('.quick-input-list .monaco-list-row', { hasText: 'blue' }).first().waitFor({ timeout: 30_000 });
	await page.waitForTimeout(800);
	const sortButton = page.locator('.quick-input-titlebar .action-label[aria-label^="Sorted by relevance"], .quick-input-header .action-label[aria-label^="Sorted by relevance"]').first();
	check(await sortButton.waitFor({ timeout: 10_000 }).then(() => true, () => false), 'the search box has a sort button');
	await sortButton.click().catch(() => {});
	const byDate = page.locator('.quick-input-title', { hasText: 'by date modified' });
	check(await byDate.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'the title says the sort and the cut-off');
	await page.waitForTimeout(800);
	const rows = (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts().catch(() => [])).map(t => t.replace(/\s+/g, ' '));
	check(rows.length > 0 && rows.every(t => !t.includes('copies')), `the filter left copies/ out (${rows.length} rows)`);
	check(rows.every(t => /score \d/.test(t)), 'each hit says its score and why');
	await page.screenshot({ path: path.join(artifacts, 'quickpick-filter-sort.png') });

	// A mistyped filter (issue 35): the first item offers the query meant; Enter searches it.
	await input.fill('a red circle tpye:png');
	const meant = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Did you mean' }).first();
	check(await meant.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'the search box offers a did-you-mean for tpye:png');
	const meantText = (await meant.innerText().catch(() => '')).replace(/\s+/g, ' ');
	check(meantText.includes('a red circle type:png') && meantText.includes('"tpye:png" is not a filter'), `it names the query meant and why ("${meantText}")`);
	await page.waitForTimeout(800);
	await page.screenshot({ path: path.join(artifacts, 'quickpick-did-you-mean.png') });
	await meant.click();
	check(await page.waitForFunction(() => document.querySelector('.quick-input-widget input')?.value === 'a red circle type:png', null, { timeout: 10_000 }).then(() => true, () => false), 'choosing it searches the corrected query');
	await page.keyboard.press('Escape');

	await runCommand(page, 'CLIP: Show Results in Panel');
	const box = page.locator('.quick-input-widget input');
	await box.waitFor({ state: 'visible' });
	await box.fill('a photo of a blue star');
	await page.keyboard.press('Enter');
	const tab = page.locator('.tab', { hasText: 'Images: a photo of a blue star' });
	check(await tab.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'the results panel opened');
	await page.waitForTimeout(3000); // webview and thumbnails
	const frame = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
	const cells = await frame.locator('.hit').count().catch(() => 0);
	check(cells > 0, `the panel shows ${cells} results`);
	const firstCell = cells ? await frame.locator('.hit .name').first().innerText() : '';
	check(firstCell === 'blue-star.png', `the panel's first result is blue-star.png ("${firstCell}")`);
	await page.screenshot({ path: path.join(artifacts, 'panel.png') });

	// Auto-tagging: a classes file appears; the tags follow without a command, in the Image Tags
	// view (least certain first, with probabilities) and as Explorer badges.
	fs.writeFileSync(path.join(wsDir, '.vscode', 'image-labels.json'), '{\n  // colours of the fixture shapes\n  "red": {}, "green": {}, "blue": {}, "yellow": {}, "purple": {}, "orange": {}\n}\n');
	const tagsFile = path.join(wsDir, '.vscode', 'image-tags.json');
	const until = Date.now() + 60_000;
	while (!fs.existsSync(tagsFile) && Date.now() < until) await page.waitForTimeout(300);
	check(fs.existsSync(tagsFile), 'the tags file was written by auto-tagging');
	await page.keyboard.press('Escape');
	await page.locator('.pane-header', { hasText: 'Image Tags' }).first().click();
	// The first class (blue) is in view; rows further down are not rendered until scrolled to.
	const tagsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Image Tags' }) });
	const firstClass = tagsPane.locator('.monaco-list-row', { hasText: /^blue/ }).first();
	check(await firstClass.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'the Image Tags view lists the classes');
	await firstClass.click();
	const scored = tagsPane.locator('.monaco-list-row', { hasText: 'p = ' }).first();
	check(await scored.waitFor({ timeout: 10_000 }).then(() => true, () => false), 'tagged images show their probability');
	await page.waitForTimeout(500);
	await page.screenshot({ path: path.join(artifacts, 'tags-view.png') });

	// Text inside images: a screenshot is found by the words it shows, and the QuickPick shows the line.
	fs.copyFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'error-dialog.png'), path.join(wsDir, 'error-dialog.png'));
	let row = '';
	const textDeadline = Date.now() + 90_000;
	while (Date.now() < textDeadline) {
		await runCommand(page, 'CLIP: Search Images');
		const q = page.locator('.quick-input-widget input');
		await q.waitFor({ state: 'visible' });
		await q.fill('payment gateway');
		await page.waitForTimeout(1500);
		row = await page.locator('.quick-input-list .monaco-list-row').first().innerText().catch(() => '');
		if (row.includes('error-dialog.png')) break;
		await page.keyboard.press('Escape');
		await page.waitForTimeout(2000);
	}
	check(row.includes('error-dialog.png') && /Payment gateway unavailable/i.test(row), `the screenshot is found by its text, with the matched line ("${row.replace(/\s+/g, ' ')}")`);
	await page.screenshot({ path: path.join(artifacts, 'quickpick-text.png') });
	await page.keyboard.press('Escape');

	// Select Model: the known models with what each costs, and a confirmation before re-embedding.
	await runCommand(page, 'CLIP: Select Model');
	const siglipRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'SigLIP 2 base/16' }).first();
	check(await siglipRow.waitFor({ timeout: 10_000 }).then(() => true, () => false), 'Select Model lists SigLIP 2');
	const rowText = (await siglipRow.innerText().catch(() => '')).replace(/\s+/g, ' ');
	check(/MB|GB/.test(rowText) && /img\/s/.test(rowText), `each model shows its download and speed ("${rowText}")`);
	check(/Apache-2\.0/.test(rowText) && /ImageNet 78\.2/.test(rowText) && /COCO R@1 52\.1/.test(rowText), `and its licence and public quality ("${rowText}")`);
	// The models Immich and rclip users run are offered by id, and a research-only licence is flagged.
	await page.locator('.quick-input-widget input').fill('rclip');
	const rclipRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'DataComp' }).first();
	check(await rclipRow.waitFor({ timeout: 10_000 }).then(() => true, () => false), "Select Model offers rclip's DataComp B/32");
	await page.locator('.quick-input-widget input').fill('');
	await page.waitForTimeout(300);
	await page.screenshot({ path: path.join(artifacts, 'select-model.png') });
	await page.locator('.quick-input-widget input').fill('MobileCLIP');
	await page.waitForTimeout(500);
	await page.keyboard.press('Enter');
	const dialog = page.locator('.monaco-dialog-box');
	check(await dialog.waitFor({ timeout: 10_000 }).then(() => true, () => false), 'switching asks first');
	const dialogText = (await dialog.innerText().catch(() => '')).replace(/\s+/g, ' ');
	check(/embedded again/.test(dialogText) && /≈/.test(dialogText), `with the number of images and a time estimate ("${dialogText}")`);
	await page.screenshot({ path: path.join(artifacts, 'switch-model-confirm.png') });
	await page.keyboard.press('Escape');

	// The walkthrough, with its localised strings (package.nls.json) resolved.
	await runCommand(page, 'Welcome: Open Walkthrough');
	await page.locator('.quick-input-widget input').fill('Find images by what they show');
	const walkRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Find images by what they show' }).first();
	check(await walkRow.waitFor({ timeout: 10_000 }).then(() => true, () => false), 'the walkthrough is listed');
	await page.keyboard.press('Enter');
	const steps = page.locator('.gettingStartedContainer, .getting-started-detail-container, .gettingStartedSlideDetails').first();
	check(await steps.waitFor({ timeout: 15_000 }).then(() => true, () => false), 'the walkthrough opens');
	await page.waitForTimeout(1500);
	const walkText = (await steps.innerText().catch(() => '')).replace(/\s+/g, ' ');
	check(['Choose a model', 'Index your images', 'Search by what they show', 'Teach a class', 'Use it from an agent'].every(t => walkText.includes(t)), `its five steps show ("${walkText.slice(0, 160)}…")`);
	check(!/%walkthrough\./.test(walkText), 'no unresolved %key% strings');
	await page.screenshot({ path: path.join(artifacts, 'walkthrough.png') });
} catch (err) {
	log(`FAILED: ${err?.stack ?? err}`);
	fail();
	await ctx.pages()[0]?.screenshot({ path: path.join(artifacts, 'failure.png') }).catch(() => {});
} finally {
	await ctx.close().catch(() => {});
	fs.rmSync(profile, { recursive: true, force: true });
}
const failed = failures();
console.log(failed ? `UI: ${failed} check(s) failed` : 'UI: all checks passed');
process.exit(failed ? 1 : 0);
