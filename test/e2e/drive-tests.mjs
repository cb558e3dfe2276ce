// Opens the workbench of a running code-server in headless Chromium with VS Code's development
// payload (extensionDevelopmentPath + extensionTestsPath), so that the extension host runs the
// suite in test/e2e/suite. code-server must run with --vscode-option enable-smoke-test-driver.
// Usage: node drive-tests.mjs <url> <workspace> <extensionDevelopmentPath> <extensionTestsPath> <resultsFile> [timeoutSec]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';

const [baseUrl, wsDir, devPath, testsPath, resultsFile, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg || 600) * 1000;
const u = new URL(baseUrl);
const remote = p => `vscode-remote://${u.host}${path.resolve(p)}`;
fs.rmSync(resultsFile, { force: true });
const payload = [
	['extensionDevelopmentPath', remote(devPath)],
	['extensionTestsPath', remote(testsPath)],
	['extensionEnvironment', JSON.stringify({ CLIP_E2E_RESULTS: resultsFile })],
	['skipWelcome', 'true'],
];
const url = `${baseUrl.replace(/\/$/, '')}/?folder=${encodeURIComponent(path.resolve(wsDir))}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-e2e-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
	headless: true,
	env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') },
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
let code = 1;
try {
	const page = ctx.pages()[0] ?? (await ctx.newPage());
	let exit;
	const exited = new Promise(resolve => (exit = resolve));
	await page.exposeFunction('codeAutomationExit', c => exit(c));
	await page.exposeFunction('codeAutomationLog', (type, args) => {
		const text = util.format(...(Array.isArray(args) ? args : [args])).replace(/%c/g, '');
		if (/[✓✗]|passed, \d+ failed|clip|CLIP|Error/.test(text)) console.log(`[vscode] ${text}`);
	});
	await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
	const r = await Promise.race([exited, new Promise(resolve => setTimeout(() => resolve('timeout'), timeoutMs))]);
	code = r === 'timeout' ? 124 : Number(r);
	if (r === 'timeout') console.log(`timed out after ${timeoutMs / 1000} s`);
} finally {
	await ctx.close().catch(() => {});
	fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
