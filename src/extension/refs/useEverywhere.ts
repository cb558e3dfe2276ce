/**
 * @file "Use This One Everywhere" for a group of near-duplicate images: one WorkspaceEdit (one undo)
 * that rewrites every reference to the other copies so it names the kept one, each path computed
 * from its own file (core/refs/imageUse.ts rewritesTo); then an offer to delete the other copies.
 * An edit is made only where the file still says what the answer read (a file changed and not yet
 * read again stops the whole edit, so nothing is half rewritten).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ClipError } from '../../core/common/errors';
import type { Rewrite } from '../../core/refs/imageUse';

export interface UseEverywhereOutcome {
	rewritten: number;
	files: number;
	deleted: string[];
}

/** The edit of `rewrites` (relative to `root`), checked against each file's text now. */
export async function buildUseEverywhereEdit(root: string, rewrites: readonly Rewrite[]): Promise<{ edit: vscode.WorkspaceEdit; documents: vscode.TextDocument[] }> {
	const edit = new vscode.WorkspaceEdit();
	const documents: vscode.TextDocument[] = [];
	const byFile = new Map<string, Rewrite[]>();
	for (const r of rewrites) {
		byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
	}
	for (const [file, list] of byFile) {
		const uri = vscode.Uri.file(path.join(root, ...file.split('/')));
		const doc = await vscode.workspace.openTextDocument(uri);
		for (const r of list) {
			const start = new vscode.Position(r.line - 1, r.column - 1);
			const range = new vscode.Range(start, start.translate(0, r.length));
			if (doc.getText(range) !== r.from) {
				throw new ClipError('InvalidArgument', `${file} changed since its references were read (line ${r.line} no longer says ${r.from}): save it, then try again.`, { file: uri.fsPath });
			}
			edit.replace(uri, range, r.to, { label: vscode.l10n.t('Use one image everywhere'), needsConfirmation: false });
		}
		documents.push(doc);
	}
	return { edit, documents };
}

/**
 * Rewrites every reference to `others` so it names `keep`, in one undoable edit; files that had no
 * unsaved changes are saved (so the answers and the disk agree). Then offers to delete the other
 * copies (to the trash).
 */
export async function useEverywhere(root: string, keep: string, others: string[], rewrites: readonly Rewrite[], confirmDelete: (others: string[], rewritten: number) => Thenable<boolean>): Promise<UseEverywhereOutcome> {
	const { edit, documents } = await buildUseEverywhereEdit(root, rewrites);
	const clean = new Set(documents.filter(d => !d.isDirty).map(d => d.uri.toString()));
	if (rewrites.length && !(await vscode.workspace.applyEdit(edit, { isRefactoring: true }))) {
		throw new ClipError('InvalidArgument', `The references to ${others.join(', ')} could not be rewritten (an editor refused the edit): nothing was changed.`);
	}
	for (const doc of documents) {
		if (clean.has(doc.uri.toString())) {
			await doc.save();
		}
	}
	const deleted: string[] = [];
	if (others.length && (await confirmDelete(others, rewrites.length))) {
		for (const rel of others) {
			await vscode.workspace.fs.delete(vscode.Uri.file(path.join(root, ...rel.split('/'))), { useTrash: true });
			deleted.push(rel);
		}
	}
	return { rewritten: rewrites.length, files: documents.length, deleted };
}
