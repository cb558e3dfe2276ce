/**
 * @file "Show Results in Panel": a webview grid of thumbnails with scores. Strict CSP with a nonce,
 * no remote loads; local resources limited to media/ and the thumbnail cache; thumbnails go
 * through asWebviewUri. The webview only ever sends back the index of a result, never a path.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import { whyText } from '../../core/search/hitOrder';
import { Disposable } from '../shared/lifecycle';
import type { ImageHit } from './searchQuickPick';
import type { WorkerClient } from '../worker/workerClient';

interface PanelMessage {
	type: 'open' | 'reveal' | 'more' | 'less';
	index: number;
}

/** More/Less like this on a hit: the caller searches again and shows the new results. */
export type PanelRefine = (hit: ImageHit, kind: 'more' | 'less') => void;

export class ResultsPanel extends Disposable {
	private panel: vscode.WebviewPanel | undefined;
	private hits: ImageHit[] = [];
	private refine: PanelRefine | undefined;
	private calls = 0;

	constructor(
		private readonly extensionUri: vscode.Uri,
		private readonly thumbnailDir: vscode.Uri,
		private readonly worker: WorkerClient,
	) {
		super();
	}

	async show(title: string, hits: ImageHit[], refine?: PanelRefine): Promise<void> {
		// Thumbnails take a while: a later call may have started meanwhile. Only the latest shows its
		// results, and the hits that messages index into are always the ones on screen.
		const call = ++this.calls;
		const thumbs = await Promise.all(hits.map(h => this.worker.request('thumbnail', { file: h.file, size: 256 }).catch(() => undefined)));
		if (call !== this.calls || this.disposed) {
			return;
		}
		const panel = this.panel ?? this.createPanel(title);
		panel.title = title;
		this.hits = hits;
		this.refine = refine;
		panel.webview.html = this.html(panel.webview, title, hits, thumbs, !!refine);
		panel.reveal();
	}

	/** The hit shown at `index` (a webview context menu's command names only the index). */
	hitAt(index: number): ImageHit | undefined {
		return Number.isInteger(index) ? this.hits[index] : undefined;
	}

	private createPanel(title: string): vscode.WebviewPanel {
		const panel = vscode.window.createWebviewPanel('clipSearch.results', title, vscode.ViewColumn.Active, {
			enableScripts: true,
			retainContextWhenHidden: false,
			localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media'), this.thumbnailDir],
		});
		panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
		// The panel's listeners live as long as the panel: released when it closes, not kept by this object.
		const listeners = [panel.webview.onDidReceiveMessage((m: PanelMessage) => this.onMessage(m))];
		listeners.push(
			panel.onDidDispose(() => {
				this.panel = undefined;
				this.hits = [];
				listeners.forEach(l => l.dispose());
			}),
		);
		this.panel = panel;
		return panel;
	}

	private onMessage(m: PanelMessage): void {
		// Only an index into the results we sent: no path from the webview is ever used.
		const hit = Number.isInteger(m?.index) ? this.hits[m.index] : undefined;
		if (!hit) {
			return;
		}
		const uri = vscode.Uri.file(hit.file);
		if (m.type === 'open') {
			void vscode.commands.executeCommand('vscode.open', uri);
		} else if (m.type === 'reveal') {
			void vscode.commands.executeCommand('revealInExplorer', uri);
		} else if ((m.type === 'more' || m.type === 'less') && this.refine) {
			this.refine(hit, m.type);
		}
	}

	private html(webview: vscode.Webview, title: string, hits: ImageHit[], thumbs: (string | undefined)[], refinable: boolean): string {
		const nonce = randomBytes(16).toString('base64');
		const esc = (s: string): string => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
		const css = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'results.css'));
		const js = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'results.js'));
		const more = esc(vscode.l10n.t('More like this'));
		const less = esc(vscode.l10n.t('Less like this'));
		const cells = hits
			.map((h, i) => {
				const src = thumbs[i] ? webview.asWebviewUri(vscode.Uri.file(thumbs[i]!)).toString() : '';
				// Why it matched, in full: the score, each term's cosine, the text line, the tag, a near-duplicate.
				const why = printable(whyText(h.why ?? (h.text !== undefined ? { text: h.text } : undefined)));
				const refine = refinable
					? `<span class="refine"><button class="act" data-index="${i}" data-act="more" title="${more}" aria-label="${more}: ${esc(path.basename(h.file))}">+</button><button class="act" data-index="${i}" data-act="less" title="${less}" aria-label="${less}: ${esc(path.basename(h.file))}">−</button></span>`
					: '';
				// The context menu (package.json webview/context) gets the index only: commands look the hit up.
				const context = esc(JSON.stringify({ webviewSection: 'hit', index: i, preventDefaultContextMenuItems: true }));
				return `<li><button class="hit" data-index="${i}" data-vscode-context="${context}" title="${esc(h.rel)}">${src ? `<img src="${esc(src)}" alt="${esc(path.basename(h.file))}">` : '<span class="missing">?</span>'}<span class="name">${esc(path.basename(h.file))}</span><span class="score">${h.score.toFixed(3)}</span>${why ? `<span class="why">${esc(why)}</span>` : ''}</button>${refine}</li>`;
			})
			.join('');
		return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource}; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${css}" rel="stylesheet"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>${hits.length ? `<ul class="grid" role="list">${cells}</ul>` : `<p>${esc(vscode.l10n.t('No matching images.'))}</p>`}
<script nonce="${nonce}" src="${js}"></script></body></html>`;
	}

	override dispose(): void {
		this.panel?.dispose();
		super.dispose();
	}
}
