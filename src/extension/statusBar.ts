/** @file The status bar item: what the indexer is doing; a click opens the quick menu. */
import * as vscode from 'vscode';
import { Disposable } from './lifecycle';
import type { WorkspaceIndex } from './workspaceIndex';

export class StatusBar extends Disposable {
	private readonly item = this.register(vscode.window.createStatusBarItem('clipSearch.status', vscode.StatusBarAlignment.Left, 10));

	constructor(private readonly index: WorkspaceIndex) {
		super();
		this.item.name = vscode.l10n.t('CLIP Image Search');
		this.item.command = 'clipSearch.quickMenu';
		this.register(index.onDidChange(() => this.update()));
		this.update();
	}

	update(): void {
		const folders = this.index.folders();
		if (!folders.length) {
			this.item.hide();
			return;
		}
		const indexing = folders.filter(f => f.state === 'indexing');
		if (indexing.length) {
			const done = indexing.reduce((n, f) => n + (f.progress?.done ?? 0), 0);
			const todo = indexing.reduce((n, f) => n + (f.progress?.todo ?? 0), 0);
			const rate = indexing.reduce((n, f) => n + (f.progress?.imagesPerSecond ?? 0), 0);
			const scanning = indexing.some(f => !f.progress || f.progress.phase === 'scanning');
			const provider = folders.map(f => f.provider).find(Boolean);
			this.item.text = scanning
				? `$(sync~spin) ${vscode.l10n.t('CLIP: scanning…')}`
				: `$(sync~spin) ${vscode.l10n.t('CLIP: indexing {0} / {1} · {2} img/s', done.toLocaleString(), todo.toLocaleString(), rate.toFixed(1))}${provider ? ` · ${provider}` : ''}`;
			this.item.tooltip = vscode.l10n.t('Indexing images. Click for options.');
		} else if (this.index.isPaused) {
			this.item.text = `$(debug-pause) ${vscode.l10n.t('CLIP: paused')}`;
			this.item.tooltip = vscode.l10n.t('Indexing is paused. Click to resume.');
		} else if (folders.some(f => f.state === 'error')) {
			this.item.text = `$(error) ${vscode.l10n.t('CLIP: error')}`;
			this.item.tooltip = folders.map(f => f.error).filter(Boolean).join('\n');
		} else if (folders.some(f => f.state === 'needsModel')) {
			this.item.text = `$(cloud-download) ${vscode.l10n.t('CLIP: model needed')}`;
			this.item.tooltip = vscode.l10n.t('The model is not downloaded. Click to choose a model.');
		} else if (folders.every(f => f.state === 'untrusted')) {
			this.item.text = `$(shield) ${vscode.l10n.t('CLIP: restricted mode')}`;
			this.item.tooltip = vscode.l10n.t('Images are not indexed until you trust this workspace.');
		} else if (folders.every(f => f.state === 'disabled')) {
			this.item.text = `$(circle-slash) ${vscode.l10n.t('CLIP: off')}`;
			this.item.tooltip = vscode.l10n.t('Indexing is turned off (clipSearch.indexing.enabled).');
		} else {
			const images = folders.reduce((n, f) => n + (f.lastResult ? f.lastResult.scanned - f.lastResult.failed.length : 0), 0);
			const failed = folders.reduce((n, f) => n + (f.lastResult?.failed.length ?? 0), 0);
			const provider = folders.map(f => f.provider).find(Boolean);
			this.item.text = `$(search) ${vscode.l10n.t('CLIP: {0} images', images.toLocaleString())}${failed ? ` · ${vscode.l10n.t('{0} failed', failed)}` : ''}${provider ? ` · ${provider}` : ''}`;
			this.item.tooltip = vscode.l10n.t('Images indexed. Click for options.');
		}
		this.item.show();
	}
}
