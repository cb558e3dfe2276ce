/**
 * @file How commands are declared and registered: each command file exports CommandDefs; one
 * wrapper registers them all and reports their errors one way (a message with what to do next, and
 * the log), except cancellations, which are silent.
 */
import * as vscode from 'vscode';
import { printable } from '../../core/common/printable';
import { ClipError, describeError } from '../../core/common/errors';
import type { Logger } from '../shared/logger';
import type { ResultsPanel } from '../search/resultsPanel';
import type { StatusBar } from '../indexing/statusBar';
import type { TagsModel } from '../tags/tagsView';
import type { BrokenDiagnostics } from '../refs/brokenDiagnostics';
import type { ReferenceUpdates } from '../refs/referenceUpdates';
import type { UnusedImagesView } from '../refs/unusedView';
import type { TeamStoreAccess } from '../store/teamStore';
import type { WorkerClient } from '../worker/workerClient';
import type { WorkspaceIndex } from '../indexing/workspaceIndex';

/** What commands work with, built once in activate(). */
export interface Services {
	context: vscode.ExtensionContext;
	worker: WorkerClient;
	index: WorkspaceIndex;
	tags: TagsModel;
	panel: ResultsPanel;
	statusBar: StatusBar;
	log: Logger;
	teamStore: TeamStoreAccess;
	/** The image references of the folders (core/refs/): their updates, broken ones in Problems, the Unused Images view. */
	refs: ReferenceUpdates;
	broken: BrokenDiagnostics;
	unused: UnusedImagesView;
}

export interface CommandDef {
	id: string;
	/** Reads the workspace's images, index, classes or tags: runs only in a trusted workspace. */
	needsTrust?: boolean;
	// Command arguments come from VS Code (menus, keybindings, executeCommand) untyped.
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	run: (services: Services, ...args: any[]) => unknown;
}

/** Shows and logs an error, unless it is a cancellation. Returns undefined (what a failed command returns). */
export function reportError(services: Services, err: unknown): undefined {
	if (!ClipError.is(err, 'Cancelled')) {
		const message = printable(describeError(err));
		void vscode.window.showErrorMessage(message);
		services.log.error(message);
	}
	return undefined;
}

export function registerCommands(services: Services, defs: CommandDef[]): vscode.Disposable[] {
	return defs.map(def =>
		vscode.commands.registerCommand(def.id, async (...args: unknown[]) => {
			if (def.needsTrust && !vscode.workspace.isTrusted) {
				// [Note: restricted mode] a repository's files are read only once the person trusts it.
				const manage = vscode.l10n.t('Manage Workspace Trust');
				void vscode.window
					.showInformationMessage(vscode.l10n.t('CLIP Image Search reads the images, index, classes and tags of this workspace only once you trust it.'), manage)
					.then(choice => choice === manage && vscode.commands.executeCommand('workbench.trust.manage'));
				return undefined;
			}
			try {
				return await def.run(services, ...args);
			} catch (err) {
				return reportError(services, err);
			}
		}),
	);
}
