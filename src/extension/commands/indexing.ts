/** @file Rebuild Index, Pause and Resume Indexing, and the internal Wait for Indexing. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CommandDef } from './registry';

export const indexingCommands: CommandDef[] = [
	{
		id: 'clipSearch.rebuildIndex',
		needsTrust: true,
		run: async s => {
			const outcome = await s.index.rebuild();
			for (const r of outcome.refused) {
				const message = vscode.l10n.t(
					'The index of {0} was not rebuilt: process {1} is writing it ({2}, since {3}). Nothing was changed; try again when it is done.',
					path.basename(r.folder),
					r.holder.pid,
					r.holder.purpose,
					r.holder.since,
				);
				s.log.warn(message);
				void vscode.window.showWarningMessage(message);
			}
			return outcome;
		},
	},
	{ id: 'clipSearch.pauseIndexing', run: s => s.index.pause() },
	{ id: 'clipSearch.resumeIndexing', run: s => s.index.resume() },
	{
		// Internal, for the end-to-end tests and for scripting: resolves once indexing has settled.
		id: 'clipSearch.waitForIndex',
		run: async s => {
			await new Promise(resolve => setTimeout(resolve, 50));
			await s.index.idle();
			return s.index.folders().map(f => ({
				folder: f.folder.uri.fsPath,
				state: f.state,
				result: f.lastResult,
				error: f.error,
				holder: f.holder,
				summary: f.summary,
				indexDir: s.index.indexDir(f.folder),
				modelOffers: s.index.modelGate.offers,
				statusBar: s.statusBar.text,
			}));
		},
	},
];
