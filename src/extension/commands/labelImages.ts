/** @file Label Images…: zero-shot tags for a folder, written to .vscode/image-tags.json. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseClassesText, readClassesTextIfExists } from '../../core/labels/classesFile';
import { type ImageLabel, type LabelClass, parseClasses } from '../../core/labels/labeler';
import { readTagsFile, writeTagsFile } from '../../core/labels/tagsFile';
import { readSettings, SECTION, SettingKeys } from '../shared/settings';
import { classesFileOf, tagsFileOf } from '../tags/tagsSync';
import type { CommandDef } from './registry';

/** The classes: .vscode/image-labels.json, else clipSearch.labels, else typed in. */
async function readClasses(folder: vscode.WorkspaceFolder): Promise<LabelClass[] | undefined> {
	const file = classesFileOf(folder.uri.fsPath);
	const text = await readClassesTextIfExists(file, { within: folder.uri.fsPath });
	if (text !== undefined) {
		return parseClassesText(text, file);
	}
	const configured = readSettings(folder.uri).labels;
	if (Object.keys(configured).length >= 2) {
		return parseClasses(configured, `${SECTION}.${SettingKeys.labels}`);
	}
	const typed = await vscode.window.showInputBox({
		title: vscode.l10n.t('Label Images'),
		prompt: vscode.l10n.t('Classes to choose from, separated by commas (or set clipSearch.labels, or write .vscode/image-labels.json)'),
		placeHolder: 'screenshot, photo, diagram, icon, logo',
		validateInput: v => (v.split(',').filter(x => x.trim()).length >= 2 ? undefined : vscode.l10n.t('Give at least two classes.')),
	});
	return typed ? parseClasses(typed) : undefined;
}

export const labelImagesCommand: CommandDef = {
	id: 'clipSearch.labelImages',
	needsTrust: true,
	run: async (s, target?: unknown) => {
		const folder = target instanceof vscode.Uri ? s.index.folderOf(target.fsPath) : s.index.folders()[0]?.folder;
		if (!folder) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Open a folder with images to label them.'));
			return undefined;
		}
		const classes = await readClasses(folder);
		if (!classes) {
			return undefined;
		}
		await s.index.idle();
		const root = folder.uri.fsPath;
		const ref = s.index.folderRef(folder);
		const scope = target instanceof vscode.Uri && target.fsPath !== root ? path.relative(root, target.fsPath).split(path.sep).join('/') : undefined;
		const settings = readSettings(folder.uri);
		const { labels, key, warnings } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Labelling images…') }, () =>
			s.worker.request('label', { folder: ref, classes, threshold: settings.labelThreshold || undefined, scope }),
		);
		warnings.forEach(w => s.log.warn(w));
		const tagsFile = tagsFileOf(root);
		// Labelling one folder keeps the tags of the others.
		// A file there that is not a tags file is refused by writeTagsFile below, never replaced.
		const previous = await readTagsFile(tagsFile, root).catch(() => undefined);
		const kept: ImageLabel[] = Object.entries(previous?.images ?? {})
			.filter(([rel]) => scope && !rel.startsWith(`${scope}/`))
			.map(([rel, t]) => ({ path: rel, label: t.label, score: t.score, scores: {}, ...(t.labels ? { labels: t.labels } : {}) }));
		const merged = [...kept, ...labels];
		const model = (await s.worker.request('status', { folder: ref }))?.model.key ?? '';
		// A labelling of everything carries the labeller's key, so auto-tagging takes it as current.
		await writeTagsFile(tagsFile, merged, { model, classes, key: scope ? undefined : key, classesFile: classesFileOf(root), within: root });
		s.tags.setTags(root, Object.fromEntries(merged.map(l => [l.path, { label: l.label, score: l.score, labels: l.labels }])));
		const counted = classes.map(c => `${c.name}: ${labels.filter(l => l.label === c.name).length}`).join(', ');
		void vscode.window.showInformationMessage(vscode.l10n.t('Labelled {0} images ({1}). Tags written to {2}.', labels.length, counted, vscode.workspace.asRelativePath(tagsFile)));
		return { tagsFile, labels };
	},
};
