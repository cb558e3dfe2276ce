/**
 * @file The "Unused Images" view: the images no text file of the folder references, biggest first,
 * with their size; images only a pattern may name apart ("possibly used"), never offered for
 * deletion. Read from the worker when the view is shown and again when references or the index
 * change while it is visible.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/common/errors';
import { printable } from '../../core/common/printable';
import { formatBytes } from '../../core/common/sizes';
import type { UnusedAnswer } from '../../core/refs/imageUse';
import type { WorkspaceIndex } from '../indexing/workspaceIndex';
import { Disposable } from '../shared/lifecycle';
import type { Logger } from '../shared/logger';
import type { WorkerClient } from '../worker/workerClient';
import type { ReferenceUpdates } from './referenceUpdates';

export type UnusedNode =
	| { kind: 'folder'; root: string; name: string; answer: UnusedAnswer }
	| { kind: 'possibly'; root: string; answer: UnusedAnswer }
	| { kind: 'image'; root: string; path: string; size: number; by?: { file: string; line: number; pattern: string }[] };

export class UnusedImagesView extends Disposable implements vscode.TreeDataProvider<UnusedNode> {
	private readonly changed = this.register(new vscode.EventEmitter<UnusedNode | undefined>());
	readonly onDidChangeTreeData = this.changed.event;
	readonly view: vscode.TreeView<UnusedNode>;
	private answers: { root: string; name: string; answer: UnusedAnswer }[] | undefined;
	private loading: Promise<void> | undefined;
	private stale = true;

	constructor(
		private readonly worker: WorkerClient,
		private readonly index: WorkspaceIndex,
		private readonly updates: ReferenceUpdates,
		private readonly log: Logger,
	) {
		super();
		this.view = this.register(vscode.window.createTreeView('clipSearch.unused', { treeDataProvider: this, canSelectMany: true, showCollapseAll: true }));
		this.register(updates.onDidChange(() => this.invalidate()));
		this.register(this.view.onDidChangeVisibility(e => e.visible && this.stale && this.changed.fire(undefined)));
	}

	/** The answers are out of date: read again now if the view is visible, else when it is shown. */
	invalidate(): void {
		this.stale = true;
		if (this.view.visible) {
			this.changed.fire(undefined);
		}
	}

	private load(): Promise<void> {
		this.loading ??= (async () => {
			this.stale = false;
			const started = performance.now();
			const answers: NonNullable<typeof this.answers> = [];
			for (const f of this.index.folders()) {
				try {
					answers.push({ root: f.folder.uri.fsPath, name: f.folder.name, answer: await this.worker.request('unusedImages', { folder: this.index.folderRef(f.folder) }) });
				} catch (err) {
					this.log.warn(`unused images of ${f.folder.name}: ${describeError(err)}`);
				}
			}
			this.answers = answers;
			const count = answers.reduce((n, a) => n + a.answer.unused.length, 0);
			const bytes = answers.reduce((n, a) => n + a.answer.bytes, 0);
			this.view.description = count ? vscode.l10n.t('{0} · {1}', count, formatBytes(bytes)) : '';
			this.view.message = count ? undefined : vscode.l10n.t('Every image is referenced by a text file of the workspace.');
			this.log.info(`unused images: ${count} (${formatBytes(bytes)}) in ${(performance.now() - started).toFixed(0)} ms`);
		})().finally(() => {
			this.loading = undefined;
			if (this.stale && this.view.visible) {
				this.changed.fire(undefined); // invalidated while it read: read again
			}
		});
		return this.loading;
	}

	/** The answers, read again first when they are out of date (tests, commands). */
	async current(): Promise<readonly { root: string; name: string; answer: UnusedAnswer }[]> {
		if (this.stale || !this.answers) {
			await this.load();
		}
		return this.answers ?? [];
	}

	async getChildren(node?: UnusedNode): Promise<UnusedNode[]> {
		if (!node) {
			if (!this.updates.enabled) {
				this.view.message = vscode.l10n.t('Image references are read in a trusted workspace with clipSearch.references.enabled on.');
				return [];
			}
			if (this.stale || !this.answers) {
				await this.load();
			}
			const answers = this.answers ?? [];
			if (answers.length === 1) {
				return this.childrenOf(answers[0].root, answers[0].answer);
			}
			return answers.filter(a => a.answer.unused.length || a.answer.possiblyUsed.length).map(a => ({ kind: 'folder', ...a }));
		}
		if (node.kind === 'folder') {
			return this.childrenOf(node.root, node.answer);
		}
		if (node.kind === 'possibly') {
			return node.answer.possiblyUsed.map(i => ({ kind: 'image', root: node.root, path: i.path, size: i.size, by: i.by }));
		}
		return [];
	}

	private childrenOf(root: string, answer: UnusedAnswer): UnusedNode[] {
		return [
			...answer.unused.map(i => ({ kind: 'image' as const, root, path: i.path, size: i.size })),
			...(answer.possiblyUsed.length ? [{ kind: 'possibly' as const, root, answer }] : []),
		];
	}

	getTreeItem(node: UnusedNode): vscode.TreeItem {
		if (node.kind === 'folder') {
			const item = new vscode.TreeItem(printable(node.name), vscode.TreeItemCollapsibleState.Expanded);
			item.description = vscode.l10n.t('{0} · {1}', node.answer.unused.length, formatBytes(node.answer.bytes));
			item.iconPath = vscode.ThemeIcon.Folder;
			return item;
		}
		if (node.kind === 'possibly') {
			const item = new vscode.TreeItem(vscode.l10n.t('Possibly used through a pattern'), vscode.TreeItemCollapsibleState.Collapsed);
			item.description = String(node.answer.possiblyUsed.length);
			item.tooltip = vscode.l10n.t('A template literal or concatenation (icons/${name}.png) may name these: they are never listed as unused.');
			item.iconPath = new vscode.ThemeIcon('question');
			return item;
		}
		const uri = vscode.Uri.file(path.join(node.root, ...node.path.split('/')));
		const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.None);
		const dir = path.posix.dirname(node.path);
		item.label = printable(path.posix.basename(node.path));
		item.description = `${formatBytes(node.size)}${dir === '.' ? '' : ` · ${printable(dir)}`}`;
		item.tooltip = node.by ? vscode.l10n.t('{0}: may be named by {1} in {2}:{3}', printable(node.path), printable(node.by[0].pattern), printable(node.by[0].file), node.by[0].line) : printable(node.path);
		item.command = { command: 'vscode.open', title: vscode.l10n.t('Open'), arguments: [uri] };
		item.contextValue = node.by ? 'clipSearch.possiblyUsedImage' : 'clipSearch.unusedImage';
		return item;
	}
}
