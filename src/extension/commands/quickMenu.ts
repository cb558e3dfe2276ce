/** @file The status bar's quick menu, and Show Log. */
import * as vscode from 'vscode';
import type { CommandDef } from './registry';

export const quickMenuCommands: CommandDef[] = [
	{
		id: 'clipSearch.quickMenu',
		run: async s => {
			const items = [
				{ label: `$(search) ${vscode.l10n.t('Search Images…')}`, command: 'clipSearch.search' },
				s.index.isPaused
					? { label: `$(debug-start) ${vscode.l10n.t('Resume Indexing')}`, command: 'clipSearch.resumeIndexing' }
					: { label: `$(debug-pause) ${vscode.l10n.t('Pause Indexing')}`, command: 'clipSearch.pauseIndexing' },
				{ label: `$(refresh) ${vscode.l10n.t('Rebuild Index')}`, command: 'clipSearch.rebuildIndex' },
				{ label: `$(info) ${vscode.l10n.t('Show Index Status')}`, command: 'clipSearch.showStatus' },
				{ label: `$(settings-gear) ${vscode.l10n.t('Select Model…')}`, command: 'clipSearch.selectModel' },
				{ label: `$(output) ${vscode.l10n.t('Show Log')}`, command: 'clipSearch.showLog' },
			];
			const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('CLIP Image Search') });
			if (pick) {
				await vscode.commands.executeCommand(pick.command);
			}
		},
	},
	{ id: 'clipSearch.showLog', run: s => s.log.show() },
];
