/**
 * @file Keeps the index of every workspace folder up to date in the background: a walk after
 * start-up, on resume, on include/exclude changes and on rebuild; only the changed paths for a
 * batch of watcher events; the one model offer for all folders. Runs nothing itself: the worker
 * does the work, IndexScheduler decides when, ModelGate whether the model is there.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import { describeError } from '../../core/common/errors';
import type { IndexProgress, IndexResult } from '../../core/index/indexRun';
import type { LockHolder } from '../../core/index/lock';
import { defaultIndexDir, indexDirName } from '../../core/common/paths';
import { ChangeBatcher } from './changeBatcher';
import { IndexScheduler, type RunOutcome, type Work } from './indexScheduler';
import { Disposable, toDisposable } from '../shared/lifecycle';
import type { Logger } from '../shared/logger';
import { ModelGate } from '../models/modelGate';
import { downloadModel, offerModel } from '../models/modelPrompts';
import { readSettings } from '../shared/settings';
import { isRelevantChange } from './watchFilter';
import { classesFileOf, tagsFileOf } from '../tags/tagsSync';
import type { AutoTagOutcome, AutoTagRef, FolderRef } from '../worker/protocol';
import type { WorkerClient } from '../worker/workerClient';

export type FolderState = 'waiting' | 'indexing' | 'ready' | 'paused' | 'error' | 'disabled' | 'untrusted' | 'needsModel' | 'busyElsewhere';

export interface FolderStatus {
	folder: vscode.WorkspaceFolder;
	state: FolderState;
	progress?: IndexProgress;
	/** The last run of this window (undefined until one finished). */
	lastResult?: Omit<IndexResult, 'changed'>;
	error?: string;
	/** Who else writes this folder's index (another window, a CLI run), while this window waits for it. */
	holder?: LockHolder;
	/** What the committed index holds, as last read (at start-up, before any run, and after each run). */
	summary?: { files: number; failed: number };
	/** The execution provider the image model runs on, once known. */
	provider?: string;
}

/** What the folders' committed indexes hold: images indexed, and files that failed. */
export function committedImages(folders: readonly FolderStatus[]): { images: number; failed: number } {
	return {
		images: folders.reduce((n, f) => n + (f.summary ? f.summary.files - f.summary.failed : 0), 0),
		failed: folders.reduce((n, f) => n + (f.summary?.failed ?? 0), 0),
	};
}

export class WorkspaceIndex extends Disposable {
	private readonly status = new Map<string, FolderStatus>();
	private paused = false;
	private readonly tagging = new Map<string, Promise<AutoTagOutcome | undefined>>();
	private readonly lastTagProblem = new Map<string, string>();
	private readonly changed = this.register(new vscode.EventEmitter<void>());
	/** Fires whenever a folder's state or progress changes. */
	readonly onDidChange = this.changed.event;
	private readonly finished = this.register(new vscode.EventEmitter<string>());
	/** Fires with a folder's root when an index run of it ended (done, cancelled or failed). */
	readonly onDidFinishRun = this.finished.event;
	private readonly batcher: ChangeBatcher;
	readonly scheduler: IndexScheduler;
	readonly modelGate: ModelGate;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly worker: WorkerClient,
		private readonly log: Logger,
	) {
		super();
		this.scheduler = new IndexScheduler(
			(root, work) => this.runFolder(root, work),
			root => this.canRun(root),
		);
		this.register(toDisposable(() => this.scheduler.dispose()));
		this.modelGate = new ModelGate({
			status: () => this.worker.request('modelStatus', {}),
			offer: state => offerModel(state),
			download: () => downloadModel(this.worker),
			onReady: () => this.scheduleAll(),
			onError: message => this.log.error(`model: ${message}`),
		});
		this.batcher = this.register(new ChangeBatcher(changes => this.onFileChanges([...changes.keys()]), 1000));
		// [Note: watching folders too] A deleted, moved or copied-in folder produces one event for
		// the folder, none for the images inside it; so every path is watched, and events for
		// images or for extension-less paths (likely folders) are passed on as changed paths.
		const watcher = this.register(vscode.workspace.createFileSystemWatcher('**/*'));
		const onEvent = (kind: 'create' | 'change' | 'delete') => (uri: vscode.Uri) => {
			if (isRelevantChange(uri.fsPath, kind)) {
				this.batcher.add(uri.fsPath, kind);
			}
		};
		this.register(watcher.onDidCreate(onEvent('create')));
		this.register(watcher.onDidChange(onEvent('change')));
		this.register(watcher.onDidDelete(onEvent('delete')));
		// A changed classes file re-tags its folder (all images when the classes changed).
		const classes = this.register(vscode.workspace.createFileSystemWatcher('**/.vscode/image-labels.json'));
		const onClasses = (uri: vscode.Uri): void => {
			const folder = this.folderOf(uri.fsPath);
			if (folder && uri.fsPath === classesFileOf(folder.uri.fsPath)) {
				this.log.info(`${folder.name}: the classes file changed: updating the tags`);
				void this.autoTag(folder);
			}
		};
		this.register(classes.onDidCreate(onClasses));
		this.register(classes.onDidChange(onClasses));
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
		this.register(
			vscode.workspace.onDidChangeWorkspaceFolders(e => {
				for (const f of e.removed) {
					this.scheduler.drop(f.uri.fsPath);
					this.status.delete(f.uri.fsPath);
					void this.worker.request('forget', { root: f.uri.fsPath }).catch(() => undefined);
				}
				for (const f of e.added) {
					this.scheduler.requestFull(f.uri.fsPath);
				}
				this.changed.fire();
			}),
		);
		// Trust granted: activate() reads the committed indexes and schedules every folder.
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
			this.updateIdleState(s); // off, paused or untrusted from the start
		}
		return s;
	}

	/**
	 * Where a folder's index lives: one per folder for every window and the CLI (the per-user
	 * cache folder, see core/common/paths.ts), or .vscode/ in the folder. See [Note: index location].
	 */
	indexDir(folder: vscode.WorkspaceFolder): string {
		if (readSettings(folder.uri).indexLocation === 'workspace') {
			return path.join(folder.uri.fsPath, '.vscode', 'clip-search-index');
		}
		return defaultIndexDir(folder.uri.fsPath);
	}

	/** How requests name the folder to the worker. */
	folderRef(folder: vscode.WorkspaceFolder): FolderRef {
		const root = folder.uri.fsPath;
		// Where versions before 0.2 kept the index: this window's workspace storage.
		const legacy = this.context.storageUri ? [path.join(this.context.storageUri.fsPath, 'indexes', indexDirName(root))] : [];
		return { root, indexDir: this.indexDir(folder), legacyIndexDirs: legacy };
	}

	folderOf(file: string): vscode.WorkspaceFolder | undefined {
		return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
	}

	/**
	 * Reads what each folder's committed index holds (no model, no scan): the status bar and
	 * searches work from it before, or without, any indexing.
	 */
	async loadCommitted(): Promise<void> {
		if (!vscode.workspace.isTrusted) {
			return; // [Note: restricted mode] in extension.ts
		}
		await Promise.all(
			this.folders().map(async s => {
				const report = await this.worker.request('status', { folder: this.folderRef(s.folder) }).catch(err => {
					this.log.warn(`${s.folder.name}: cannot read its index: ${describeError(err)}`);
					return undefined;
				});
				if (report) {
					s.summary = { files: report.files, failed: report.failed.length };
					s.provider ??= report.provider ?? undefined;
				}
				this.updateIdleState(s);
			}),
		);
		this.changed.fire();
	}

	/** Walks every folder (start-up, resume, settings that change what is indexed). */
	scheduleAll(options: { rebuild?: boolean } = {}): void {
		for (const s of this.folders()) {
			this.updateIdleState(s);
			this.scheduler.requestFull(s.folder.uri.fsPath, options);
		}
		this.changed.fire();
	}

	/** Resolves when no folder is being indexed. */
	idle(): Promise<void> {
		return this.scheduler.idle();
	}

	private canRun(root: string): boolean {
		const folder = this.folderOf(root);
		return !!folder && vscode.workspace.isTrusted && readSettings(folder.uri).indexingEnabled && !this.paused;
	}

	/** The state of a folder that is not running: why it does not (or 'ready'). */
	private updateIdleState(s: FolderStatus): void {
		if (this.scheduler.isRunning(s.folder.uri.fsPath)) {
			return;
		}
		if (!vscode.workspace.isTrusted) {
			s.state = 'untrusted';
		} else if (!readSettings(s.folder.uri).indexingEnabled) {
			s.state = 'disabled';
		} else if (this.paused) {
			s.state = 'paused';
		} else if (s.state === 'disabled' || s.state === 'paused' || s.state === 'untrusted') {
			s.state = 'waiting';
		}
	}

	private async runFolder(root: string, work: Work): Promise<RunOutcome> {
		const folder = this.folderOf(root);
		if (!folder) {
			return 'failed';
		}
		const s = this.statusOf(folder);
		if (!(await this.modelGate.ready())) {
			s.state = 'needsModel';
			this.changed.fire();
			return 'blocked';
		}
		s.state = 'indexing';
		s.error = undefined;
		s.progress = undefined;
		this.changed.fire();
		try {
			const ref = this.folderRef(folder);
			const outcome = await vscode.window.withProgress(
				{ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Indexing images in {0}', folder.name) },
				() => this.worker.request('index', { folder: ref, paths: work.full ? undefined : work.paths, rebuild: work.rebuild || undefined, autoTag: this.autoTagRef(folder) }),
			);
			if (outcome.kind === 'busy') {
				s.state = 'busyElsewhere';
				s.holder = outcome.holder;
				this.log.info(`${folder.name}: the index is being written by process ${outcome.holder.pid} (${outcome.holder.purpose}); searching what it has committed, trying again in ${this.scheduler.retryMs / 1000} s`);
				return 'busy';
			}
			const result = outcome.result;
			s.holder = undefined;
			s.lastResult = result;
			s.summary = { files: result.totalFiles, failed: result.totalFailed };
			s.state = result.cancelled ? (this.paused ? 'paused' : 'waiting') : 'ready';
			s.provider = (await this.worker.request('status', { folder: ref }).catch(() => undefined))?.provider ?? s.provider;
			for (const f of result.failed) {
				this.log.warn(`${folder.name}/${f.path}: ${f.error}`);
			}
			if (outcome.tags) {
				this.reportTags(folder, outcome.tags);
			}
			return result.cancelled ? 'cancelled' : 'done';
		} catch (err) {
			s.error = describeError(err);
			s.state = 'error';
			this.log.error(`indexing ${root} failed: ${s.error}`);
			return 'failed';
		} finally {
			this.updateIdleState(s);
			this.changed.fire();
			this.finished.fire(root);
		}
	}

	/** Where a folder's classes and tags live, when auto-tagging is on (clipSearch.autoTag). */
	autoTagRef(folder: vscode.WorkspaceFolder): AutoTagRef | undefined {
		const settings = readSettings(folder.uri);
		if (!settings.autoTag) {
			return undefined;
		}
		const root = folder.uri.fsPath;
		return { classesFile: classesFileOf(root), tagsFile: tagsFileOf(root), threshold: settings.labelThreshold || undefined };
	}

	/**
	 * Brings a folder's tags up to date with its classes file now (it changed, or a person taught a
	 * class); one update per folder at a time. Resolves with what happened.
	 */
	autoTag(folder: vscode.WorkspaceFolder): Promise<AutoTagOutcome | undefined> {
		const ref = this.autoTagRef(folder);
		if (!ref || !vscode.workspace.isTrusted) {
			return Promise.resolve(undefined);
		}
		const root = folder.uri.fsPath;
		const next = (this.tagging.get(root) ?? Promise.resolve(undefined))
			.catch(() => undefined)
			.then(async () => {
				const outcome = await this.worker.request('autoTag', { folder: this.folderRef(folder), autoTag: ref });
				this.reportTags(folder, outcome);
				return outcome;
			});
		this.tagging.set(root, next);
		return next;
	}

	private reportTags(folder: vscode.WorkspaceFolder, outcome: AutoTagOutcome): void {
		const root = folder.uri.fsPath;
		if (outcome.kind === 'failed') {
			this.log.warn(`auto-tag ${folder.name}: ${outcome.error}`);
			if (this.lastTagProblem.get(root) !== outcome.error) {
				void vscode.window.showWarningMessage(printable(outcome.error));
			}
			this.lastTagProblem.set(root, outcome.error);
			return;
		}
		if (outcome.kind === 'updated') {
			const warnings = outcome.warnings.join('\n');
			outcome.warnings.forEach(w => this.log.warn(w));
			if (warnings && this.lastTagProblem.get(root) !== warnings) {
				void vscode.window.showWarningMessage(printable(outcome.warnings.length === 1 ? outcome.warnings[0] : vscode.l10n.t('{0} (and {1} more: see the log)', outcome.warnings[0], outcome.warnings.length - 1)));
			}
			this.lastTagProblem.set(root, warnings);
		}
	}

	private onFileChanges(files: string[]): void {
		const byRoot = new Map<string, string[]>();
		for (const file of files) {
			const folder = this.folderOf(file);
			if (!folder || !readSettings(folder.uri).indexingEnabled) {
				continue; // indexing off: nothing is scanned; turning it on walks the folder
			}
			const root = folder.uri.fsPath;
			const rel = path.relative(root, file).split(path.sep).join('/');
			if (!rel || rel.startsWith('..')) {
				continue;
			}
			byRoot.set(root, [...(byRoot.get(root) ?? []), rel]);
		}
		for (const [root, rels] of byRoot) {
			this.log.info(`${rels.length} changed path(s) in ${path.basename(root)}: comparing only those with the index`);
			this.scheduler.requestPaths(root, rels);
			// [Note: text waits for images] Reading text is the second, slower pass: new images are
			// embedded first. The pass stops (keeping what it read) and goes on after the update.
			if (this.status.get(root)?.progress?.phase === 'reading text') {
				this.log.info(`${path.basename(root)}: pausing text recognition to index the changes first`);
				void this.worker.request('cancelIndex', { root });
			}
		}
	}

	/** Indexing was turned on or off (clipSearch.indexing.enabled). */
	async onIndexingEnabledChanged(): Promise<void> {
		for (const s of this.folders()) {
			if (!readSettings(s.folder.uri).indexingEnabled) {
				await this.worker.request('cancelIndex', { root: s.folder.uri.fsPath });
			}
		}
		this.scheduleAll();
	}

	/** The model setting changed: a new offer may be made, and every folder is indexed again. */
	onModelChanged(): void {
		this.modelGate.reset();
		this.scheduleAll();
	}

	/** The index location changed: the worker opens each folder's session anew. */
	async onIndexLocationChanged(): Promise<void> {
		for (const s of this.folders()) {
			await this.worker.request('forget', { root: s.folder.uri.fsPath });
		}
		this.scheduleAll();
	}

	async pause(): Promise<void> {
		this.paused = true;
		void vscode.commands.executeCommand('setContext', 'clipSearch.paused', true);
		for (const s of this.folders()) {
			await this.worker.request('cancelIndex', { root: s.folder.uri.fsPath });
			this.updateIdleState(s);
		}
		this.changed.fire();
	}

	resume(): void {
		this.paused = false;
		void vscode.commands.executeCommand('setContext', 'clipSearch.paused', false);
		this.scheduleAll();
	}

	/**
	 * Indexes every folder again from empty, under the index's lock. A folder whose index another
	 * process is writing is left alone, and its holder is returned.
	 */
	async rebuild(): Promise<{ rebuilt: string[]; refused: { folder: string; holder: LockHolder }[] }> {
		const rebuilt: string[] = [];
		const refused: { folder: string; holder: LockHolder }[] = [];
		for (const s of this.folders()) {
			const root = s.folder.uri.fsPath;
			const holder = await this.worker.request('lockHolder', { folder: this.folderRef(s.folder) });
			if (holder) {
				refused.push({ folder: root, holder });
				continue;
			}
			await this.worker.request('cancelIndex', { root });
			this.scheduler.requestFull(root, { rebuild: true });
			rebuilt.push(root);
		}
		return { rebuilt, refused };
	}
}
