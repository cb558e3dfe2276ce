/**
 * @file The status bar item: what the indexer is doing. A click opens the quick menu, or Select
 * Model… when the model is what is missing.
 */
import * as vscode from 'vscode';
import { Disposable } from '../shared/lifecycle';
import { describeHolderShort } from './holderText';
import { committedImages, type WorkspaceIndex } from './workspaceIndex';

export class StatusBar extends Disposable {
	private readonly item = this.register(vscode.window.createStatusBarItem('clipSearch.status', vscode.StatusBarAlignment.Left, 10));
	/** What is loading now (a model released when idle, brought back for a search), shown while nothing indexes. */
	private loading?: string;
	/** What the worker prepares before it can go on (int8 or batched twins made once), by file; shown above everything else. */
	private readonly stages = new Map<string, string>();

	constructor(private readonly index: WorkspaceIndex) {
		super();
		this.item.name = vscode.l10n.t('CLIP Image Search');
		this.register(index.onDidChange(() => this.update()));
		this.update();
	}

	/** The text shown now (the end-to-end tests read it). */
	get text(): string {
		return this.item.text;
	}

	/** Shows `text` while `work` runs (unless indexing is shown), then what was there; returns `work`. */
	showWhile<T>(text: string, work: Promise<T>): Promise<T> {
		this.loading = text;
		this.update();
		const done = (): void => {
			if (this.loading === text) {
				this.loading = undefined;
				this.update();
			}
		};
		work.then(done, done);
		return work;
	}

	/** A stage of the worker's for `key` (a file); no message when it is done; no key: the worker stopped, nothing is being prepared. */
	setStage(key: string | undefined, message: string | undefined): void {
		if (key === undefined) {
			this.stages.clear();
		} else if (message) {
			this.stages.set(key, message);
		} else {
			this.stages.delete(key);
		}
		this.update();
	}

	update(): void {
		const folders = this.index.folders();
		if (!folders.length) {
			this.item.hide();
			return;
		}
		this.item.command = 'clipSearch.quickMenu';
		const stage = [...this.stages.values()].pop();
		if (stage) {
			this.item.text = `$(sync~spin) CLIP: ${stage}`;
			this.item.tooltip = vscode.l10n.t('Made once for this model and this CPU, then kept in the cache.');
			this.item.show();
			return;
		}
		const provider = folders.map(f => f.provider).find(Boolean);
		const { images, failed } = committedImages(folders);
		const indexing = folders.filter(f => f.state === 'indexing');
		const elsewhere = folders.filter(f => f.state === 'busyElsewhere' && f.holder);
		if (indexing.length) {
			const done = indexing.reduce((n, f) => n + (f.progress?.done ?? 0), 0);
			const todo = indexing.reduce((n, f) => n + (f.progress?.todo ?? 0), 0);
			const rate = indexing.reduce((n, f) => n + (f.progress?.imagesPerSecond ?? 0), 0);
			const scanning = indexing.some(f => !f.progress || f.progress.phase === 'scanning');
			const reading = indexing.every(f => f.progress?.phase === 'reading text');
			this.item.text = scanning
				? `$(sync~spin) ${vscode.l10n.t('CLIP: scanning…')}`
				: reading
					? `$(sync~spin) ${vscode.l10n.t('CLIP: reading text {0} / {1}', done.toLocaleString(), todo.toLocaleString())}`
				: `$(sync~spin) ${vscode.l10n.t('CLIP: indexing {0} / {1} · {2} img/s', done.toLocaleString(), todo.toLocaleString(), rate.toFixed(1))}${provider ? ` · ${provider}` : ''}`;
			this.item.tooltip = vscode.l10n.t('Indexing images. Click for options.');
		} else if (this.loading) {
			this.item.text = `$(sync~spin) ${this.loading}`;
			this.item.tooltip = vscode.l10n.t('Loading the model for the search (it was released while unused: clipSearch.unloadAfterIdleMinutes).');
		} else if (elsewhere.length) {
			this.item.text = `$(sync~spin) ${describeHolderShort(elsewhere[0].holder!)}`;
			this.item.tooltip = [
				...elsewhere.map(f => vscode.l10n.t('{0}: indexed by process {1} ({2}, since {3}).', f.folder.name, f.holder!.pid, f.holder!.purpose, f.holder!.since)),
				vscode.l10n.t('Searches use what it has committed ({0} images); this window takes over when it is done.', images.toLocaleString()),
			].join('\n');
		} else if (this.index.isPaused) {
			this.item.text = `$(debug-pause) ${vscode.l10n.t('CLIP: paused')}`;
			this.item.tooltip = vscode.l10n.t('Indexing is paused. Click to resume.');
		} else if (folders.some(f => f.state === 'error')) {
			this.item.text = `$(error) ${vscode.l10n.t('CLIP: error')}`;
			this.item.tooltip = folders.map(f => f.error).filter(Boolean).join('\n');
		} else if (folders.some(f => f.state === 'needsModel')) {
			this.item.text = `$(cloud-download) ${vscode.l10n.t('CLIP: model needed')}`;
			this.item.tooltip = vscode.l10n.t('The model is not available. Click to choose or download a model.');
			this.item.command = 'clipSearch.selectModel';
		} else if (folders.every(f => f.state === 'untrusted')) {
			this.item.text = `$(shield) ${vscode.l10n.t('CLIP: restricted mode')}`;
			this.item.tooltip = vscode.l10n.t('Images are not indexed until you trust this workspace.');
		} else if (folders.every(f => f.state === 'disabled')) {
			this.item.text = `$(circle-slash) ${vscode.l10n.t('CLIP: indexing off · {0} images', images.toLocaleString())}`;
			this.item.tooltip = vscode.l10n.t('Indexing is turned off (clipSearch.indexing.enabled): nothing is scanned; searches use the existing index.');
		} else {
			this.item.text = `$(search) ${vscode.l10n.t('CLIP: {0} images', images.toLocaleString())}${failed ? ` · ${vscode.l10n.t('{0} failed', failed)}` : ''}${provider ? ` · ${provider}` : ''}`;
			this.item.tooltip = vscode.l10n.t('Images indexed. Click for options.');
		}
		this.item.show();
	}
}
