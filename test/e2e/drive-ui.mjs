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

	// Where each image is used (issue 37): a doc and a page that use the red circle and its copy, one
	// reference in the wrong letter case.
	const docsDir = path.join(wsDir, 'docs');
	fs.mkdirSync(docsDir, { recursive: true });
	fs.writeFileSync(path.join(docsDir, 'guide.md'), '# Guide\n\n![Red](../red-circle.png)\n\n![Copy](../copies/red-circle-copy.jpg)\n\n![Star](../Blue-Star.png)\n');
	fs.writeFileSync(path.join(docsDir, 'page.html'), '<p><img src="../copies/red-circle-copy.jpg" alt="copy"></p>\n');
	await page.waitForTimeout(2500); // the watcher's batch
	const quickOpen = async name => {
		await page.keyboard.press('Control+P');
		const q = page.locator('.quick-input-widget input');
		await q.waitFor({ state: 'visible' });
		await q.fill(name);
		await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
		await page.keyboard.press('Enter');
		await page.locator('.tab', { hasText: name }).first().waitFor({ timeout: 10_000 });
	};
	await quickOpen('red-circle-copy.jpg');
	await runCommand(page, 'CLIP: Find Image References');
	const refsPane = page.locator('.pane', { has: page.locator('.monaco-list-row', { hasText: 'page.html' }) }).first();
	check(await refsPane.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'Find Image References lists the uses in the References view');
	const refsText = (await refsPane.innerText().catch(() => '')).replace(/\s+/g, ' ');
	check(refsText.includes('2 uses of red-circle-copy.jpg in 2 files') && refsText.includes('guide.md') && refsText.includes('page.html') && refsText.includes('![Copy](../copies/red-circle-copy.jpg)'), `both files and the line ("${refsText.slice(0, 200)}")`);
	await page.waitForTimeout(500);
	await page.screenshot({ path: path.join(artifacts, 'references-view.png') });

	await quickOpen('guide.md');
	await page.keyboard.press('Control+Shift+M');
	const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'letter case' }).first();
	check(await problem.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'the wrong-case reference shows in Problems');
	await page.waitForTimeout(500);
	await page.screenshot({ path: path.join(artifacts, 'problems.png') });
	await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
	await page.keyboard.press('F8'); // to the problem
	await page.waitForTimeout(500);
	await page.keyboard.press('Escape');
	await runCommand(page, 'Quick Fix...');
	const fixRow = page.locator('.action-widget .monaco-list-row', { hasText: 'Change to "../blue-star.png"' }).first();
	check(await fixRow.waitFor({ timeout: 15_000 }).then(() => true, () => false), 'its quick fix offers the real path');
	await page.waitForTimeout(300);
	await page.screenshot({ path: path.join(artifacts, 'quick-fix.png') });
	await fixRow.click();
	await page.keyboard.press('Control+S');
	const guideFile = path.join(docsDir, 'guide.md');
	const fixDeadline = Date.now() + 10_000;
	while (!fs.readFileSync(guideFile, 'utf8').includes('](../blue-star.png)') && Date.now() < fixDeadline) await page.waitForTimeout(200);
	check(fs.readFileSync(guideFile, 'utf8').includes('![Star](../blue-star.png)'), 'the quick fix is applied and saved');
	const gone = await page.locator('.markers-panel .monaco-list-row', { hasText: 'letter case' }).first().waitFor({ state: 'detached', timeout: 30_000 }).then(() => true, () => false);
	check(gone, 'and the problem leaves the Problems panel');
	await page.screenshot({ path: path.join(artifacts, 'problems-fixed.png') });

	await runCommand(page, 'CLIP: Find Duplicates');
	// Room for the groups: the folder's tree folded away, the classes collapsed (the view's Collapse All).
	await page.locator('.pane-header', { hasText: /^\s*ws\s*$/ }).first().click().catch(() => {});
	await tagsPane.locator('.pane-header').first().hover();
	await tagsPane.locator('.action-label[aria-label="Collapse All"]').first().click().catch(() => {});
	const duplicatesSection = tagsPane.locator('.monaco-list-row', { hasText: 'Duplicates' }).first();
	check(await duplicatesSection.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'Find Duplicates fills the Duplicates section');
	await duplicatesSection.click();
	const groupRow = tagsPane.locator('.monaco-list-row', { hasText: 'uses' }).filter({ hasText: 'red-circle-copy.jpg' }).first();
	check(await groupRow.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'the near-duplicate group shows its uses');
	const groupText = (await groupRow.innerText().catch(() => '')).replace(/\s+/g, ' ');
	check(/3 uses/.test(groupText), `3 uses in the group ("${groupText}")`);
	await groupRow.click();
	const keepRow = tagsPane.locator('.monaco-list-row', { hasText: 'red-circle.png' }).filter({ hasText: '1 use' }).first();
	check(await keepRow.waitFor({ timeout: 10_000 }).then(() => true, () => false), 'each copy shows its own uses');
	await keepRow.hover();
	const useButton = keepRow.locator('.action-label[aria-label="Use This One Everywhere"]').first();
	check(await useButton.waitFor({ timeout: 10_000 }).then(() => true, () => false), 'Use This One Everywhere is offered on a copy');
	await page.screenshot({ path: path.join(artifacts, 'duplicates-uses.png') });
	await keepRow.hover();
	await useButton.click({ force: true }); // an inline action shows while its row is hovered
	const offer = page.locator('.monaco-dialog-box');
	check(await offer.waitFor({ timeout: 15_000 }).then(() => true, () => false), 'after the rewrite it offers to move the other copy to the trash');
	const offerText = (await offer.innerText().catch(() => '')).replace(/\s+/g, ' ');
	check(/2 references now use red-circle\.png/.test(offerText), `saying what it rewrote ("${offerText}")`);
	await page.screenshot({ path: path.join(artifacts, 'use-everywhere.png') });
	await page.keyboard.press('Escape'); // keep the copy
	const pageFile = fs.readFileSync(path.join(docsDir, 'page.html'), 'utf8');
	check(pageFile.includes('src="../red-circle.png"') && fs.readFileSync(guideFile, 'utf8').includes('![Copy](../red-circle.png)'), 'every reference to the copy now names the kept image');

	await page.locator('.pane-header', { hasText: 'Unused Images' }).first().click();
	const unusedPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Unused Images' }) });
	const copyRow = unusedPane.locator('.monaco-list-row', { hasText: 'red-circle-copy.jpg' }).first();
	check(await copyRow.waitFor({ timeout: 30_000 }).then(() => true, () => false), 'the Unused Images view lists the copy nothing uses now');
	await page.waitForTimeout(500);
	await page.screenshot({ path: path.join(artifacts, 'unused-view.png') });
	await page.locator('.pane-header', { hasText: 'Unused Images' }).first().click(); // collapse it again

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
