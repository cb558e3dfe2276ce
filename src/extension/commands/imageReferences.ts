/**
 * @file Where each image is used, in the editor: Find Image References (Explorer, editor title,
 * results panel) into the References view; Use This One Everywhere on a near-duplicate; the Unused
 * Images view's refresh, reveal and delete; and the "Find Similar Image…" quick fix of a broken
 * reference. The answers come from the worker (core/refs/).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import { formatBytes } from '../../core/common/sizes';
import { isImagePath } from '../../core/index/imageFiles';
import type { BrokenAt } from '../refs/brokenDiagnostics';
import { showImageUses } from '../refs/referencesView';
import type { UnusedNode } from '../refs/unusedView';
import { useEverywhere } from '../refs/useEverywhere';
import type { TagsNode } from '../tags/tagsView';
import type { CommandDef, Services } from './registry';

/** The image a command was run on: an Explorer item, a results panel hit (by its index), or the active editor. */
function imageOf(s: Services, target: unknown): vscode.Uri | undefined {
	if (target instanceof vscode.Uri) {
		return target;
	}
	const hitIndex = (target as { webviewSection?: string; index?: unknown } | undefined)?.index;
	if (typeof hitIndex === 'number') {
		// A results panel hit: only its index comes from the webview, never a path.
		const hit = s.panel.hitAt(hitIndex);
		return hit ? vscode.Uri.file(hit.file) : undefined;
	}
	const active = vscode.window.activeTextEditor?.document.uri ?? (vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: vscode.Uri } | undefined)?.uri;
	return active && isImagePath(active.fsPath) ? active : undefined;
}

const relativeTo = (root: string, file: string): string => path.relative(root, file).split(path.sep).join('/');

const findImageReferencesCommand: CommandDef = {
	id: 'clipSearch.findImageReferences',
	needsTrust: true,
	run: async (s, target?: unknown) => {
		const uri = imageOf(s, target);
		const folder = uri && s.index.folderOf(uri.fsPath);
		if (!uri || !folder) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Select an image in the workspace to find where it is used.'));
			return undefined;
		}
		const root = folder.uri.fsPath;
		const rows = await s.log.time('references', () => s.worker.request('imageRefs', { folder: s.index.folderRef(folder), image: relativeTo(root, uri.fsPath) }));
		const name = path.basename(uri.fsPath);
		if (!rows.length) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Nothing in {0} references {1} (Markdown, HTML, CSS, scripts, JSON and YAML were read).', folder.name, printable(name)));
			return { rows, shownIn: undefined };
		}
		const uses = rows.map(row => {
			const start = new vscode.Position(row.line - 1, row.column - 1);
			return { uri: vscode.Uri.file(path.join(root, ...row.file.split('/'))), range: new vscode.Range(start, start.translate(0, row.target.length)), row };
		});
		const shownIn = await showImageUses(printable(name), uses);
		return { rows, shownIn };
	},
};

const useEverywhereCommand: CommandDef = {
	id: 'clipSearch.useEverywhere',
	needsTrust: true,
	run: async (s, node?: TagsNode, options?: { deleteOthers?: boolean }) => {
		const dup = node?.kind === 'file' ? node.duplicate : undefined;
		const folder = dup && s.index.folderOf(dup.root);
		if (!dup || !folder) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Run Find Duplicate Images, then choose the copy to keep in the Image Tags view.'));
			return undefined;
		}
		const others = dup.group.paths.filter(p => p !== dup.rel);
		const rewrites = await s.worker.request('rewrites', { folder: s.index.folderRef(folder), keep: dup.rel, others });
		const outcome = await useEverywhere(dup.root, dup.rel, others, rewrites, async (list, rewritten) => {
			if (options?.deleteOthers !== undefined) {
				return options.deleteOthers; // the caller decided (tests, a script)
			}
			const del = vscode.l10n.t('Move to Trash');
			const question =
				list.length === 1
					? vscode.l10n.t('{0} references now use {1}. Move the other copy to the trash? ({2})', rewritten, printable(dup.rel), printable(list[0]))
					: vscode.l10n.t('{0} references now use {1}. Move the other {2} copies to the trash? ({3})', rewritten, printable(dup.rel), list.length, list.map(printable).join(', '));
			const choice = await vscode.window.showInformationMessage(question, { modal: true }, del);
			return choice === del;
		});
		s.log.info(`use everywhere: ${outcome.rewritten} reference(s) in ${outcome.files} file(s) now name ${dup.rel}; ${outcome.deleted.length} copies moved to the trash`);
		// The group as it is now: the kept image has every use, the others none (or are gone).
		const total = dup.group.images?.reduce((n, i) => n + i.uses, 0) ?? outcome.rewritten;
		const now = outcome.deleted.length
			? undefined
			: { ...dup.group, images: dup.group.paths.map(p => ({ path: p, uses: p === dup.rel ? total : 0 })) };
		s.tags.setDuplicates(s.tags.duplicates.map(d => (d.root === dup.root ? { ...d, groups: d.groups.flatMap(g => (g !== dup.group ? [g] : now ? [now] : [])) } : d)));
		return outcome;
	},
};

const unusedRefreshCommand: CommandDef = {
	id: 'clipSearch.unused.refresh',
	needsTrust: true,
	run: s => s.unused.invalidate(),
};

const unusedRevealCommand: CommandDef = {
	id: 'clipSearch.unused.reveal',
	run: async (_s, node?: UnusedNode) => {
		if (node?.kind === 'image') {
			await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(path.join(node.root, ...node.path.split('/'))));
		}
	},
};

const unusedDeleteCommand: CommandDef = {
	id: 'clipSearch.unused.delete',
	needsTrust: true,
	run: async (s, node?: UnusedNode, selected?: UnusedNode[], options?: { confirmed?: boolean }) => {
		// Only images the view lists as unused: a possibly used one (a pattern may name it) is never deleted here.
		const images = (selected?.length ? selected : node ? [node] : []).filter((n): n is Extract<UnusedNode, { kind: 'image' }> => n.kind === 'image' && !n.by);
		if (!images.length) {
			return [];
		}
		const bytes = images.reduce((n, i) => n + i.size, 0);
		if (!options?.confirmed) {
			const del = vscode.l10n.t('Move to Trash');
			const detail = images
				.slice(0, 10)
				.map(i => printable(i.path))
				.join('\n');
			const choice = await vscode.window.showWarningMessage(
				images.length === 1 ? vscode.l10n.t('Move {0} ({1}) to the trash?', printable(images[0].path), formatBytes(bytes)) : vscode.l10n.t('Move {0} unused images ({1}) to the trash?', images.length, formatBytes(bytes)),
				{ modal: true, detail: `${detail}${images.length > 10 ? '\n…' : ''}\n\n${vscode.l10n.t('Nothing in the workspace references them; a website or another repository still might.')}` },
				del,
			);
			if (choice !== del) {
				return [];
			}
		}
		const deleted: string[] = [];
		for (const i of images) {
			const uri = vscode.Uri.file(path.join(i.root, ...i.path.split('/')));
			try {
				await vscode.workspace.fs.delete(uri, { useTrash: true });
				deleted.push(i.path);
			} catch (err) {
				// Never a permanent delete instead: the person chose the trash.
				void vscode.window.showErrorMessage(vscode.l10n.t('{0} could not be moved to the trash ({1}); it was left as it is.', printable(i.path), printable(String((err as Error).message ?? err))));
			}
		}
		s.unused.invalidate();
		return deleted;
	},
};

const replaceBrokenImageCommand: CommandDef = {
	id: 'clipSearch.replaceBrokenImage',
	needsTrust: true,
	run: async (s, uri?: vscode.Uri, range?: vscode.Range, at?: BrokenAt) => {
		const folder = at && s.index.folderOf(at.root);
		if (!uri || !range || !at || !folder) {
			return undefined;
		}
		const candidates = await s.worker.request('replacements', {
			folder: s.index.folderRef(folder),
			file: at.link.file,
			target: at.link.target,
			syntax: at.link.syntax,
			missing: at.link.expected ?? at.link.target,
			k: 10,
		});
		if (!candidates.length) {
			void vscode.window.showInformationMessage(vscode.l10n.t('No image to suggest for {0}: the folder is not indexed yet, or the model is not there.', printable(at.link.target)));
			return undefined;
		}
		const pick = await vscode.window.showQuickPick(
			candidates.map(c => ({
				label: printable(path.posix.basename(c.path)),
				description: printable(path.posix.dirname(c.path)),
				detail: c.why === 'remembered' ? vscode.l10n.t('looks like what {0} was (cosine {1})', printable(at.link.target), c.score.toFixed(3)) : vscode.l10n.t('matches the name "{0}" (cosine {1})', printable(path.posix.basename(at.link.target)), c.score.toFixed(3)),
				iconPath: vscode.Uri.file(path.join(at.root, ...c.path.split('/'))),
				candidate: c,
			})),
			{ title: vscode.l10n.t('Replace {0} with…', printable(at.link.target)), matchOnDescription: true },
		);
		if (!pick) {
			return undefined;
		}
		const doc = await vscode.workspace.openTextDocument(uri);
		if (doc.getText(range) !== at.link.target) {
			void vscode.window.showWarningMessage(vscode.l10n.t('{0} changed: the reference is no longer where it was. Nothing was replaced.', printable(at.link.file)));
			return undefined;
		}
		const edit = new vscode.WorkspaceEdit();
		edit.replace(uri, range, pick.candidate.target);
		await vscode.workspace.applyEdit(edit);
		return pick.candidate.target;
	},
};

export const imageReferenceCommands: CommandDef[] = [findImageReferencesCommand, useEverywhereCommand, unusedRefreshCommand, unusedRevealCommand, unusedDeleteCommand, replaceBrokenImageCommand];
