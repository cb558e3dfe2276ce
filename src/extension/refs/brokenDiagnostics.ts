/**
 * @file Broken image references in the Problems panel, one diagnostic each at the target as written,
 * with quick fixes: the suggested path (the moved image's new place, the real letter case, the
 * nearest image), and "Find Similar Image…" to choose one. Answers come from the worker
 * (core/refs/), read again when a folder's files change.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/common/errors';
import type { BrokenLink } from '../../core/refs/imageUse';
import type { WorkspaceIndex } from '../indexing/workspaceIndex';
import { Disposable } from '../shared/lifecycle';
import type { Logger } from '../shared/logger';
import type { WorkerClient } from '../worker/workerClient';
import type { ReferenceUpdates } from './referenceUpdates';

/** The diagnostics' source, and the code that tells our diagnostics from others'. */
export const DIAGNOSTIC_SOURCE = 'CLIP Image Search';
export const DIAGNOSTIC_CODE = 'broken-image-reference';

/** What a quick fix needs of a broken reference: where its folder is, and the link. */
export interface BrokenAt {
	root: string;
	link: BrokenLink;
}

function message(link: BrokenLink): string {
	switch (link.reason) {
		case 'wrong case':
			return vscode.l10n.t('Image "{0}" exists only as "{1}": the letter case differs, which breaks on Linux, in browsers served from it, and in git.', link.target, link.suggestion ?? '');
		case 'missing srcset candidate':
			return vscode.l10n.t('srcset candidate "{0}" is not found.', link.target);
		case 'outside the folder':
			return vscode.l10n.t('Image "{0}" lies outside the workspace folder: it is not followed.', link.target);
		default: {
			const why = link.suggested?.why;
			const hint =
				why === 'moved'
					? vscode.l10n.t(' It was moved to {0}.', link.suggested!.path)
					: why === 'similar'
						? vscode.l10n.t(' The nearest image is {0} (cosine {1}).', link.suggested!.path, String(link.suggested!.cosine ?? ''))
						: why === 'same name'
							? vscode.l10n.t(' An image of that name is at {0}.', link.suggested!.path)
							: '';
			return vscode.l10n.t('Image "{0}" is not found.', link.target) + hint;
		}
	}
}

export class BrokenDiagnostics extends Disposable implements vscode.CodeActionProvider {
	static readonly kinds = [vscode.CodeActionKind.QuickFix];
	private readonly collection = this.register(vscode.languages.createDiagnosticCollection('clipSearch.images'));
	/** Diagnostic → its link, for the quick fixes. */
	private readonly links = new WeakMap<vscode.Diagnostic, BrokenAt>();
	/** The files each folder has diagnostics in (cleared when the folder's answer is replaced). */
	private readonly filesOf = new Map<string, vscode.Uri[]>();
	private readonly running = new Map<string, Promise<void>>();
	/** The read queued behind the running one, not started yet. */
	private readonly queued = new Map<string, Promise<void>>();

	constructor(
		private readonly worker: WorkerClient,
		private readonly index: WorkspaceIndex,
		private readonly updates: ReferenceUpdates,
		private readonly log: Logger,
	) {
		super();
		this.register(updates.onDidChange(root => void this.refresh(root)));
		this.register(vscode.languages.registerCodeActionsProvider({ scheme: 'file' }, this, { providedCodeActionKinds: BrokenDiagnostics.kinds }));
	}

	/** Reads every folder's broken references (start-up, trust granted, settings changed). */
	async refreshAll(): Promise<void> {
		if (!this.updates.enabled) {
			this.collection.clear();
			this.filesOf.clear();
			return;
		}
		await Promise.all(this.index.folders().map(f => this.refresh(f.folder.uri.fsPath)));
	}

	/**
	 * Reads one folder's broken references again: one read at a time a folder, and refreshes asked for
	 * while one runs share the one read queued after it (it sees every change before it starts).
	 */
	refresh(root: string): Promise<void> {
		const queued = this.queued.get(root);
		if (queued) {
			return queued;
		}
		const next = (this.running.get(root) ?? Promise.resolve())
			.catch(() => undefined)
			.then(() => {
				this.queued.delete(root);
				return this.read(root);
			});
		this.queued.set(root, next);
		this.running.set(root, next);
		return next;
	}

	private async read(root: string): Promise<void> {
		const folder = this.index.folderOf(root);
		if (!folder || !this.updates.enabled) {
			return;
		}
		const started = performance.now();
		let links: BrokenLink[];
		try {
			links = await this.worker.request('brokenRefs', { folder: this.index.folderRef(folder) });
		} catch (err) {
			this.log.warn(`broken image references of ${folder.name}: ${describeError(err)}`);
			return;
		}
		for (const uri of this.filesOf.get(root) ?? []) {
			this.collection.delete(uri);
		}
		const byFile = new Map<string, vscode.Diagnostic[]>();
		for (const link of links) {
			const start = new vscode.Position(link.line - 1, link.column - 1);
			const d = new vscode.Diagnostic(new vscode.Range(start, start.translate(0, link.length)), message(link), link.reason === 'outside the folder' ? vscode.DiagnosticSeverity.Information : vscode.DiagnosticSeverity.Warning);
			d.source = DIAGNOSTIC_SOURCE;
			d.code = DIAGNOSTIC_CODE;
			this.links.set(d, { root, link });
			const list = byFile.get(link.file) ?? [];
			list.push(d);
			byFile.set(link.file, list);
		}
		const uris: vscode.Uri[] = [];
		for (const [file, diagnostics] of byFile) {
			const uri = vscode.Uri.file(path.join(root, ...file.split('/')));
			this.collection.set(uri, diagnostics);
			uris.push(uri);
		}
		this.filesOf.set(root, uris);
		this.log.info(`references of ${folder.name}: ${links.length} broken in ${uris.length} file(s), answered in ${(performance.now() - started).toFixed(0)} ms`);
	}

	provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
		const actions: vscode.CodeAction[] = [];
		for (const d of context.diagnostics) {
			const at = d.source === DIAGNOSTIC_SOURCE ? this.links.get(d) : undefined;
			// The text may have changed since the answer: a fix applies only where the target still stands.
			if (!at || document.getText(d.range) !== at.link.target) {
				continue;
			}
			if (at.link.suggestion) {
				const fix = new vscode.CodeAction(vscode.l10n.t('Change to "{0}"', at.link.suggestion), vscode.CodeActionKind.QuickFix);
				fix.edit = new vscode.WorkspaceEdit();
				fix.edit.replace(document.uri, d.range, at.link.suggestion);
				fix.diagnostics = [d];
				fix.isPreferred = true;
				actions.push(fix);
			}
			if (at.link.reason !== 'outside the folder') {
				const find = new vscode.CodeAction(vscode.l10n.t('Find Similar Image…'), vscode.CodeActionKind.QuickFix);
				find.command = { command: 'clipSearch.replaceBrokenImage', title: find.title, arguments: [document.uri, d.range, at] };
				find.diagnostics = [d];
				actions.push(find);
			}
		}
		return actions;
	}

	/** The diagnostics shown now, by file (tests, the status). */
	entries(): [vscode.Uri, readonly vscode.Diagnostic[]][] {
		const out: [vscode.Uri, readonly vscode.Diagnostic[]][] = [];
		this.collection.forEach((uri, diagnostics) => void out.push([uri, diagnostics]));
		return out;
	}
}
