/** @file Find Duplicates: groups of near-identical images in the Image Tags view. Deletes nothing. */
import * as vscode from 'vscode';
import { readSettings } from '../shared/settings';
import type { CommandDef } from './registry';

export const findDuplicatesCommand: CommandDef = {
	id: 'clipSearch.findDuplicates',
	needsTrust: true,
	run: async s => {
		await s.index.idle();
		const threshold = readSettings().duplicateThreshold;
		const all = await Promise.all(
			s.index.folders().map(async f => ({ root: f.folder.uri.fsPath, groups: await s.worker.request('duplicates', { folder: s.index.folderRef(f.folder), threshold }) })),
		);
		s.tags.setDuplicates(all);
		const count = all.reduce((n, d) => n + d.groups.length, 0);
		void vscode.window.showInformationMessage(
			count ? vscode.l10n.t('{0} groups of near-identical images: see the Image Tags view. Nothing was deleted.', count) : vscode.l10n.t('No near-identical images found.'),
		);
		if (count) {
			void vscode.commands.executeCommand('clipSearch.tags.focus');
		}
		return all;
	},
};
