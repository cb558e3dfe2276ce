/** @file Find Similar Images: on an image in the Explorer, the editor title, or the active editor. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from '../shared/settings';
import { type ImageHit, showResultsQuickPick } from '../search/searchQuickPick';
import type { CommandDef } from './registry';

export const findSimilarCommand: CommandDef = {
	id: 'clipSearch.findSimilar',
	needsTrust: true,
	run: async (s, target?: unknown) => {
		const uri =
			target instanceof vscode.Uri
				? target
				: (vscode.window.activeTextEditor?.document.uri ?? (vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: vscode.Uri } | undefined)?.uri);
		const folder = uri && s.index.folderOf(uri.fsPath);
		if (!uri || !folder) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Select an image in the workspace to find similar ones.'));
			return undefined;
		}
		const root = folder.uri.fsPath;
		const results = await s.worker.request('similar', { folder: s.index.folderRef(folder), file: uri.fsPath, k: readSettings().maxResults });
		const hits: ImageHit[] = results.map(r => ({ file: path.join(root, ...r.path.split('/')), root, rel: r.path, score: r.score }));
		await showResultsQuickPick(s.worker, vscode.l10n.t('Images similar to {0}', path.basename(uri.fsPath)), hits, s.index.folders().length > 1, (t, h) => void s.panel.show(t, h));
		return hits;
	},
};
