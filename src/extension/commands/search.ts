/** @file Search Images…, Search Images in Folder… and Show Results in Panel. */
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import { type ImageHit, type Refinement, searchWorkspace, showSearchQuickPick } from '../search/searchQuickPick';
import type { CommandDef, Services } from './registry';

/** The results panel, with More/Less like this on each hit ([Note: Rocchio] in core/search/search.ts). */
export function showPanel(services: Services, query: string, hits: ImageHit[], refine: Refinement = {}): Promise<void> {
	const state: Required<Refinement> = { sort: refine.sort ?? 'relevance', like: [...(refine.like ?? [])], unlike: [...(refine.unlike ?? [])] };
	const terms = [...state.like.map(f => `+ ${vscode.workspace.asRelativePath(f)}`), ...state.unlike.map(f => `− ${vscode.workspace.asRelativePath(f)}`)].join(' ');
	const title = vscode.l10n.t('Images: {0}', printable([query, terms].filter(Boolean).join(' ')) || '…');
	return services.panel.show(title, hits, (hit, kind) => {
		const [add, other] = kind === 'more' ? [state.like, state.unlike] : [state.unlike, state.like];
		if (!add.includes(hit.file)) {
			add.push(hit.file);
		}
		const at = other.indexOf(hit.file);
		if (at >= 0) {
			other.splice(at, 1);
		}
		void searchWorkspace(services.worker, services.index, query, undefined, state).then(
			next => showPanel(services, query, next, state),
			(err: unknown) => void vscode.window.showErrorMessage(vscode.l10n.t('Search failed: {0}', String((err as Error)?.message ?? err))),
		);
	});
}

/** Loads the text model for a search that is being typed, saying so in the status bar. */
function warmText(s: Services): () => Promise<unknown> {
	return () => s.statusBar.showWhile(vscode.l10n.t('CLIP: loading the model…'), s.worker.request('warmText', {}));
}

export const searchCommands: CommandDef[] = [
	{
		id: 'clipSearch.search',
		needsTrust: true,
		run: (s, query?: unknown, scope?: unknown, refine?: unknown) =>
			showSearchQuickPick(
				s.worker,
				s.index,
				(q, h, r) => void showPanel(s, q, h, r),
				typeof query === 'string' ? query : undefined,
				scope instanceof vscode.Uri ? scope : undefined,
				warmText(s),
				refineArg(refine),
			),
	},
	{
		id: 'clipSearch.searchInFolder',
		needsTrust: true,
		run: (s, folder?: unknown) => showSearchQuickPick(s.worker, s.index, (q, h, r) => void showPanel(s, q, h, r), undefined, folder instanceof vscode.Uri ? folder : undefined, warmText(s)),
	},
	{
		id: 'clipSearch.showResultsPanel',
		needsTrust: true,
		run: async (s, query?: unknown, refine?: unknown) => {
			const q =
				typeof query === 'string'
					? query
					: await vscode.window.showInputBox({ title: vscode.l10n.t('Show Results in Panel'), prompt: vscode.l10n.t('Describe the image') });
			if (!q) {
				return undefined;
			}
			// A third argument (tests, other extensions): { sort?, like?: string[], unlike?: string[] } (absolute paths).
			const r = refineArg(refine);
			const hits = await searchWorkspace(s.worker, s.index, q, undefined, r);
			await showPanel(s, q, hits, r);
			return hits;
		},
	},
];

function refineArg(v: unknown): Refinement {
	const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
	const paths = (x: unknown): string[] | undefined => (Array.isArray(x) ? x.filter((p): p is string => typeof p === 'string') : undefined);
	const sort = typeof o.sort === 'string' && ['relevance', 'modified', 'name', 'size'].includes(o.sort) ? (o.sort as Refinement['sort']) : undefined;
	return { sort, like: paths(o.like), unlike: paths(o.unlike) };
}
