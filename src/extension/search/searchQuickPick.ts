/**
 * @file "Search Images…": a QuickPick that queries as you type (debounced). Each hit shows its
 * thumbnail, name, folder and score; Enter opens the image; item buttons reveal it in the
 * Explorer, copy its relative path, or insert a reference into the active editor.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import { describeError } from '../../core/common/errors';
import { compareBy, SORT_KEYS, type SortKey, whyText } from '../../core/search/hitOrder';
import type { SearchAnswer, SearchResult } from '../../core/search/search';
import { formatReference, relativeReference } from './references';
import { readSettings } from '../shared/settings';
import type { WorkerClient } from '../worker/workerClient';
import type { WorkspaceIndex } from '../indexing/workspaceIndex';

/** A search result (core/search/search.ts) placed in its workspace folder. */
export interface ImageHit extends Omit<SearchResult, 'path'> {
	file: string;
	root: string;
	rel: string;
}

/** What a search box adds to the words: the order, and images to search more or less like (absolute paths). */
export interface Refinement {
	sort?: SortKey;
	like?: string[];
	unlike?: string[];
}

export interface ResultItem extends vscode.QuickPickItem {
	hit: ImageHit;
}

/** The search box's first item when a word looks like a mistyped filter: accepting it searches the corrected query. */
interface CorrectionItem extends vscode.QuickPickItem {
	correction: string;
}

type SearchItem = ResultItem | CorrectionItem | vscode.QuickPickItem;

const isResult = (item: SearchItem | undefined): item is ResultItem => !!item && 'hit' in item;

/** The query with each mistyped filter replaced by the one meant (tpye:png → type:png). */
export function correctedQuery(query: string, corrections: readonly { word: string; meant: string }[]): string {
	return corrections.reduce((q, c) => q.replace(c.word, c.meant), query);
}

const revealButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('files'), tooltip: vscode.l10n.t('Reveal in Explorer') };
const copyButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('copy'), tooltip: vscode.l10n.t('Copy Relative Path') };
const insertButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('insert'), tooltip: vscode.l10n.t('Insert Reference into the Editor') };
const panelButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('layout-panel'), tooltip: vscode.l10n.t('Show Results in Panel') };
const moreButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('thumbsup'), tooltip: vscode.l10n.t('More Like This') };
const lessButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('thumbsdown'), tooltip: vscode.l10n.t('Less Like This') };
const SORT_LABELS: Record<SortKey, string> = { relevance: 'relevance', modified: 'date modified', name: 'name', size: 'size' };
const sortButton = (sort: SortKey): vscode.QuickInputButton => ({
	iconPath: new vscode.ThemeIcon(sort === 'relevance' ? 'list-ordered' : sort === 'modified' ? 'calendar' : sort === 'name' ? 'case-sensitive' : 'file-binary'),
	tooltip: vscode.l10n.t('Sorted by {0}: click for {1}', SORT_LABELS[sort], SORT_LABELS[nextSort(sort)]),
});

/** The sort button's cycle: relevance → date → name → size → relevance. */
export function nextSort(sort: SortKey): SortKey {
	return SORT_KEYS[(SORT_KEYS.indexOf(sort) + 1) % SORT_KEYS.length];
}

/** Runs a query on every (or one) workspace folder and merges the hits (by relevance, or the sort asked for). */
export async function searchWorkspace(worker: WorkerClient, index: WorkspaceIndex, query: string, scope?: vscode.Uri, refine: Refinement = {}): Promise<ImageHit[]> {
	return (await searchWorkspaceDetailed(worker, index, query, scope, refine)).hits;
}

/** searchWorkspace, with what was applied (the first folder's answer: the filters and cut-off rule are the query's). */
export async function searchWorkspaceDetailed(
	worker: WorkerClient,
	index: WorkspaceIndex,
	query: string,
	scope?: vscode.Uri,
	refine: Refinement = {},
): Promise<{ hits: ImageHit[]; applied?: Pick<SearchAnswer, 'filters' | 'sort' | 'cutoff' | 'notes' | 'corrections'> }> {
	const settings = readSettings();
	const folders = scope ? [index.folderOf(scope.fsPath)].filter((f): f is vscode.WorkspaceFolder => !!f) : index.folders().map(s => s.folder);
	const all: ImageHit[] = [];
	let applied: Pick<SearchAnswer, 'filters' | 'sort' | 'cutoff' | 'notes' | 'corrections'> | undefined;
	for (const folder of folders) {
		const root = folder.uri.fsPath;
		const scopeRel = scope && scope.fsPath !== root ? path.relative(root, scope.fsPath).split(path.sep).join('/') : undefined;
		const answer: SearchAnswer = await worker.request('search', {
			folder: index.folderRef(folder),
			query,
			k: settings.maxResults,
			minScore: settings.minScore || undefined,
			scope: scopeRel,
			sort: refine.sort,
			like: refine.like,
			unlike: refine.unlike,
		});
		applied ??= answer;
		all.push(...answer.results.map(r => ({ file: path.join(root, ...r.path.split('/')), root, rel: r.path, score: r.score, text: r.text, textScore: r.textScore, mtimeMs: r.mtimeMs, size: r.size, why: r.why })));
	}
	return { hits: all.sort(compareBy(refine.sort ?? 'relevance')).slice(0, settings.maxResults), applied };
}

/** A hit's detail line: its score and why it matched (the terms' cosines, the text, the tag, a near-duplicate). */
export function hitDetail(hit: ImageHit): string {
	const why = printable(whyText(hit.why ?? (hit.text !== undefined ? { text: hit.text } : undefined)));
	return [vscode.l10n.t('score {0}', hit.score.toFixed(3)), why].filter(Boolean).join(' · ');
}

export async function toItems(worker: WorkerClient, hits: ImageHit[], multiRoot: boolean, refinable = false): Promise<ResultItem[]> {
	return Promise.all(
		hits.map(async hit => {
			const thumb = await worker.request('thumbnail', { file: hit.file, size: 64 }).catch(() => undefined);
			const dir = path.posix.dirname(hit.rel);
			return {
				// Names and text from the folder: printable, and no $(icon) syntax taken from a file name.
				label: printable(path.basename(hit.file)).replace(/\$\(/g, '$\u200b('),
				description: printable(`${multiRoot ? `${path.basename(hit.root)}/` : ''}${dir === '.' ? '' : dir}`),
				detail: hitDetail(hit),
				iconPath: vscode.Uri.file(thumb ?? hit.file),
				buttons: refinable ? [moreButton, lessButton, revealButton, copyButton, insertButton] : [revealButton, copyButton, insertButton],
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
function wireResultActions(
	qp: vscode.QuickPick<SearchItem>,
	toPanel: () => void,
	refine?: { onItem: (button: vscode.QuickInputButton, hit: ImageHit) => boolean; onTitle: (button: vscode.QuickInputButton) => boolean; onCorrection?: (query: string) => void },
): void {
	qp.buttons = [panelButton];
	qp.onDidAccept(() => {
		const item = qp.selectedItems[0];
		if (item && 'correction' in item) {
			refine?.onCorrection?.(item.correction);
		} else if (isResult(item)) {
			void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(item.hit.file));
			qp.hide();
		}
	});
	qp.onDidTriggerItemButton(e => {
		if (!isResult(e.item)) {
			return;
		}
		if (!refine?.onItem(e.button, e.item.hit)) {
			void runItemAction(e.button, e.item.hit);
		}
	});
	qp.onDidTriggerButton(button => {
		if (refine?.onTitle(button)) {
			return;
		}
		toPanel();
		qp.hide();
	});
}

/** A QuickPick of fixed results (Find Similar Images). */
export async function showResultsQuickPick(worker: WorkerClient, title: string, hits: ImageHit[], multiRoot: boolean, showPanel: (title: string, hits: ImageHit[]) => void): Promise<void> {
	const qp = vscode.window.createQuickPick<SearchItem>();
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
	showPanel: (query: string, hits: ImageHit[], refine: Refinement) => void,
	initial?: string,
	scope?: vscode.Uri,
	/** Loads the text model ahead of the first search (called on the first keystroke). */
	warm?: () => Promise<unknown>,
	/** The sort and examples to start with (the command's third argument). */
	initialRefine: Refinement = {},
): Promise<SearchItem[]> {
	const qp = vscode.window.createQuickPick<SearchItem>();
	const baseTitle = scope ? vscode.l10n.t('Search Images in {0}', vscode.workspace.asRelativePath(scope)) : vscode.l10n.t('Search Images');
	qp.title = baseTitle;
	qp.placeholder = vscode.l10n.t('Describe the image, e.g. red error icon   ·   "beach" + ./ref.png - "people"   ·   type:png after:7d -path:vendor/**');
	qp.matchOnDescription = false;
	qp.matchOnDetail = false;
	let generation = 0;
	let timer: ReturnType<typeof setTimeout> | undefined;
	let firstResolve: ((items: SearchItem[]) => void) | undefined;
	const first = new Promise<SearchItem[]>(resolve => (firstResolve = resolve));
	let lastHits: ImageHit[] = [];
	const refinement: Required<Refinement> = { sort: initialRefine.sort ?? 'relevance', like: [...(initialRefine.like ?? [])], unlike: [...(initialRefine.unlike ?? [])] };
	let currentSortButton = sortButton(refinement.sort);
	const refinementText = (): string =>
		[
			...refinement.like.map(f => `+ ${printable(vscode.workspace.asRelativePath(f))}`),
			...refinement.unlike.map(f => `− ${printable(vscode.workspace.asRelativePath(f))}`),
		].join(' ');

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
		if (!query.trim() && !refinement.like.length) {
			qp.items = [];
			qp.busy = false;
			return;
		}
		qp.busy = true;
		try {
			const { hits, applied } = await searchWorkspaceDetailed(worker, index, query, scope, refinement);
			const items = await toItems(worker, hits, index.folders().length > 1, true);
			if (mine !== generation) {
				return;
			}
			lastHits = hits;
			// [Note: what people type] in core/search/filters.ts: a did-you-mean first (Enter searches it), then what the query's reading noted.
			const corrections = applied?.corrections ?? [];
			const fixed: SearchItem[] = corrections.length
				? [
						{
							label: `$(lightbulb) ${vscode.l10n.t('Did you mean: {0}', printable(correctedQuery(query, corrections)))}`,
							detail: printable(corrections.map(c => vscode.l10n.t('"{0}" is not a filter: it was searched as words', c.word)).join(' · ')),
							correction: correctedQuery(query, corrections),
							alwaysShow: true,
						} satisfies CorrectionItem,
					]
				: [];
			const others = (applied?.notes ?? []).filter(n => !corrections.some(c => n.includes(`"${c.word}" is not a filter`)));
			const noted: SearchItem[] = others.map(n => ({ label: printable(n), kind: vscode.QuickPickItemKind.Separator }));
			qp.items = [...fixed, ...noted, ...items];
			const sorted =
				refinement.sort !== 'relevance'
					? vscode.l10n.t('by {0}, cosine ≥ {1}', SORT_LABELS[refinement.sort], (applied?.cutoff?.score ?? 0).toFixed(3))
					: '';
			const filters = applied?.filters.length ? vscode.l10n.t('{0} filter(s)', applied.filters.length) : '';
			const note = [refinementText(), sorted, filters, progressNote(), items.length ? '' : vscode.l10n.t('no matching images')].filter(Boolean).join(' · ');
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
	wireResultActions(qp, () => showPanel(qp.value, lastHits, refinement), {
		onCorrection: query => {
			qp.value = query;
			void run(query);
		},
		// More/Less like this ([Note: Rocchio] in search.ts): the hit joins the query's examples, and the search runs again.
		onItem: (button, hit) => {
			if (button !== moreButton && button !== lessButton) {
				return false;
			}
			const [add, other] = button === moreButton ? [refinement.like, refinement.unlike] : [refinement.unlike, refinement.like];
			if (!add.includes(hit.file)) {
				add.push(hit.file);
			}
			const at = other.indexOf(hit.file);
			if (at >= 0) {
				other.splice(at, 1);
			}
			void run(qp.value);
			return true;
		},
		onTitle: button => {
			if (button !== currentSortButton) {
				return false;
			}
			refinement.sort = nextSort(refinement.sort);
			currentSortButton = sortButton(refinement.sort);
			qp.buttons = [currentSortButton, panelButton];
			void run(qp.value);
			return true;
		},
	});
	qp.buttons = [currentSortButton, panelButton];
	qp.onDidHide(() => {
		clearTimeout(timer);
		firstResolve?.([]);
		qp.dispose();
	});
	qp.show();
	if (initial || refinement.like.length) {
		qp.value = initial ?? '';
		void run(initial ?? '');
	} else {
		firstResolve?.([]);
	}
	return first;
}
