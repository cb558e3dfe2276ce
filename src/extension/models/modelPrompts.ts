/**
 * @file What the extension asks and shows about the model: the one offer to download it (or to pick
 * a local folder), and the download with its progress and cancellation.
 */
import * as vscode from 'vscode';
import { describeError } from '../../core/common/errors';
import { formatBytes } from '../../core/common/sizes';
import type { ModelState } from './modelGate';
import type { WorkerClient } from '../worker/workerClient';

/** The one offer (see [Note: one offer] in modelGate.ts): true when the person chose to download. */
export async function offerModel(state: ModelState): Promise<boolean> {
	const select = vscode.l10n.t('Select Model…');
	if (state.localMissing) {
		const choice = await vscode.window.showWarningMessage(
			vscode.l10n.t('CLIP Image Search cannot use the model set in clipSearch.model: {0}', state.localMissing),
			select,
		);
		if (choice === select) {
			await vscode.commands.executeCommand('clipSearch.selectModel');
		}
		return false;
	}
	const size = state.downloadBytes ? ` (${formatBytes(state.downloadBytes)})` : '';
	const download = vscode.l10n.t('Download');
	const local = vscode.l10n.t('Use a Local Folder…');
	const choice = await vscode.window.showInformationMessage(
		vscode.l10n.t('CLIP Image Search needs the model {0}{1} to index your images. It is downloaded once from Hugging Face; images never leave your machine.', state.id, size),
		download,
		local,
	);
	if (choice === local) {
		await vscode.commands.executeCommand('clipSearch.selectModel');
	}
	return choice === download;
}

export async function downloadModel(worker: WorkerClient): Promise<boolean> {
	try {
		await vscode.window.withProgress(
			{ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Downloading the CLIP model'), cancellable: true },
			async (progress, token) => {
				const cancel = token.onCancellationRequested(() => void worker.request('cancelDownload', {}));
				const sub = worker.onEvent(e => {
					if (e.type === 'download' && e.total) {
						progress.report({ message: `${e.file}: ${formatBytes(e.loaded)} / ${formatBytes(e.total)}` });
					}
				});
				try {
					await worker.request('ensureModel', {});
				} finally {
					sub.dispose();
					cancel.dispose();
				}
			},
		);
		return true;
	} catch (err) {
		void vscode.window.showErrorMessage(vscode.l10n.t('{0} To work offline, set "clipSearch.model" to a local model folder.', describeError(err)));
		return false;
	}
}

