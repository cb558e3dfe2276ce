/**
 * @file Keeps the worker's image references of each workspace folder current (core/refs/): text
 * files and images that change are passed on in batches, and whoever shows an answer (Problems, the
 * Unused Images view) hears which folder changed. Off in Restricted Mode and with
 * clipSearch.references.enabled off.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/common/errors';
import { ChangeBatcher } from '../indexing/changeBatcher';
import { touchesReferences } from '../indexing/watchFilter';
import type { WorkspaceIndex } from '../indexing/workspaceIndex';
import { Disposable } from '../shared/lifecycle';
import type { Logger } from '../shared/logger';
import { readSettings } from '../shared/settings';
import type { WorkerClient } from '../worker/workerClient';

export class ReferenceUpdates extends Disposable {
	private readonly changed = this.register(new vscode.EventEmitter<string>());
	/** Fires with a folder's root when its references were read again. */
	readonly onDidChange = this.changed.event;
	private readonly batcher: ChangeBatcher;

	constructor(
		private readonly worker: WorkerClient,
		private readonly index: WorkspaceIndex,
		private readonly log: Logger,
	) {
		super();
		this.batcher = this.register(new ChangeBatcher(changes => void this.flush([...changes.keys()]), 300, 3000));
		const watcher = this.register(vscode.workspace.createFileSystemWatcher('**/*'));
		const on = (kind: 'create' | 'change' | 'delete') => (uri: vscode.Uri) => {
			if (this.enabled && touchesReferences(uri.fsPath, kind)) {
				this.batcher.add(uri.fsPath, kind);
			}
		};
		this.register(watcher.onDidCreate(on('create')));
		this.register(watcher.onDidChange(on('change')));
		this.register(watcher.onDidDelete(on('delete')));
	}

	/** Reading references is on: a trusted workspace, and the setting. */
	get enabled(): boolean {
		return vscode.workspace.isTrusted && readSettings().referencesEnabled;
	}

	private async flush(files: string[]): Promise<void> {
		const byRoot = new Map<string, string[]>();
		for (const file of files) {
			const folder = this.index.folderOf(file);
			if (!folder) {
				continue;
			}
			const rel = path.relative(folder.uri.fsPath, file).split(path.sep).join('/');
			if (rel && !rel.startsWith('..')) {
				byRoot.set(folder.uri.fsPath, [...(byRoot.get(folder.uri.fsPath) ?? []), rel]);
			}
		}
		for (const [root, paths] of byRoot) {
			const started = performance.now();
			try {
				await this.worker.request('refsChanged', { root, paths });
				this.log.info(`references: ${paths.length} changed path(s) in ${path.basename(root)} read again in ${(performance.now() - started).toFixed(0)} ms`);
				this.changed.fire(root);
			} catch (err) {
				this.log.warn(`references of ${path.basename(root)}: ${describeError(err)}`);
			}
		}
	}

	/** Every folder's answers are stale (settings changed, the index was rebuilt). */
	refreshAll(): void {
		for (const f of this.index.folders()) {
			this.changed.fire(f.folder.uri.fsPath);
		}
	}
}
