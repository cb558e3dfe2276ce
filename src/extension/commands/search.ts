/** @file Search Images…, Search Images in Folder… and Show Results in Panel. */
import * as vscode from 'vscode';
import { type ImageHit, searchWorkspace, showSearchQuickPick } from '../searchQuickPick';
import type { CommandDef, Services } from './registry';

export function showPanel(services: Services, query: string, hits: ImageHit[]): Promise<void> {
	return services.panel.show(vscode.l10n.t('Images: {0}', query || '…'), hits);
}

/** Loads the text model for a search that is being typed, saying so in the status bar. */
function warmText(s: Services): () => Promise<unknown> {
	return () => s.statusBar.showWhile(vscode.l10n.t('CLIP: loading the model…'), s.worker.request('warmText', {}));
}

export const searchCommands: CommandDef[] = [
	{
		id: 'clipSearch.search',
		needsTrust: true,
		run: (s, query?: unknown, scope?: unknown) =>
			showSearchQuickPick(s.worker, s.index, (q, h) => void showPanel(s, q, h), typeof query === 'string' ? query : undefined, scope instanceof vscode.Uri ? scope : undefined, warmText(s)),
	},
	{
		id: 'clipSearch.searchInFolder',
		needsTrust: true,
		run: (s, folder?: unknown) => showSearchQuickPick(s.worker, s.index, (q, h) => void showPanel(s, q, h), undefined, folder instanceof vscode.Uri ? folder : undefined, warmText(s)),
	},
	{
		id: 'clipSearch.showResultsPanel',
		needsTrust: true,
		run: async (s, query?: unknown) => {
			const q =
				typeof query === 'string'
					? query
					: await vscode.window.showInputBox({ title: vscode.l10n.t('Show Results in Panel'), prompt: vscode.l10n.t('Describe the image') });
			if (!q) {
				return undefined;
			}
			const hits = await searchWorkspace(s.worker, s.index, q);
			await showPanel(s, q, hits);
			return hits;
		},
	},
];
