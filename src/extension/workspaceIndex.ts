/**
 * @file Keeps the index of every workspace folder up to date in the background: first index after
 * start-up, re-index on file changes (batched), pause/resume, rebuild, and the first-run model
 * download offer. Runs nothing itself: the worker does the work.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ClipError, describeError } from '../core/errors';
import type { IndexProgress, IndexResult } from '../core/indexer';
import { indexDirName } from '../core/paths';
import { ChangeBatcher } from './changeBatcher';
import { Disposable, toDisposable } from './lifecycle';
import type { Logger } from './logger';
import { readSettings } from './settings';
import type { WorkerClient } from './workerClient';
import { isRelevantChange } from './watchFilter';

export type FolderState = 'waiting' | 'indexing' | 'ready' | 'paused' | 'error' | 'disabled' | 'untrusted' | 'needsModel';

export interface FolderStatus {
	folder: vscode.WorkspaceFolder;
	state: FolderState;
	progress?: IndexProgress;
	lastResult?: IndexResult;
	error?: string;
	/** The execution provider the image model runs on, once known. */
	provider?: string;
}

export class WorkspaceIndex extends Disposable {
	private readonly status = new Map<string, FolderStatus>();
	private readonly running = new Map<string, Promise<void>>();
	private readonly rerun = new Set<string>();
	private paused = false;
	private modelOffered = false;
	private readonly changed = this.register(new vscode.EventEmitter<void>());
	/** Fires whenever a folder's state or progress changes. */
	readonly onDidChange = this.changed.event;
	private readonly batcher: ChangeBatcher;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly worker: WorkerClient,
		private readonly log: Logger,
	) {
		super();
		this.batcher = this.register(new ChangeBatcher(changes => this.onFileChanges([...changes.keys()]), 1000));
		// [Note: watching folders too] A deleted, moved or copied-in folder produces one event for
		// the folder, none for the images inside it; so every path is watched, and events for
		// images or for extension-less paths (likely folders) trigger an update.
		const watcher = this.register(vscode.workspace.createFileSystemWatcher('**/*'));
		const onEvent = (kind: 'create' | 'change' | 'delete') => (uri: vscode.Uri) => {
			if (isRelevantChange(uri.fsPath, kind)) {
				this.batcher.add(uri.fsPath, kind);
			}
		};
		this.register(watcher.onDidCreate(onEvent('create')));
		this.register(watcher.onDidChange(onEvent('change')));
		this.register(watcher.onDidDelete(onEvent('delete')));
		this.register(
			worker.onEvent(e => {
				if (e.type === 'progress') {
					const s = this.status.get(e.root);
					if (s) {
						s.progress = e.progress;
						this.changed.fire();
					}
				}
			}),
		);
		this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleAll()));
		this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.scheduleAll()));
	}

	get isPaused(): boolean {
		return this.paused;
	}

	folders(): FolderStatus[] {
		return (vscode.workspace.workspaceFolders ?? []).filter(f => f.uri.scheme === 'file').map(f => this.statusOf(f));
	}

	statusOf(folder: vscode.WorkspaceFolder): FolderStatus {
		let s = this.status.get(folder.uri.fsPath);
		if (!s) {
			s = { folder, state: 'waiting' };
			this.status.set(folder.uri.fsPath, s);
		}
		return s;
	}

	/** Where a folder's index lives (extension storage by default, or .vscode/ in the folder). */
	indexDir(folder: vscode.WorkspaceFolder): string {
		if (readSettings(folder.uri).indexLocation === 'workspace') {
			return path.join(folder.uri.fsPath, '.vscode', 'clip-search-index');
		}
		const base = this.context.storageUri?.fsPath ?? this.context.globalStorageUri.fsPath;
		return path.join(base, 'indexes', indexDirName(folder.uri.fsPath));
	}

	folderOf(file: string): vscode.WorkspaceFolder | undefined {
		return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
	}

	scheduleAll(): void {
		for (const s of this.folders()) {
			this.schedule(s.folder);
		}
	}

	/** Indexes the folder now, or once more after the run in progress. */
	schedule(folder: vscode.WorkspaceFolder): void {
		const root = folder.uri.fsPath;
		const s = this.statusOf(folder);
		if (!vscode.workspace.isTrusted) {
			s.state = 'untrusted';
			this.changed.fire();
			return;
		}
		if (!readSettings(folder.uri).indexingEnabled) {
			s.state = 'disabled';
			this.changed.fire();
			return;
		}
		if (this.paused) {
			s.state = 'paused';
			this.changed.fire();
			return;
		}
		if (this.running.has(root)) {
			this.rerun.add(root);
			return;
		}
		const run = this.run(folder).finally(() => {
			this.running.delete(root);
			if (this.rerun.delete(root)) {
				this.schedule(folder);
			}
		});
		this.running.set(root, run);
	}

	/** Resolves when no folder is being indexed. */
	async idle(): Promise<void> {
		while (this.running.size) {
			await Promise.all([...this.running.values()]);
		}
	}

	private async run(folder: vscode.WorkspaceFolder): Promise<void> {
		const root = folder.uri.fsPath;
		const s = this.statusOf(folder);
		if (!(await this.ensureModel())) {
			s.state = 'needsModel';
			this.changed.fire();
			return;
		}
		s.state = 'indexing';
		s.error = undefined;
		s.progress = undefined;
		this.changed.fire();
		try {
			const result = await vscode.window.withProgress(
				{ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Indexing images in {0}', folder.name) },
				() => this.worker.request('index', { root, indexDir: this.indexDir(folder) }),
			);
			s.lastResult = result;
			s.state = result.cancelled ? (this.paused ? 'paused' : 'waiting') : 'ready';
			s.provider = (await this.worker.request('status', { root }).catch(() => undefined))?.provider;
			for (const f of result.failed) {
				this.log.warn(`${folder.name}/${f.path}: ${f.error}`);
			}
		} catch (err) {
			s.error = describeError(err);
			if (ClipError.is(err, 'IndexLocked')) {
				// Another window (or a CLI run) is writing this index: search what it has committed,
				// and try again later rather than reporting an error.
				s.state = 'waiting';
				this.log.warn(`${s.error} Retrying in 30 s.`);
				const retry = setTimeout(() => this.schedule(folder), 30_000);
				this.register(toDisposable(() => clearTimeout(retry)));
			} else {
				s.state = 'error';
				this.log.error(`indexing ${root} failed: ${s.error}`);
			}
		}
		this.changed.fire();
	}

	/**
	 * True when the model is ready. The first time a download is needed, the user is asked (with
	 * the size); the download then runs with a cancellable progress notification.
	 */
	private async ensureModel(): Promise<boolean> {
		let status;
		try {
			status = await this.worker.request('modelStatus', {});
		} catch (err) {
			this.log.error(`model: ${describeError(err)}`);
			return false;
		}
		if (!status.needsDownload) {
			return true;
		}
		if (this.modelOffered) {
			return false;
		}
		this.modelOffered = true;
		const size = status.downloadBytes ? ` (${(status.downloadBytes / 1e6).toFixed(0)} MB)` : '';
		const download = vscode.l10n.t('Download');
		const local = vscode.l10n.t('Use a Local Folder…');
		const choice = await vscode.window.showInformationMessage(
			vscode.l10n.t('CLIP Image Search needs the model {0}{1} to index your images. It is downloaded once from Hugging Face; images never leave your machine.', status.id, size),
			download,
			local,
		);
		if (choice === local) {
			await vscode.commands.executeCommand('clipSearch.selectModel');
			return false;
		}
		if (choice !== download) {
			return false;
		}
		try {
			await vscode.window.withProgress(
				{ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Downloading {0}', status.id), cancellable: true },
				async (progress, token) => {
					token.onCancellationRequested(() => void this.worker.request('cancelDownload', {}));
					const sub = this.worker.onEvent(e => {
						if (e.type === 'download' && e.total) {
							progress.report({ message: `${e.file}: ${(e.loaded / 1e6).toFixed(0)} / ${(e.total / 1e6).toFixed(0)} MB` });
						}
					});
					try {
						await this.worker.request('ensureModel', {});
					} finally {
						sub.dispose();
					}
				},
			);
			return true;
		} catch (err) {
			this.modelOffered = false;
			if (!ClipError.is(err, 'Cancelled')) {
				void vscode.window.showErrorMessage(
					vscode.l10n.t('{0} To work offline, set "clipSearch.model" to a local model folder.', describeError(err)),
				);
			}
			return false;
		}
	}

	private onFileChanges(files: string[]): void {
		const roots = new Map<string, vscode.WorkspaceFolder>();
		for (const file of files) {
			const folder = this.folderOf(file);
			if (folder) {
				roots.set(folder.uri.fsPath, folder);
			}
		}
		for (const folder of roots.values()) {
			this.log.info(`${files.length} image change(s) in ${folder.name}: updating the index`);
			this.schedule(folder);
		}
	}

	async pause(): Promise<void> {
		this.paused = true;
		void vscode.commands.executeCommand('setContext', 'clipSearch.paused', true);
		for (const s of this.folders()) {
			if (s.state === 'indexing') {
				await this.worker.request('cancelIndex', { root: s.folder.uri.fsPath });
			}
			s.state = 'paused';
		}
		this.changed.fire();
	}

	resume(): void {
		this.paused = false;
		void vscode.commands.executeCommand('setContext', 'clipSearch.paused', false);
		this.scheduleAll();
	}

	/** Deletes the indexes and indexes everything again. */
	async rebuild(): Promise<void> {
		for (const s of this.folders()) {
			const root = s.folder.uri.fsPath;
			await this.worker.request('cancelIndex', { root });
			await this.running.get(root)?.catch(() => undefined);
			await this.worker.request('forget', { root });
			await fs.rm(this.indexDir(s.folder), { recursive: true, force: true });
		}
		this.scheduleAll();
	}
}
