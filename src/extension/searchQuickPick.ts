/**
 * @file "Search Images…": a QuickPick that queries as you type (debounced). Each hit shows its
 * thumbnail, name, folder and score; Enter opens the image; item buttons reveal it in the
 * Explorer, copy its relative path, or insert a reference into the active editor.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { printable } from '../core/common/printable';
import { describeError } from '../core/common/errors';
import { compareHits } from '../core/search/hitOrder';
import type { SearchResult } from '../core/search/search';
import { formatReference, relativeReference } from './references';
import { readSettings } from './settings';
import type { WorkerClient } from './workerClient';
import type { WorkspaceIndex } from './workspaceIndex';

export interface ImageHit {
	file: string;
	root: string;
	rel: string;
	score: number;
	/** The line of text in the image that matched the query's words, and how well (0–1]. */
	text?: string;
	textScore?: number;
}

export interface ResultItem extends vscode.QuickPickItem {
	hit: ImageHit;
}

const revealButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('files'), tooltip: vscode.l10n.t('Reveal in Explorer') };
const copyButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('copy'), tooltip: vscode.l10n.t('Copy Relative Path') };
const insertButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('insert'), tooltip: vscode.l10n.t('Insert Reference into the Editor') };
const panelButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('layout-panel'), tooltip: vscode.l10n.t('Show Results in Panel') };

/** Runs a query on every (or one) workspace folder and merges the hits by score. */
export async function searchWorkspace(worker: WorkerClient, index: WorkspaceIndex, query: string, scope?: vscode.Uri): Promise<ImageHit[]> {
	const settings = readSettings();
	const folders = scope ? [index.folderOf(scope.fsPath)].filter((f): f is vscode.WorkspaceFolder => !!f) : index.folders().map(s => s.folder);
	const all: ImageHit[] = [];
	for (const folder of folders) {
		const root = folder.uri.fsPath;
		const scopeRel = scope && scope.fsPath !== root ? path.relative(root, scope.fsPath).split(path.sep).join('/') : undefined;
		const results: SearchResult[] = await worker.request('search', { folder: index.folderRef(folder), query, k: settings.maxResults, minScore: settings.minScore || undefined, scope: scopeRel });
		all.push(...results.map(r => ({ file: path.join(root, ...r.path.split('/')), root, rel: r.path, score: r.score, text: r.text, textScore: r.textScore })));
	}
	return all.sort(compareHits).slice(0, settings.maxResults);
}

export async function toItems(worker: WorkerClient, hits: ImageHit[], multiRoot: boolean): Promise<ResultItem[]> {
	return Promise.all(
		hits.map(async hit => {
			const thumb = await worker.request('thumbnail', { file: hit.file, size: 64 }).catch(() => undefined);
			const dir = path.posix.dirname(hit.rel);
			return {
				// Names and text from the folder: printable, and no $(icon) syntax taken from a file name.
				label: printable(path.basename(hit.file)).replace(/\$\(/g, '$\u200b('),
				description: printable(`${multiRoot ? `${path.basename(hit.root)}/` : ''}${dir === '.' ? '' : dir}`),
				detail: hit.text ? vscode.l10n.t('“{0}” · text match', printable(hit.text)) : vscode.l10n.t('score {0}', hit.score.toFixed(3)),
				iconPath: vscode.Uri.file(thumb ?? hit.file),
				buttons: [revealButton, copyButton, insertButton],
				alwaysShow: true,
				hit,
			};
		}),
	);
}

export async function insertReference(file: string): Promise<void> {
	const editor = vscode.window.activeTextEditor;
	if (!editor) {
		void vscode.window.showInformationMessage(vscode.l10n.t('Open a file to insert the image reference into.'));
		return;
	}
	const rel = editor.document.isUntitled ? vscode.workspace.asRelativePath(file) : relativeReference(editor.document.uri.fsPath, file);
	await editor.edit(b => b.replace(editor.selection, formatReference(editor.document.languageId, rel)));
}

export async function runItemAction(button: vscode.QuickInputButton, hit: ImageHit): Promise<void> {
	const uri = vscode.Uri.file(hit.file);
	if (button === revealButton) {
		await vscode.commands.executeCommand('revealInExplorer', uri);
	} else if (button === copyButton) {
		await vscode.env.clipboard.writeText(vscode.workspace.asRelativePath(uri));
	} else if (button === insertButton) {
		await insertReference(hit.file);
	}
}

/** Enter opens the image, item buttons act on it, the title button moves the results to the panel. */
function wireResultActions(qp: vscode.QuickPick<ResultItem>, toPanel: () => void): void {
	qp.buttons = [panelButton];
	qp.onDidAccept(() => {
		const item = qp.selectedItems[0];
		if (item) {
			void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(item.hit.file));
			qp.hide();
		}
	});
	qp.onDidTriggerItemButton(e => void runItemAction(e.button, e.item.hit));
	qp.onDidTriggerButton(() => {
		toPanel();
		qp.hide();
	});
}

/** A QuickPick of fixed results (Find Similar Images). */
export async function showResultsQuickPick(worker: WorkerClient, title: string, hits: ImageHit[], multiRoot: boolean, showPanel: (title: string, hits: ImageHit[]) => void): Promise<void> {
	const qp = vscode.window.createQuickPick<ResultItem>();
	qp.title = title;
	qp.items = await toItems(worker, hits, multiRoot);
	wireResultActions(qp, () => showPanel(title, hits));
	qp.onDidHide(() => qp.dispose());
	qp.show();
}

/**
 * Opens the QuickPick (pre-filled with `initial` when given). Resolves with the first items shown
 * for the initial query (the QuickPick stays open), which the end-to-end tests check.
 */
export function showSearchQuickPick(
	worker: WorkerClient,
	index: WorkspaceIndex,
	showPanel: (query: string, hits: ImageHit[]) => void,
	initial?: string,
	scope?: vscode.Uri,
	/** Loads the text model ahead of the first search (called on the first keystroke). */
	warm?: () => Promise<unknown>,
): Promise<ResultItem[]> {
	const qp = vscode.window.createQuickPick<ResultItem>();
	const baseTitle = scope ? vscode.l10n.t('Search Images in {0}', vscode.workspace.asRelativePath(scope)) : vscode.l10n.t('Search Images');
	qp.title = baseTitle;
	qp.placeholder = vscode.l10n.t('Describe the image, e.g. red error icon   ·   "beach" + ./ref.png - "people"');
	qp.matchOnDescription = false;
	qp.matchOnDetail = false;
	let generation = 0;
	let timer: ReturnType<typeof setTimeout> | undefined;
	let firstResolve: ((items: ResultItem[]) => void) | undefined;
	const first = new Promise<ResultItem[]>(resolve => (firstResolve = resolve));
	let lastHits: ImageHit[] = [];

	const progressNote = (): string => {
		const indexing = index.folders().filter(f => f.state === 'indexing' && f.progress);
		if (!indexing.length) {
			return '';
		}
		const done = indexing.reduce((n, f) => n + (f.progress?.done ?? 0), 0);
		const todo = indexing.reduce((n, f) => n + (f.progress?.todo ?? 0), 0);
		return vscode.l10n.t('indexing… {0} of {1} done', done, todo);
	};

	const run = async (query: string): Promise<void> => {
		const mine = ++generation;
		if (!query.trim()) {
			qp.items = [];
			qp.busy = false;
			return;
		}
		qp.busy = true;
		try {
			const hits = await searchWorkspace(worker, index, query, scope);
			const items = await toItems(worker, hits, index.folders().length > 1);
			if (mine !== generation) {
				return;
			}
			lastHits = hits;
			qp.items = items;
			const note = [progressNote(), items.length ? '' : vscode.l10n.t('no matching images')].filter(Boolean).join(' · ');
			qp.title = `${baseTitle}${note ? ` (${note})` : ''}`;
			firstResolve?.(items);
			firstResolve = undefined;
		} catch (err) {
			if (mine === generation) {
				qp.items = [];
				qp.title = `${baseTitle}: ${describeError(err)}`;
				firstResolve?.([]);
				firstResolve = undefined;
			}
		} finally {
			if (mine === generation) {
				qp.busy = false;
			}
		}
	};

	let warmed = false;
	qp.onDidChangeValue(value => {
		if (!warmed && warm && value.trim()) {
			// The text model may have been released while unused: it loads while the person types
			// (not after the debounce), and the status bar says so meanwhile.
			warmed = true;
			void warm().catch(() => undefined);
		}
		clearTimeout(timer);
		timer = setTimeout(() => void run(value), 250);
	});
	wireResultActions(qp, () => showPanel(qp.value, lastHits));
	qp.onDidHide(() => {
		clearTimeout(timer);
		firstResolve?.([]);
		qp.dispose();
	});
	qp.show();
	if (initial) {
		qp.value = initial;
		void run(initial);
	} else {
		firstResolve?.([]);
	}
	return first;
}
