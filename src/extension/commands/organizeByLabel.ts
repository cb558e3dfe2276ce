/** @file Organize Images by Label…: copy or move tagged images into per-class folders, after a confirmation. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/common/errors';
import type { CommandDef } from './registry';

export const organizeByLabelCommand: CommandDef = {
	id: 'clipSearch.organizeByLabel',
	run: async s => {
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
		const plan = [...s.tags.tags]
			.filter(([, t]) => t.label)
			.map(([file, t]) => ({ from: file, to: path.join(path.dirname(file), t.label!.replace(/[\\/:*?"<>|]/g, '_'), path.basename(file)) }));
		const listing = plan
			.slice(0, 15)
			.map(p => `${vscode.workspace.asRelativePath(p.from)} → ${vscode.workspace.asRelativePath(p.to)}`)
			.join('\n');
		const more = plan.length > 15 ? `\n${vscode.l10n.t('…and {0} more', plan.length - 15)}` : '';
		const ok = move ? vscode.l10n.t('Move {0} Files', plan.length) : vscode.l10n.t('Copy {0} Files', plan.length);
		const answer = await vscode.window.showWarningMessage(move ? vscode.l10n.t('Move these images?') : vscode.l10n.t('Copy these images?'), { modal: true, detail: listing + more }, ok);
		if (answer !== ok) {
			return;
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
