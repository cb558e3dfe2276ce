/**
 * @file What every end-to-end suite shares: a tiny test runner that follows VS Code's
 * extensionTestsPath contract (run() resolves when every test passed), and helpers that drive the
 * extension through its commands. Each suite file is one pass of test/e2e/run.sh.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

interface Test {
	name: string;
	fn: () => Promise<void>;
}

export interface FolderState {
	folder: string;
	state: string;
	result?: { scanned: number; embedded: number; reused: number; removed: number; incremental: boolean; failed: { path: string }[]; pulled?: number };
	error?: string;
	holder?: { pid: number; purpose: string };
	summary?: { files: number; failed: number };
	indexDir: string;
	modelOffers: number;
	statusBar: string;
}

export interface ExtensionApi {
	tags: { tags: Map<string, { label: string | null; score: number }> };
	agentTools: { invoke(name: string, input: Record<string, unknown>): Promise<vscode.LanguageModelToolResult> };
	unused: { current(): Promise<readonly { root: string; answer: { unused: { path: string; size: number }[]; bytes: number } }[]>; invalidate(): void };
}

const tests: Test[] = [];
export const test = (name: string, fn: () => Promise<void>): void => {
	tests.push({ name, fn });
};

export const ws = (i = 0): string => vscode.workspace.workspaceFolders![i].uri.fsPath;
export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export async function activateExtension(): Promise<ExtensionApi> {
	const ext = vscode.extensions.all.find(e => e.id.toLowerCase() === 'clip-image-search.clip-image-search');
	if (!ext) {
		throw new Error('the extension is not installed');
	}
	return (await ext.activate()) as ExtensionApi;
}

/** The folders' states once indexing has settled (waitForIndex waits for runs in progress). */
export async function states(): Promise<FolderState[]> {
	return vscode.commands.executeCommand<FolderState[]>('clipSearch.waitForIndex');
}

/** Polls until `predicate` holds for every folder (or the first, with `first`). */
export async function settled(predicate: (s: FolderState) => boolean, options: { timeoutMs?: number; all?: boolean } = {}): Promise<FolderState[]> {
	const deadline = Date.now() + (options.timeoutMs ?? 120_000);
	let last: FolderState[] = [];
	while (Date.now() < deadline) {
		last = await states();
		if (last.length && (options.all ? last.every(predicate) : predicate(last[0]))) {
			return last;
		}
		await sleep(300);
	}
	throw new Error(`indexing did not settle: ${JSON.stringify(last)}`);
}

/** Polls `fn` until it returns true. */
export async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await fn()) {
			return;
		}
		await sleep(500);
	}
	throw new Error(`timed out waiting until ${what}`);
}

export async function searchTop(query: string): Promise<string[]> {
	const items = await vscode.commands.executeCommand<{ label: string; hit: { rel: string } }[] | undefined>('clipSearch.search', query);
	await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
	return (items ?? []).map(i => i.hit.rel);
}

/**
 * Runs `fn` while a live process that is not this one holds the index lock in `indexDir`, as a CLI
 * run would (purpose "clip-search index <folder>"); the lock and the process are gone after.
 */
export async function withForeignLock(indexDir: string, fn: (holder: { pid: number; lockFile: string }) => Promise<void>): Promise<void> {
	const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
	const lockFile = path.join(indexDir, 'index.lock');
	try {
		await fs.writeFile(lockFile, JSON.stringify({ pid: child.pid, host: os.hostname(), since: new Date().toISOString(), purpose: `clip-search index ${ws()}` }));
		await fn({ pid: child.pid!, lockFile });
	} finally {
		child.kill('SIGKILL');
		await fs.rm(lockFile, { force: true });
	}
}

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
