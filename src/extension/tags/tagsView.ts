/**
 * @file The "Image Tags" tree (class → images, and groups of duplicates) and the Explorer
 * decorations that show each tagged image's label.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import type { DuplicateGroup } from '../../core/search/duplicates';
import { Disposable } from '../shared/lifecycle';

export interface TagEntry {
	label: string | null;
	score: number;
	labels?: string[];
}

/** A group of near-duplicates, each image with how many places reference it (core/refs/). */
export type UsedDuplicateGroup = DuplicateGroup & { images?: { path: string; uses: number }[] };

export type TagsNode =
	| { kind: 'section'; id: 'tags' | 'duplicates' }
	| { kind: 'class'; name: string; files: string[] }
	| { kind: 'group'; group: UsedDuplicateGroup; root: string; index: number }
	| { kind: 'file'; file: string; detail?: string; duplicate?: { root: string; rel: string; group: UsedDuplicateGroup } };
type Node = TagsNode;

export class TagsModel extends Disposable {
	/** Absolute path → tag. */
	readonly tags = new Map<string, TagEntry>();
	duplicates: { root: string; groups: UsedDuplicateGroup[] }[] = [];
	/** The order of a class's images in the view: least certain first (default), or by name. */
	leastCertainFirst = true;
	private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri[] | undefined>());
	readonly onDidChange = this.changed.event;

	/** Replaces the tags under `root` (or under `scope` inside it). */
	setTags(root: string, entries: Record<string, TagEntry>, scope?: string): void {
		const prefix = scope ? path.join(root, scope) + path.sep : root + path.sep;
		const touched: vscode.Uri[] = [];
		for (const file of [...this.tags.keys()]) {
			if (file.startsWith(prefix)) {
				this.tags.delete(file);
				touched.push(vscode.Uri.file(file));
			}
		}
		for (const [rel, entry] of Object.entries(entries)) {
			const file = path.join(root, ...rel.split('/'));
			this.tags.set(file, entry);
			touched.push(vscode.Uri.file(file));
		}
		this.changed.fire(touched);
	}

	setLeastCertainFirst(on: boolean): void {
		this.leastCertainFirst = on;
		void vscode.commands.executeCommand('setContext', 'clipSearch.tagsLeastCertainFirst', on);
		this.changed.fire(undefined);
	}

	setDuplicates(duplicates: { root: string; groups: UsedDuplicateGroup[] }[]): void {
		this.duplicates = duplicates;
		this.changed.fire(undefined);
	}
}

export class TagsTreeProvider extends Disposable implements vscode.TreeDataProvider<Node> {
	private readonly changed = this.register(new vscode.EventEmitter<Node | undefined>());
	readonly onDidChangeTreeData = this.changed.event;

	constructor(private readonly model: TagsModel) {
		super();
		this.register(model.onDidChange(() => this.changed.fire(undefined)));
	}

	getTreeItem(node: Node): vscode.TreeItem {
		switch (node.kind) {
			case 'section': {
				const item = new vscode.TreeItem(node.id === 'tags' ? vscode.l10n.t('Tags') : vscode.l10n.t('Duplicates'), vscode.TreeItemCollapsibleState.Expanded);
				item.iconPath = new vscode.ThemeIcon(node.id === 'tags' ? 'tag' : 'copy');
				return item;
			}
			case 'class': {
				const item = new vscode.TreeItem(printable(node.name), vscode.TreeItemCollapsibleState.Collapsed);
				item.description = String(node.files.length);
				item.iconPath = new vscode.ThemeIcon('symbol-class');
				item.contextValue = 'clipSearch.class';
				return item;
			}
			case 'group': {
				const item = new vscode.TreeItem(printable(path.basename(node.group.paths[0])), vscode.TreeItemCollapsibleState.Collapsed);
				const uses = node.group.images?.reduce((n, i) => n + i.uses, 0);
				item.description =
					uses === undefined
						? vscode.l10n.t('{0} images · cosine ≥ {1}', node.group.paths.length, node.group.score.toFixed(3))
						: vscode.l10n.t('{0} images · {1} uses · cosine ≥ {2}', node.group.paths.length, uses, node.group.score.toFixed(3));
				item.iconPath = new vscode.ThemeIcon('files');
				return item;
			}
			case 'file': {
				const uri = vscode.Uri.file(node.file);
				const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.None);
				item.description = node.detail;
				item.command = { command: 'vscode.open', title: vscode.l10n.t('Open'), arguments: [uri] };
				item.contextValue = node.duplicate ? 'clipSearch.duplicateImage' : node.detail ? 'clipSearch.taggedImage' : 'clipSearch.image';
				return item;
			}
		}
	}

	getChildren(node?: Node): Node[] {
		if (!node) {
			const sections: Node[] = [];
			if (this.model.tags.size) {
				sections.push({ kind: 'section', id: 'tags' });
			}
			if (this.model.duplicates.some(d => d.groups.length)) {
				sections.push({ kind: 'section', id: 'duplicates' });
			}
			return sections;
		}
		if (node.kind === 'section' && node.id === 'tags') {
			const byClass = new Map<string, string[]>();
			for (const [file, tag] of this.model.tags) {
				for (const name of tag.labels ?? [tag.label ?? vscode.l10n.t('(none of these)')]) {
					byClass.set(name, [...(byClass.get(name) ?? []), file]);
				}
			}
			return [...byClass.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, files]) => ({ kind: 'class', name, files: files.sort() }));
		}
		if (node.kind === 'section') {
			return this.model.duplicates.flatMap(d => d.groups.map((group, index) => ({ kind: 'group' as const, group, root: d.root, index })));
		}
		if (node.kind === 'class') {
			// [Note: least certain first] so a person can check and correct the doubtful tags first.
			const score = (file: string): number => this.model.tags.get(file)?.score ?? 0;
			const files = this.model.leastCertainFirst ? [...node.files].sort((a, b) => score(a) - score(b) || a.localeCompare(b)) : node.files;
			return files.map(file => ({ kind: 'file', file, detail: vscode.l10n.t('p = {0}', score(file).toFixed(3)) }));
		}
		if (node.kind === 'group') {
			return node.group.paths.map(rel => {
				const uses = node.group.images?.find(i => i.path === rel)?.uses;
				return {
					kind: 'file',
					file: path.join(node.root, ...rel.split('/')),
					detail: uses === undefined ? undefined : uses === 0 ? vscode.l10n.t('unused') : uses === 1 ? vscode.l10n.t('1 use') : vscode.l10n.t('{0} uses', uses),
					duplicate: { root: node.root, rel, group: node.group },
				};
			});
		}
		return [];
	}
}

/** Explorer badges: the first letters of an image's label, the label and score as tooltip. */
export class TagDecorations extends Disposable implements vscode.FileDecorationProvider {
	private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri[] | undefined>());
	readonly onDidChangeFileDecorations = this.changed.event;

	constructor(private readonly model: TagsModel) {
		super();
		this.register(model.onDidChange(uris => this.changed.fire(uris)));
	}

	provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
		const tag = this.model.tags.get(uri.fsPath);
		if (!tag?.label) {
			return undefined;
		}
		const names = tag.labels ?? [tag.label];
		return {
			badge: names[0].replace(/[^\p{L}\p{N}]/gu, '').slice(0, 2).toUpperCase() || '#',
			tooltip: vscode.l10n.t('Tagged {0} ({1})', names.join(', '), tag.score.toFixed(2)),
		};
	}
}
