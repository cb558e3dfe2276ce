/**
 * @file The editor's side of a team store (core/store): which store to use (core/store/storeChoice.ts:
 * a workspace's choice is asked about once), its password from SecretStorage (set with CLIP: Set Team
 * Store Password…, never from settings), and what the worker is told. The worker pulls vectors during
 * background indexing; pushing stays a CI job (clip-search index --push), so a developer's editor
 * needs only a role that may SELECT.
 */
import * as vscode from 'vscode';
import { decideStore, type StoreDecision, type StoreSettingSource, storeSecretKey } from '../../core/store/storeChoice';
import { Disposable } from '../shared/lifecycle';
import type { Logger } from '../shared/logger';
import { readSettings, SECTION, SettingKeys } from '../shared/settings';
import type { WorkerConfig } from '../worker/protocol';

const APPROVED_KEY = 'clipSearch.store.approved';

export class TeamStoreAccess extends Disposable {
	private readonly declined = new Set<string>();
	private asking?: Promise<void>;
	private reported?: string;
	private readonly changed = this.register(new vscode.EventEmitter<void>());
	/** Fires when the person's answer or the password changes what the worker should be told. */
	readonly onDidChange = this.changed.event;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly log: Logger,
	) {
		super();
		this.register(
			context.secrets.onDidChange(e => {
				if (e.key.startsWith('clipSearch.store.password:')) {
					this.changed.fire();
				}
			}),
		);
	}

	private decision(): StoreDecision {
		const c = vscode.workspace.getConfiguration(SECTION);
		const seen = c.inspect<string>(SettingKeys.store);
		// [Note: restricted mode] In an untrusted workspace VS Code already ignores workspace values of
		// this restricted setting; a trusted one's choice is still asked about (it sends paths and hashes away).
		const source: StoreSettingSource = seen?.workspaceFolderValue !== undefined || seen?.workspaceValue !== undefined ? 'workspace' : seen?.globalValue !== undefined ? 'user' : 'default';
		const approved = new Set(this.context.globalState.get<string[]>(APPROVED_KEY, []));
		return decideStore(readSettings().store, source, approved, this.declined);
	}

	/** The label of the store in use, for status and logs; undefined when local. */
	get label(): string | undefined {
		const d = this.decision();
		return d.kind === 'use' ? d.label : undefined;
	}

	/** What the worker gets: the store, with its password, or nothing (local). Never waits on a question. */
	async workerStore(): Promise<WorkerConfig['store']> {
		const d = this.decision();
		if (d.kind === 'invalid') {
			if (this.reported !== d.message) {
				this.reported = d.message;
				this.log.error(d.message);
				void vscode.window.showErrorMessage(d.message);
			}
			return undefined;
		}
		if (d.kind === 'ask') {
			this.asking ??= this.ask(d.url, d.label).finally(() => (this.asking = undefined));
			return undefined;
		}
		if (d.kind === 'local') {
			return undefined;
		}
		const password = await this.context.secrets.get(d.secretKey);
		const caFile = readSettings().storeCaFile || undefined;
		this.log.info(`team store: ${d.label} (password ${password ? 'from SecretStorage' : 'from PGPASSWORD or ~/.pgpass, if any'}${caFile ? `, CA ${caFile}` : ''})`);
		return { url: d.url, password, caFile };
	}

	private async ask(url: string, label: string): Promise<void> {
		const use = vscode.l10n.t('Use Team Store');
		const local = vscode.l10n.t('Keep Local');
		const choice = await vscode.window.showWarningMessage(
			vscode.l10n.t('This workspace\'s settings name a team store: {0}. Using it sends the content hashes and paths of this workspace\'s images to that server, to fetch vectors already computed there. Use it?', label),
			{ modal: true },
			local, // first, so the default (Enter) keeps everything here
			use,
		);
		if (choice === use) {
			const approved = this.context.globalState.get<string[]>(APPROVED_KEY, []);
			await this.context.globalState.update(APPROVED_KEY, [...new Set([...approved, url])]);
			this.log.info(`team store ${label}: approved for this workspace's settings`);
		} else {
			this.declined.add(url);
			this.log.info(`team store ${label}: declined; indexing stays local in this session`);
		}
		this.changed.fire();
	}

	/** CLIP: Set Team Store Password…: kept in SecretStorage under the store's address; empty clears it. */
	async setPassword(): Promise<boolean> {
		const url = readSettings().store;
		let key: string;
		try {
			if (!url || url === 'local') {
				throw new Error(vscode.l10n.t('Set clipSearch.store to the team store\'s postgres:// URL (without a password) first.'));
			}
			key = storeSecretKey(url);
		} catch (err) {
			void vscode.window.showErrorMessage((err as Error).message);
			return false;
		}
		const password = await vscode.window.showInputBox({
			title: vscode.l10n.t('Team Store Password'),
			prompt: vscode.l10n.t('The password for {0}, kept in VS Code\'s secret storage (leave empty to forget it)', key.replace('clipSearch.store.password:', '')),
			password: true,
			ignoreFocusOut: true,
		});
		if (password === undefined) {
			return false;
		}
		if (password) {
			await this.context.secrets.store(key, password);
		} else {
			await this.context.secrets.delete(key);
		}
		return true;
	}
}
