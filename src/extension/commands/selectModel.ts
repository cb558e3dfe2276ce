/**
 * @file Select Model…: a known model (each offered variant with its download size, its speed and
 * what it is for) or a local folder. Switching re-embeds every image, so the cost is shown first.
 *
 * [Note: switching models] Vectors of two models never mix (the index's stamp holds the model
 * key): a new model means every image is embedded again. Before the setting changes, the user sees
 * how many images that is, how long it takes at the bench speed of the new model and what it
 * downloads, and confirms.
 */
import * as vscode from 'vscode';
import { downloadSizeText, estimatedRate, findKnownModel, type KnownModel, KNOWN_MODELS, licenceText, qualityText } from '../../core/model/hub/modelRegistry';
import type { ModelVariant } from '../../core/model/layouts/modelSpec';
import { readSettings, SECTION, SettingKeys } from '../shared/settings';
import { committedImages } from '../indexing/workspaceIndex';
import type { CommandDef } from './registry';

const VARIANT_LABEL: Record<ModelVariant, string> = { quantized: 'int8', fp32: 'fp32' };

/** "≈ 12 min": the time to embed `images` at `rate` images per second. */
export function durationText(images: number, rate: number): string {
	const seconds = images / rate;
	if (seconds < 90) {
		return vscode.l10n.t('≈ {0} s', Math.max(1, Math.round(seconds)));
	}
	if (seconds < 90 * 60) {
		return vscode.l10n.t('≈ {0} min', Math.round(seconds / 60));
	}
	return vscode.l10n.t('≈ {0} h', (seconds / 3600).toFixed(1));
}

function pickItem(m: KnownModel, variant: ModelVariant, current: boolean): vscode.QuickPickItem & { value: string } {
	const speed = m.speed?.[variant];
	const parts = [VARIANT_LABEL[variant], licenceText(m), qualityText(m)];
	if (speed) {
		parts.push(vscode.l10n.t('{0} img/s, {1} ms a query on 2 cores', speed.imagesPerSecond.toFixed(1), speed.textQueryMs.toFixed(0)));
	}
	parts.push(downloadSizeText(m, variant));
	return {
		label: `${current ? '$(check) ' : ''}${m.licence.commercial ? '' : '$(warning) '}${m.label}`,
		description: parts.join(' · '),
		detail: vscode.l10n.t('{0} — {1} Quality: {2}.', m.id, m.goodFor, m.quality.source),
		value: `${m.id}|${variant}`,
	};
}

export const selectModelCommand: CommandDef = {
	id: 'clipSearch.selectModel',
	run: async ({ index }) => {
		const settings = readSettings(undefined);
		const items: (vscode.QuickPickItem & { value?: string })[] = [
			...KNOWN_MODELS.flatMap(m => m.variants.map(v => pickItem(m, v, settings.model === m.id && (settings.modelVariant === v || m.variants.length === 1)))),
			{ label: vscode.l10n.t('$(folder) Local model folder…'), detail: vscode.l10n.t("A CLIP, MobileCLIP or SigLIP folder: the transformers.js layout (config.json, preprocessor_config.json, tokenizer.json, onnx/), Immich's (config.json, visual/, textual/) or rclip's (a model folder, tokenizer/)") },
		];
		const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Select Model'), matchOnDetail: true });
		if (!pick) {
			return;
		}
		const config = vscode.workspace.getConfiguration(SECTION);
		let model: string;
		let variant: ModelVariant | undefined;
		if (pick.value) {
			const [id, v] = pick.value.split('|');
			model = id;
			variant = v as ModelVariant;
		} else {
			const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: vscode.l10n.t('Model folder') });
			if (!folder?.[0]) {
				return;
			}
			model = folder[0].fsPath;
		}
		if (model === settings.model && (variant === undefined || variant === settings.modelVariant)) {
			return;
		}
		const folders = index.folders();
		const { images } = committedImages(folders);
		if (images > 0) {
			const known = findKnownModel(model);
			const speed = known && variant ? known.speed?.[variant] : undefined;
			const rate = speed ? estimatedRate(speed.imagesPerSecond, settings.model, settings.modelVariant, folders) : undefined;
			const cost = rate
				? vscode.l10n.t('{0} {1}', durationText(images, rate.imagesPerSecond), rate.calibrated ? vscode.l10n.t('at the speed this machine indexed with the current model, scaled by the bench ratio') : vscode.l10n.t('at the speed measured on 2 cores'))
				: vscode.l10n.t('the time depends on the model');
			const download = known && variant ? vscode.l10n.t(', after a {0} download', downloadSizeText(known, variant)) : '';
			const switchNow = vscode.l10n.t('Switch and Re-index');
			const answer = await vscode.window.showWarningMessage(
				vscode.l10n.t('Switch to {0}? Its vectors cannot be mixed with the current ones, so all {1} images are embedded again ({2}{3}). Searches answer again as soon as the first images are embedded with it.', known?.label ?? model, images, cost, download),
				{ modal: true },
				switchNow,
			);
			if (answer !== switchNow) {
				return;
			}
		}
		await config.update(SettingKeys.model, model, vscode.ConfigurationTarget.Global);
		if (variant) {
			await config.update(SettingKeys.modelVariant, variant, vscode.ConfigurationTarget.Global);
		}
	},
};
