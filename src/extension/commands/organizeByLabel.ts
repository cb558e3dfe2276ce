/**
 * @file Organize Images by Label…: copy or move tagged images into per-class folders, after a
 * confirmation that can list every move. Paths are checked in core/labels/organize.ts; the command
 * needs a trusted workspace (its tags file may come from anyone).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import { describeError } from '../../core/common/errors';
import { type PlannedMove, planOrganize, type RefusedMove } from '../../core/labels/organize';
import type { CommandDef } from './registry';

const SHOWN = 15;

export const organizeByLabelCommand: CommandDef = {
	id: 'clipSearch.organizeByLabel',
	needsTrust: true,
	run: async s => {
		if (!vscode.workspace.isTrusted) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Organize Images by Label moves files by what a tags file says: trust this workspace first.'));
			return;
		}
		if (!s.tags.tags.size) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Label images first (CLIP: Label Images…).'));
			return;
		}
		const copyLabel = vscode.l10n.t('Copy into per-class folders');
		const moveLabel = vscode.l10n.t('Move into per-class folders');
		const mode = await vscode.window.showQuickPick([copyLabel, moveLabel], { title: vscode.l10n.t('Organize Images by Label') });
		if (!mode) {
			return;
		}
		const move = mode === moveLabel;
		const plan: PlannedMove[] = [];
		const refused: RefusedMove[] = [];
		for (const folder of vscode.workspace.workspaceFolders ?? []) {
			const root = folder.uri.fsPath;
			const tags = [...s.tags.tags].filter(([file]) => s.index.folderOf(file) === folder).map(([file, t]) => [path.relative(root, file).split(path.sep).join('/'), t.label] as [string, string | null]);
			const planned = await planOrganize(root, tags);
			plan.push(...planned.moves);
			refused.push(...planned.refused.map(r => ({ ...r, path: `${folder.name}/${r.path}` })));
		}
		for (const r of refused) {
			s.log.warn(`organize: ${r.path} is not moved: ${r.reason}`);
		}
		if (!plan.length) {
			void vscode.window.showWarningMessage(vscode.l10n.t('Nothing to organize: {0} image(s) refused (see the log).', refused.length));
			return;
		}
		const line = (p: PlannedMove): string => printable(`${vscode.workspace.asRelativePath(p.from)} → ${vscode.workspace.asRelativePath(p.to)}`);
		const listing = plan.slice(0, SHOWN).map(line).join('\n');
		const more = plan.length > SHOWN ? `\n${vscode.l10n.t('…and {0} more', plan.length - SHOWN)}` : '';
		const notMoved = refused.length ? `\n\n${vscode.l10n.t('{0} image(s) refused: paths outside the folder or unusable class names (see the log).', refused.length)}` : '';
		const ok = move ? vscode.l10n.t('Move {0} Files', plan.length) : vscode.l10n.t('Copy {0} Files', plan.length);
		const showAll = vscode.l10n.t('Show All…');
		for (;;) {
			const answer = await vscode.window.showWarningMessage(
				move ? vscode.l10n.t('Move these images?') : vscode.l10n.t('Copy these images?'),
				{ modal: true, detail: listing + more + notMoved },
				ok,
				...(plan.length > SHOWN || refused.length ? [showAll] : []),
			);
			if (answer === showAll) {
				const all = [...plan.map(line), ...refused.map(r => `${r.path}: not moved (${r.reason})`)].join('\n');
				await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: `${all}\n`, language: 'plaintext' }), { preview: true });
				continue;
			}
			if (answer !== ok) {
				return;
			}
			break;
		}
		if (move) {
			const edit = new vscode.WorkspaceEdit();
			for (const p of plan) {
				edit.renameFile(vscode.Uri.file(p.from), vscode.Uri.file(p.to), { ignoreIfExists: true });
			}
			await vscode.workspace.applyEdit(edit);
			return;
		}
		for (const p of plan) {
			await vscode.workspace.fs.copy(vscode.Uri.file(p.from), vscode.Uri.file(p.to), { overwrite: false }).then(undefined, err => s.log.warn(`copy ${p.from}: ${describeError(err)}`));
		}
	},
};
