/** @file Select Model…: a known model (with its variants and download sizes) or a local folder. */
import * as vscode from 'vscode';
import { downloadSize, KNOWN_MODELS } from '../../core/modelRegistry';
import { SECTION, SettingKeys } from '../settings';
import type { CommandDef } from './registry';

export const selectModelCommand: CommandDef = {
	id: 'clipSearch.selectModel',
	run: async () => {
		const items: (vscode.QuickPickItem & { value?: string })[] = [
			...KNOWN_MODELS.flatMap(m => [
				{ label: m.id, description: vscode.l10n.t('int8, {0} MB download', (downloadSize(m, 'quantized') / 1e6).toFixed(0)), detail: m.description, value: `${m.id}|quantized` },
				{ label: m.id, description: vscode.l10n.t('fp32, {0} MB download', (downloadSize(m, 'fp32') / 1e6).toFixed(0)), detail: m.description, value: `${m.id}|fp32` },
			]),
			{ label: vscode.l10n.t('$(folder) Local model folder…'), detail: vscode.l10n.t('A folder in the transformers.js layout (config.json, preprocessor_config.json, tokenizer.json, onnx/)') },
		];
		const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Select Model') });
		if (!pick) {
			return;
		}
		const config = vscode.workspace.getConfiguration(SECTION);
		if (pick.value) {
			const [id, variant] = pick.value.split('|');
			await config.update(SettingKeys.model, id, vscode.ConfigurationTarget.Global);
			await config.update(SettingKeys.modelVariant, variant, vscode.ConfigurationTarget.Global);
		} else {
			const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: vscode.l10n.t('Model folder') });
			if (folder?.[0]) {
				await config.update(SettingKeys.model, folder[0].fsPath, vscode.ConfigurationTarget.Global);
			}
		}
	},
};
