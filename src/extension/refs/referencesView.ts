/**
 * @file Shows the places that use an image in VS Code's References view, through the API the built-in
 * references-view extension offers other extensions (a "symbol tree input": a title, an anchor and a
 * tree of file → references). The anchor must be a place in a text file, so it is the first
 * reference. Where that extension is not there, the same places open in a peek view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import type { ReferenceRow } from '../../core/refs/folderUses';

/** The parts of the references-view extension's API used here (its references-view.d.ts). */
interface SymbolTreeModel<T> {
	provider: vscode.TreeDataProvider<T>;
	message: string | undefined;
	navigation?: { nearest(uri: vscode.Uri, position: vscode.Position): T | undefined; next(from: T): T; previous(from: T): T; location(item: T): vscode.Location | undefined };
	highlights?: { getEditorHighlights(item: T, uri: vscode.Uri): vscode.Range[] | undefined };
}
interface SymbolTreeInput<T> {
	readonly contextValue: string;
	readonly title: string;
	readonly location: vscode.Location;
	resolve(): vscode.ProviderResult<SymbolTreeModel<T>>;
	with(location: vscode.Location): SymbolTreeInput<T>;
}
interface SymbolTree {
	setInput(input: SymbolTreeInput<unknown>): void;
}

/** One use, where it is. */
export interface ImageUse {
	uri: vscode.Uri;
	range: vscode.Range;
	row: ReferenceRow;
}

type Node = { kind: 'file'; uri: vscode.Uri; uses: ImageUse[] } | { kind: 'use'; use: ImageUse; parent: Node };

/** The uses of one image as a tree: each file, then each place in it. */
class UsesTree implements vscode.TreeDataProvider<Node> {
	private readonly files: Extract<Node, { kind: 'file' }>[];
	private readonly flat: Extract<Node, { kind: 'use' }>[];

	constructor(uses: ImageUse[]) {
		const byFile = new Map<string, ImageUse[]>();
		for (const u of uses) {
			byFile.set(u.uri.toString(), [...(byFile.get(u.uri.toString()) ?? []), u]);
		}
		this.files = [...byFile.values()].map(list => ({ kind: 'file', uri: list[0].uri, uses: list }));
		this.flat = this.files.flatMap(f => f.uses.map(use => ({ kind: 'use' as const, use, parent: f })));
	}

	getTreeItem(node: Node): vscode.TreeItem {
		if (node.kind === 'file') {
			const item = new vscode.TreeItem(node.uri, vscode.TreeItemCollapsibleState.Expanded);
			item.description = vscode.workspace.asRelativePath(path.dirname(node.uri.fsPath));
			return item;
		}
		const { row, uri, range } = node.use;
		const item = new vscode.TreeItem(`${printable(row.text)}`, vscode.TreeItemCollapsibleState.None);
		item.description = `${row.line}:${row.column}${row.wrongCase ? ` · ${vscode.l10n.t('wrong case')}` : ''}`;
		item.tooltip = `${printable(row.target)} (${row.syntax})`;
		item.command = { command: 'vscode.open', title: vscode.l10n.t('Open'), arguments: [uri, { selection: range }] };
		return item;
	}

	getChildren(node?: Node): Node[] {
		return !node ? this.files : node.kind === 'file' ? this.flat.filter(u => u.parent === node) : [];
	}

	getParent(node: Node): Node | undefined {
		return node.kind === 'use' ? node.parent : undefined;
	}

	model(count: number, image: string): SymbolTreeModel<Node> {
		const flat = this.flat;
		const at = (n: Node): number => (n.kind === 'use' ? flat.indexOf(n) : flat.findIndex(u => u.parent === n));
		return {
			provider: this,
			message: vscode.l10n.t('{0} uses of {1} in {2} files', count, image, this.files.length),
			navigation: {
				nearest: (uri, position) => flat.find(u => u.use.uri.toString() === uri.toString() && u.use.range.contains(position)) ?? flat.find(u => u.use.uri.toString() === uri.toString()),
				next: n => flat[(at(n) + 1) % flat.length] ?? n,
				previous: n => flat[(at(n) - 1 + flat.length) % flat.length] ?? n,
				location: n => (n.kind === 'use' ? new vscode.Location(n.use.uri, n.use.range) : undefined),
			},
			highlights: { getEditorHighlights: (_n, uri) => flat.filter(u => u.use.uri.toString() === uri.toString()).map(u => u.use.range) },
		};
	}
}

/** Shows `uses` of `image` (a display name) in the References view, or a peek view without it. */
export async function showImageUses(image: string, uses: ImageUse[]): Promise<'references-view' | 'peek'> {
	const first = uses[0];
	const title = vscode.l10n.t('Uses of {0}', image);
	const api = await vscode.extensions
		.getExtension<SymbolTree>('vscode.references-view')
		?.activate()
		.then(
			a => a,
			() => undefined,
		);
	if (api?.setInput) {
		const tree = new UsesTree(uses);
		const input = (location: vscode.Location): SymbolTreeInput<Node> => ({
			contextValue: 'clipSearch.imageUses',
			title,
			location,
			resolve: () => tree.model(uses.length, image),
			with: l => input(l),
		});
		api.setInput(input(new vscode.Location(first.uri, first.range.start)));
		return 'references-view';
	}
	await vscode.commands.executeCommand(
		'editor.action.peekLocations',
		first.uri,
		first.range.start,
		uses.map(u => new vscode.Location(u.uri, u.range)),
		'peek',
	);
	return 'peek';
}
