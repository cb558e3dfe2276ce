/**
 * @file Keeps the Image Tags view and the Explorer badges in step with each folder's tags file:
 * read at activation (before any model is loaded) and again whenever the file changes (a label run
 * in another window, the CLI's `label --out`, a git checkout).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/common/errors';
import { readTagsFile } from '../../core/labels/tagsFile';
import { Disposable } from '../shared/lifecycle';
import type { Logger } from '../shared/logger';
import type { TagsModel } from './tagsView';

/** Where a folder's tags are written. */
export function tagsFileOf(root: string): string {
	return path.join(root, '.vscode', 'image-tags.json');
}

/** Where a folder's classes are described (what Label Images and auto-tagging read). */
export function classesFileOf(root: string): string {
	return path.join(root, '.vscode', 'image-labels.json');
}

export class TagsSync extends Disposable {
	constructor(
		private readonly tags: TagsModel,
		private readonly log: Logger,
	) {
		super();
		const watcher = this.register(vscode.workspace.createFileSystemWatcher('**/.vscode/image-tags.json'));
		const reload = (uri: vscode.Uri): void => {
			const folder = vscode.workspace.getWorkspaceFolder(uri);
			if (folder && uri.fsPath === tagsFileOf(folder.uri.fsPath) && vscode.workspace.isTrusted) {
				void this.load(folder.uri.fsPath);
			}
		};
		this.register(watcher.onDidCreate(reload));
		this.register(watcher.onDidChange(reload));
		this.register(watcher.onDidDelete(reload));
		this.register(vscode.workspace.onDidChangeWorkspaceFolders(e => vscode.workspace.isTrusted && e.added.forEach(f => void this.load(f.uri.fsPath))));
	}

	/** Reads every folder's tags file (in a trusted workspace only: [Note: restricted mode] in extension.ts). */
	async loadAll(): Promise<void> {
		if (!vscode.workspace.isTrusted) {
			return;
		}
		await Promise.all((vscode.workspace.workspaceFolders ?? []).filter(f => f.uri.scheme === 'file').map(f => this.load(f.uri.fsPath)));
	}

	async load(root: string): Promise<void> {
		try {
			const file = await readTagsFile(tagsFileOf(root), root);
			this.tags.setTags(root, file?.images ?? {});
			if (file) {
				this.log.info(`tags: ${Object.keys(file.images).length} read from ${tagsFileOf(root)}`);
			}
			if (file?.refused.length) {
				this.log.warn(`tags: ${file.refused.length} entr${file.refused.length === 1 ? 'y' : 'ies'} of ${tagsFileOf(root)} refused: not paths inside the folder (${file.refused.slice(0, 3).join(', ')}${file.refused.length > 3 ? ', …' : ''})`);
			}
		} catch (err) {
			this.log.warn(describeError(err));
		}
	}
}
