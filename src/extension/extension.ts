/**
 * @file Activation: wires the worker, the background indexer, the status bar, the commands, the tag
 * view and the results panel. Activation loads no model and scans nothing; the committed indexes and
 * the tags files are read right after it, and indexing starts when the workspace has images and
 * indexing is on.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_EXCLUDE, DEFAULT_INCLUDE } from '../core/index/imageFiles';
import { defaultModelCache } from '../core/common/paths';
import { unsupportedPlatform } from '../core/common/platform';
import { AgentTools } from './agents/agentTools';
import { agentSetupCommand } from './commands/agentSetup';
import { imageReferenceCommands } from './commands/imageReferences';
import { findDuplicatesCommand } from './commands/findDuplicates';
import { findSimilarCommand } from './commands/findSimilar';
import { indexingCommands } from './commands/indexing';
import { labelImagesCommand } from './commands/labelImages';
import { organizeByLabelCommand } from './commands/organizeByLabel';
import { quickMenuCommands } from './commands/quickMenu';
import { registerCommands, type Services } from './commands/registry';
import { searchCommands } from './commands/search';
import { selectModelCommand } from './commands/selectModel';
import { showStatusCommand } from './commands/showStatus';
import { teachCommands } from './commands/teach';
import { setStorePasswordCommand } from './commands/teamStore';
import { toDisposable } from './shared/lifecycle';
import { Logger } from './shared/logger';
import { BrokenDiagnostics } from './refs/brokenDiagnostics';
import { ReferenceUpdates } from './refs/referenceUpdates';
import { UnusedImagesView } from './refs/unusedView';
import { ResultsPanel } from './search/resultsPanel';
import { affectsUs, readSettings, SECTION, SettingKeys } from './shared/settings';
import { StatusBar } from './indexing/statusBar';
import { TagsSync } from './tags/tagsSync';
import { TeamStoreAccess } from './store/teamStore';
import { TagDecorations, TagsModel, TagsTreeProvider } from './tags/tagsView';
import { WorkerClient } from './worker/workerClient';
import type { WorkerConfig } from './worker/protocol';
import { committedImages, WorkspaceIndex } from './indexing/workspaceIndex';

let worker: WorkerClient | undefined;

async function workerConfig(context: vscode.ExtensionContext, teamStore: TeamStoreAccess): Promise<WorkerConfig> {
	const s = readSettings();
	// [Note: thread budget] By default inference leaves one core to the editor (and at least one
	// thread on a single-core machine), so typing stays responsive while a folder is indexed.
	const threads = s.threads > 0 ? s.threads : Math.max(1, os.availableParallelism() - 1);
	return {
		model: s.model,
		variant: s.modelVariant,
		provider: s.executionProvider,
		threads,
		modelCacheDir: defaultModelCache(),
		legacyModelCacheDirs: [path.join(context.globalStorageUri.fsPath, 'models')],
		thumbnailDir: path.join(context.globalStorageUri.fsPath, 'thumbnails'),
		maxImagePixels: s.maxImageMegapixels * 1_000_000,
		include: s.include.length ? s.include : DEFAULT_INCLUDE,
		exclude: s.exclude,
		ocr: s.ocr,
		store: await teamStore.workerStore(),
		unloadAfterIdleMinutes: s.unloadAfterIdleMinutes,
		publicFolders: s.publicFolders,
		int8Kernels: s.int8Kernels,
	};
}

export async function activate(context: vscode.ExtensionContext): Promise<unknown> {
	const started = performance.now();
	const unsupported = unsupportedPlatform();
	if (unsupported) {
		void vscode.window.showErrorMessage(unsupported);
		return undefined;
	}
	const log = new Logger('CLIP Image Search');
	context.subscriptions.push(log);
	const client = new WorkerClient(path.join(context.extensionPath, 'dist'), line => log.info(`worker: ${line}`));
	worker = client;
	context.subscriptions.push(toDisposable(() => void client.dispose()));
	context.subscriptions.push(
		client.onEvent(e => {
			if (e.type === 'log') {
				log[e.level](e.message);
			}
		}),
	);
	const teamStore = new TeamStoreAccess(context, log);
	context.subscriptions.push(teamStore);
	await client.configure(await workerConfig(context, teamStore));

	const index = new WorkspaceIndex(context, client, log);
	const tags = new TagsModel();
	const panel = new ResultsPanel(context.extensionUri, vscode.Uri.file(path.join(context.globalStorageUri.fsPath, 'thumbnails')), client);
	const statusBar = new StatusBar(index);
	context.subscriptions.push(client.onEvent(e => e.type === 'stage' && statusBar.setStage(e.key, e.message)));
	const tagsSync = new TagsSync(tags, log);
	context.subscriptions.push(index, tags, panel, statusBar, tagsSync);
	const tree = new TagsTreeProvider(tags);
	context.subscriptions.push(tree, vscode.window.createTreeView('clipSearch.tags', { treeDataProvider: tree, showCollapseAll: true }));
	const decorations = new TagDecorations(tags);
	context.subscriptions.push(decorations, vscode.window.registerFileDecorationProvider(decorations));

	const agentTools = new AgentTools(client, index, context.extensionPath);
	context.subscriptions.push(agentTools);

	// Where each image is used (core/refs/): kept current by a watcher, broken references in Problems, unused images in a view.
	const refs = new ReferenceUpdates(client, index, log);
	const broken = new BrokenDiagnostics(client, index, refs, log);
	const unused = new UnusedImagesView(client, index, refs, log);
	context.subscriptions.push(refs, broken, unused);
	// A finished index run changes which images there are (and what moved ones were): the unused list follows.
	context.subscriptions.push(
		index.onDidFinishRun(root => {
			unused.invalidate();
			void broken.refresh(root); // a moved image's new place comes from the index
		}),
	);

	const services: Services = { context, worker: client, index, tags, panel, statusBar, log, teamStore, refs, broken, unused };
	context.subscriptions.push(
		...registerCommands(services, [
			...searchCommands,
			findSimilarCommand,
			labelImagesCommand,
			organizeByLabelCommand,
			findDuplicatesCommand,
			...indexingCommands,
			showStatusCommand,
			selectModelCommand,
			...quickMenuCommands,
			...teachCommands,
			agentSetupCommand,
			setStorePasswordCommand,
			...imageReferenceCommands,
		]),
	);
	// The walkthrough's "Index your images" step is done once some folder's index holds images.
	context.subscriptions.push(index.onDidChange(() => void vscode.commands.executeCommand('setContext', 'clipSearch.hasIndex', committedImages(index.folders()).images > 0)));

	context.subscriptions.push(
		vscode.workspace.onDidChangeConfiguration(async e => {
			if (!affectsUs(e)) {
				return;
			}
			await client.configure(await workerConfig(context, teamStore));
			const changed = (key: string): boolean => e.affectsConfiguration(`${SECTION}.${key}`);
			if (changed(SettingKeys.model) || changed(SettingKeys.modelVariant)) {
				void vscode.window.showInformationMessage(vscode.l10n.t('CLIP Image Search: the model changed, so the images will be indexed again.'));
				index.onModelChanged();
			} else if (changed(SettingKeys.indexLocation)) {
				await index.onIndexLocationChanged();
			} else if (changed(SettingKeys.ocr)) {
				index.scheduleAll(); // a walk finds nothing to embed; the text pass reads what it has not read
			} else if (changed(SettingKeys.autoTag)) {
				for (const f of index.folders()) {
					void index.autoTag(f.folder);
				}
			} else if (changed(SettingKeys.store) || changed(SettingKeys.storeCaFile)) {
				index.scheduleAll(); // what the new store has is pulled instead of embedded
			} else if (changed(SettingKeys.referencesEnabled) || changed(SettingKeys.publicFolders)) {
				await broken.refreshAll(); // the worker reads the references again with the new rules
				unused.invalidate();
			} else if (changed(SettingKeys.indexingEnabled)) {
				await index.onIndexingEnabledChanged();
			} else if (
				[SettingKeys.include, SettingKeys.exclude, SettingKeys.maxImageMegapixels].some(changed) ||
				e.affectsConfiguration('files.exclude') ||
				e.affectsConfiguration('search.exclude')
			) {
				void vscode.window.showInformationMessage(vscode.l10n.t('CLIP Image Search settings changed: the folders are scanned again.'));
				index.scheduleAll();
				void broken.refreshAll(); // the excludes also decide which text files are read
				unused.invalidate();
			}
		}),
	);

	// An answer to "use this workspace's team store?", or a new password: tell the worker, and look again.
	context.subscriptions.push(
		teamStore.onDidChange(async () => {
			await client.configure(await workerConfig(context, teamStore));
			if (vscode.workspace.isTrusted) {
				index.scheduleAll();
			}
		}),
	);

	// Right after start-up: tags and committed indexes first (no model, no scan), so the view, the
	// badges and searches work at once; then indexing, only when there are images to index.
	const start = async (): Promise<void> => {
		await tagsSync.loadAll();
		if (!index.folders().length) {
			return;
		}
		await index.loadCommitted();
		// Broken image references into Problems: a read of the folders' text files, in the worker.
		void broken.refreshAll();
		const any = await vscode.workspace.findFiles(DEFAULT_INCLUDE[0], `{${DEFAULT_EXCLUDE.join(',')}}`, 1);
		if (any.length) {
			index.scheduleAll();
		} else {
			log.info('no images in the workspace yet: indexing starts when one appears');
		}
	};
	// [Note: restricted mode] An untrusted workspace's files — its images, a committed index, its
	// classes and tags files, and the settings that point at them — are not read until the person
	// trusts it (VS Code also ignores the restrictedConfigurations it sets). Then everything starts.
	const startTimer = setTimeout(() => {
		if (vscode.workspace.isTrusted) {
			void start();
		} else {
			log.info('Restricted Mode: nothing of this workspace is read until it is trusted');
		}
	}, 500);
	context.subscriptions.push(toDisposable(() => clearTimeout(startTimer)));
	context.subscriptions.push(
		vscode.workspace.onDidGrantWorkspaceTrust(async () => {
			log.info('the workspace is trusted now: reading its tags and indexes');
			await client.configure(await workerConfig(context, teamStore)); // its restricted settings count from now on
			await start();
		}),
	);

	log.info(`activated in ${(performance.now() - started).toFixed(1)} ms (no model loaded, nothing scanned)`);
	return { index, statusBar, tags, agentTools, broken, unused };
}

export async function deactivate(): Promise<void> {
	await worker?.dispose();
	worker = undefined;
}
