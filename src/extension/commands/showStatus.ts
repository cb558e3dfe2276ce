/** @file Show Index Status: per folder, what the index holds, what failed and why, the model and provider. */
import * as vscode from 'vscode';
import type { CommandDef } from './registry';

export const showStatusCommand: CommandDef = {
	id: 'clipSearch.showStatus',
	run: async s => {
		const lines: string[] = [];
		const statuses = [];
		for (const f of s.index.folders()) {
			// In Restricted Mode the index is not read ([Note: restricted mode] in extension.ts).
			const st = vscode.workspace.isTrusted ? await s.worker.request('status', { folder: s.index.folderRef(f.folder) }).catch(() => undefined) : undefined;
			statuses.push({ folder: f.folder.name, state: f.state, status: st });
			const elsewhere = f.holder ? ` (${vscode.l10n.t('being indexed by process {0}: {1}', f.holder.pid, f.holder.purpose)})` : '';
			lines.push(`## ${f.folder.name}: ${f.state}${elsewhere}${f.error ? ` (${f.error})` : ''}`);
			if (st) {
				lines.push(
					`files ${st.files}, indexed ${st.indexed}, failed ${st.failed.length}, vectors ${st.vectors}`,
					`model ${st.model.key}`,
					`provider ${st.provider ?? 'not started yet'}${st.providerChoice ? ` (${st.providerChoice})` : ''}`,
					`index ${st.index} (${(st.indexBytes / 1024).toFixed(0)} KB, generation ${st.generation})`,
				);
				const team = s.teamStore.label;
				if (team) {
					lines.push(`team store ${team}${f.lastResult?.pulled !== undefined ? `: ${f.lastResult.pulled} vector(s) pulled in the last run, ${f.lastResult.embedded} embedded here` : ''}`);
				}
				lines.push(...st.failed.map(x => `  failed: ${x.path}: ${x.error}`));
			} else if (!vscode.workspace.isTrusted) {
				lines.push(vscode.l10n.t('Restricted Mode: nothing of this folder is read until you trust the workspace.'));
			} else {
				lines.push(vscode.l10n.t('No index yet ({0}).', s.index.indexDir(f.folder)));
			}
		}
		s.log.info(`status\n${lines.join('\n')}`);
		const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: `# CLIP Image Search: index status\n\n${lines.join('\n\n')}\n` });
		await vscode.window.showTextDocument(doc, { preview: true });
		return statuses;
	},
};
