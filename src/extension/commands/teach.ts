/**
 * @file Teaching classes from the Explorer or the Image Tags view: Add as Examples of Class… and
 * Not This Class. The classes file is edited in place (comments, layout and other keys kept; see
 * core/labels/classesFile.ts) and the folder's tags are brought up to date at once.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../../core/common/atomicFile';
import { addToClass, parseClassesText, readClassesTextIfExists } from '../../core/labels/classesFile';
import { ClipError, describeError } from '../../core/common/errors';
import { classesFileOf } from '../tags/tagsSync';
import type { CommandDef, Services } from './registry';

/** The images a command was given: the Explorer's selection, one item, or a node of the Image Tags view. */
function targets(arg: unknown, selection: unknown): vscode.Uri[] {
	const toUri = (x: unknown): vscode.Uri | undefined =>
		x instanceof vscode.Uri ? x : typeof (x as { file?: unknown })?.file === 'string' ? vscode.Uri.file((x as { file: string }).file) : undefined;
	const many = Array.isArray(selection) ? selection.map(toUri).filter((u): u is vscode.Uri => !!u) : [];
	if (many.length) {
		return many;
	}
	const one = toUri(arg) ?? vscode.window.activeTextEditor?.document.uri;
	return one ? [one] : [];
}

/** One workspace folder for all the images (a classes file belongs to one folder). */
function folderOf(s: Services, uris: vscode.Uri[]): { folder: vscode.WorkspaceFolder; rels: string[] } {
	const folders = new Set(uris.map(u => s.index.folderOf(u.fsPath)));
	const [folder] = [...folders];
	if (!folder || folders.size !== 1) {
		throw new ClipError('InvalidArgument', folders.size > 1 ? 'Teach a class with images of one workspace folder at a time.' : 'Select images inside the workspace.');
	}
	return { folder, rels: uris.map(u => path.relative(folder.uri.fsPath, u.fsPath).split(path.sep).join('/')) };
}

/** The classes file's text, '' when there is none yet (any other failure to read it is an error: nothing is written then). */
async function readIfThere(file: string, root: string): Promise<string> {
	try {
		return (await readClassesTextIfExists(file, { within: root })) ?? '';
	} catch (err) {
		throw new ClipError('FileUnreadable', `Cannot read ${file}: ${describeError(err)} It was not changed.`, { file, cause: err });
	}
}

async function editClasses(s: Services, folder: vscode.WorkspaceFolder, edit: (text: string, file: string) => string): Promise<string> {
	const file = classesFileOf(folder.uri.fsPath);
	const text = await readIfThere(file, folder.uri.fsPath);
	const next = edit(text, vscode.workspace.asRelativePath(file));
	await writeFileAtomic(file, next, { within: folder.uri.fsPath });
	s.log.info(`${vscode.workspace.asRelativePath(file)} updated`);
	await s.index.autoTag(folder);
	return file;
}

export const teachCommands: CommandDef[] = [
	{
		id: 'clipSearch.addExamples',
		needsTrust: true,
		run: async (s, arg?: unknown, selection?: unknown, className?: unknown) => {
			const uris = targets(arg, selection);
			if (!uris.length) {
				void vscode.window.showInformationMessage(vscode.l10n.t('Select images in the Explorer to add them as examples.'));
				return undefined;
			}
			const { folder, rels } = folderOf(s, uris);
			let name = typeof className === 'string' ? className : undefined;
			if (!name) {
				const file = classesFileOf(folder.uri.fsPath);
				const text = await readIfThere(file, folder.uri.fsPath);
				const names = text.trim() ? parseClassesText(text, file).map(c => c.name) : [];
				const create = vscode.l10n.t('$(add) New Class…');
				const pick = await vscode.window.showQuickPick([...names, create], {
					title: vscode.l10n.t('Add {0} image(s) as examples of…', rels.length),
					placeHolder: vscode.l10n.t('A class of {0}', vscode.workspace.asRelativePath(file)),
				});
				name = pick === create ? await vscode.window.showInputBox({ title: vscode.l10n.t('New class'), prompt: vscode.l10n.t('The class name (e.g. "our logo")'), validateInput: v => (v.trim() ? undefined : vscode.l10n.t('Give a name.')) }) : pick;
				name = name?.trim();
			}
			if (!name) {
				return undefined;
			}
			const file = await editClasses(s, folder, (text, file) => addToClass(text, name!, 'examples', rels, file));
			return { classesFile: file, class: name, examples: rels };
		},
	},
	{
		id: 'clipSearch.notThisClass',
		needsTrust: true,
		run: async (s, arg?: unknown, selection?: unknown) => {
			const uris = targets(arg, selection);
			const tagged = uris.filter(u => s.tags.tags.get(u.fsPath)?.label);
			if (!tagged.length) {
				void vscode.window.showInformationMessage(vscode.l10n.t('These images have no tag to correct. Label them first (CLIP: Label Images…, or a .vscode/image-labels.json).'));
				return undefined;
			}
			const { folder, rels } = folderOf(s, tagged);
			const byClass = new Map<string, string[]>();
			tagged.forEach((u, i) => {
				const label = s.tags.tags.get(u.fsPath)!.label!;
				byClass.set(label, [...(byClass.get(label) ?? []), rels[i]]);
			});
			const file = await editClasses(s, folder, (text, file) => [...byClass].reduce((t, [name, paths]) => addToClass(t, name, 'negatives', paths, file), text));
			return { classesFile: file, negatives: Object.fromEntries(byClass) };
		},
	},
	{ id: 'clipSearch.tags.leastCertainFirst', run: s => s.tags.setLeastCertainFirst(true) },
	{ id: 'clipSearch.tags.byName', run: s => s.tags.setLeastCertainFirst(false) },
];
