// Opens the workbench of a running code-server in headless Chromium with VS Code's development
// payload (extensionDevelopmentPath + extensionTestsPath), so that the extension host runs the
// suite in test/e2e/suite. code-server must run with --vscode-option enable-smoke-test-driver.
// Usage: node drive-tests.mjs <url> <workspace> <extensionDevelopmentPath> <extensionTestsPath> <resultsFile> [timeoutSec]
// Environment: CLIP_E2E_LOGS, CLIP_E2E_MODEL and CLIP_E2E_REPO (the repository: its node_modules start a PGlite) are passed on to the tests;
// CLIP_E2E_WORKSPACE_FILE opens that .code-workspace instead of the folder;
// CLIP_E2E_FIRST_WINDOW_WAIT=<dir> first opens a plain window on the workspace (no tests) and
// waits until a manifest.json appears in a folder below <dir> (its committed index).
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
	['extensionEnvironment', JSON.stringify({ CLIP_E2E_RESULTS: resultsFile, CLIP_E2E_LOGS: process.env.CLIP_E2E_LOGS ?? '', CLIP_E2E_MODEL: process.env.CLIP_E2E_MODEL ?? '', CLIP_E2E_REPO: process.env.CLIP_E2E_REPO ?? '' })],
	['skipWelcome', 'true'],
];
const target = process.env.CLIP_E2E_WORKSPACE_FILE ? `workspace=${encodeURIComponent(path.resolve(process.env.CLIP_E2E_WORKSPACE_FILE))}` : `folder=${encodeURIComponent(path.resolve(wsDir))}`;
const plainUrl = `${baseUrl.replace(/\/$/, '')}/?${target}`;
const url = `${plainUrl}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-e2e-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
	headless: true,
	env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') },
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
});
let code = 1;
try {
	const firstWait = process.env.CLIP_E2E_FIRST_WINDOW_WAIT;
	if (firstWait) {
		const first = ctx.pages()[0] ?? (await ctx.newPage());
		await first.goto(plainUrl, { waitUntil: 'domcontentloaded', timeout: 60_000 });
		const committed = () => fs.existsSync(firstWait) && fs.readdirSync(firstWait, { withFileTypes: true }).some(d => d.isDirectory() && fs.existsSync(path.join(firstWait, d.name, 'manifest.json')));
		const until = Date.now() + 180_000;
		while (!committed() && Date.now() < until) await new Promise(r => setTimeout(r, 500));
		console.log(committed() ? 'the first window has committed its index; opening the second' : 'the first window committed nothing in 180 s');
	}
	const page = firstWait ? await ctx.newPage() : (ctx.pages()[0] ?? (await ctx.newPage()));
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
