/**
 * @file Activation: wires the worker, the background indexer, the status bar, the commands, the tag
 * view and the results panel. Activation itself loads no model and scans nothing; indexing starts
 * after start-up, when the workspace has images and indexing is on.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ClipError, describeError } from '../core/errors';
import { parseClasses, tagsFileContent, type ImageLabel, type LabelClass } from '../core/labeler';
import { KNOWN_MODELS, downloadSize } from '../core/modelRegistry';
import { IMAGE_EXTENSIONS } from '../core/walker';
import { toDisposable } from './lifecycle';
import { Logger } from './logger';
import { ResultsPanel } from './resultsPanel';
import { type ImageHit, searchWorkspace, showResultsQuickPick, showSearchQuickPick } from './searchQuickPick';
import { affectsIndex, affectsUs, readSettings, SECTION, SettingKeys } from './settings';
import { StatusBar } from './statusBar';
import { TagDecorations, TagsModel, TagsTreeProvider, type TagEntry } from './tagsView';
import { WorkerClient } from './workerClient';
import type { WorkerConfig } from './worker/protocol';
import { WorkspaceIndex } from './workspaceIndex';

let log: Logger | undefined;
let worker: WorkerClient | undefined;

function workerConfig(context: vscode.ExtensionContext): WorkerConfig {
	const s = readSettings();
	// [Note: thread budget] By default inference leaves one core to the editor (and at least one
	// thread on a single-core machine), so typing stays responsive while a folder is indexed.
	const threads = s.threads > 0 ? s.threads : Math.max(1, os.availableParallelism() - 1);
	return {
		model: s.model,
		variant: s.modelVariant,
		provider: s.executionProvider,
		threads,
		modelCacheDir: path.join(context.globalStorageUri.fsPath, 'models'),
		thumbnailDir: path.join(context.globalStorageUri.fsPath, 'thumbnails'),
		maxImagePixels: s.maxImageMegapixels * 1_000_000,
		include: s.include.length ? s.include : [`**/*.{${IMAGE_EXTENSIONS.join(',')}}`],
		exclude: ['**/node_modules/**', '**/.git/**', '**/.vscode/clip-search-index/**', ...s.exclude],
	};
}

async function readClasses(folder: vscode.WorkspaceFolder): Promise<LabelClass[] | undefined> {
	const file = path.join(folder.uri.fsPath, '.vscode', 'image-labels.json');
	const text = await fs.readFile(file, 'utf8').catch(() => undefined);
	if (text !== undefined) {
		try {
			return parseClasses(JSON.parse(text), file);
		} catch (err) {
			throw new ClipError('InvalidArgument', `${file}: ${describeError(err)}`, { file });
		}
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

export async function activate(context: vscode.ExtensionContext): Promise<unknown> {
	const started = performance.now();
	log = new Logger('CLIP Image Search');
	context.subscriptions.push(log);
	worker = new WorkerClient(path.join(context.extensionPath, 'dist'));
	context.subscriptions.push(toDisposable(() => void worker?.dispose()));
	const client = worker;
	const logger = log;
	context.subscriptions.push(
		client.onEvent(e => {
			if (e.type === 'log') {
				logger[e.level](e.message);
			}
		}),
	);
	await client.configure(workerConfig(context));

	const index = new WorkspaceIndex(context, client, logger);
	const tags = new TagsModel();
	const panel = new ResultsPanel(context.extensionUri, vscode.Uri.file(path.join(context.globalStorageUri.fsPath, 'thumbnails')), client);
	context.subscriptions.push(index, tags, panel, new StatusBar(index));
	const tree = new TagsTreeProvider(tags);
	context.subscriptions.push(tree, vscode.window.createTreeView('clipSearch.tags', { treeDataProvider: tree, showCollapseAll: true }));
	const decorations = new TagDecorations(tags);
	context.subscriptions.push(decorations, vscode.window.registerFileDecorationProvider(decorations));

	const showPanel = (query: string, hits: ImageHit[]): Promise<void> => panel.show(vscode.l10n.t('Images: {0}', query || '…'), hits);
	const fail = (err: unknown): undefined => {
		if (!ClipError.is(err, 'Cancelled')) {
			void vscode.window.showErrorMessage(describeError(err));
			logger.error(describeError(err));
		}
		return undefined;
	};
	const register = (id: string, fn: (...args: never[]) => unknown): void => {
		context.subscriptions.push(vscode.commands.registerCommand(id, fn));
	};

	register('clipSearch.search', (query?: string, scope?: vscode.Uri) => showSearchQuickPick(client, index, (q, h) => void showPanel(q, h), typeof query === 'string' ? query : undefined, scope));
	register('clipSearch.searchInFolder', (folder?: vscode.Uri) => showSearchQuickPick(client, index, (q, h) => void showPanel(q, h), undefined, folder));

	register('clipSearch.showResultsPanel', async (query?: string) => {
		const q =
			typeof query === 'string'
				? query
				: await vscode.window.showInputBox({ title: vscode.l10n.t('Show Results in Panel'), prompt: vscode.l10n.t('Describe the image') });
		if (!q) {
			return undefined;
		}
		try {
			const hits = await searchWorkspace(client, index, q);
			await showPanel(q, hits);
			return hits;
		} catch (err) {
			return fail(err);
		}
	});

	register('clipSearch.findSimilar', async (target?: vscode.Uri) => {
		const uri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri ?? (vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: vscode.Uri } | undefined)?.uri;
		const folder = uri && index.folderOf(uri.fsPath);
		if (!uri || !folder) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Select an image in the workspace to find similar ones.'));
			return undefined;
		}
		try {
			const results = await client.request('similar', { root: folder.uri.fsPath, file: uri.fsPath, k: readSettings().maxResults });
			const hits: ImageHit[] = results.map(r => ({ file: path.join(folder.uri.fsPath, ...r.path.split('/')), root: folder.uri.fsPath, rel: r.path, score: r.score }));
			await showResultsQuickPick(client, vscode.l10n.t('Images similar to {0}', path.basename(uri.fsPath)), hits, index.folders().length > 1, (t, h) => void panel.show(t, h));
			return hits;
		} catch (err) {
			return fail(err);
		}
	});

	register('clipSearch.labelImages', async (target?: vscode.Uri) => {
		const folder = target instanceof vscode.Uri ? index.folderOf(target.fsPath) : index.folders()[0]?.folder;
		if (!folder) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Open a folder with images to label them.'));
			return undefined;
		}
		try {
			const classes = await readClasses(folder);
			if (!classes) {
				return undefined;
			}
			await index.idle();
			const root = folder.uri.fsPath;
			const scope = target instanceof vscode.Uri && target.fsPath !== root ? path.relative(root, target.fsPath).split(path.sep).join('/') : undefined;
			const settings = readSettings(folder.uri);
			const labels: ImageLabel[] = await vscode.window.withProgress(
				{ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Labelling images…') },
				() => client.request('label', { root, classes, threshold: settings.labelThreshold || undefined, scope }),
			);
			const tagsFile = path.join(root, '.vscode', 'image-tags.json');
			// Keep the tags of other folders when only one folder was labelled.
			const previous = JSON.parse(await fs.readFile(tagsFile, 'utf8').catch(() => '{}')) as { images?: Record<string, TagEntry> };
			const kept = Object.entries(previous.images ?? {})
				.filter(([rel]) => scope && !rel.startsWith(`${scope}/`))
				.map(([rel, t]) => ({ path: rel, label: t.label, score: t.score, scores: {}, ...(t.labels ? { labels: t.labels } : {}) }));
			const merged = [...kept, ...labels];
			await fs.mkdir(path.dirname(tagsFile), { recursive: true });
			await fs.writeFile(tagsFile, tagsFileContent(merged, { model: (await client.request('status', { root }))?.model ?? '', classes }));
			tags.setTags(root, Object.fromEntries(merged.map(l => [l.path, { label: l.label, score: l.score, labels: l.labels }])));
			const counted = classes.map(c => `${c.name}: ${labels.filter(l => l.label === c.name).length}`).join(', ');
			void vscode.window.showInformationMessage(vscode.l10n.t('Labelled {0} images ({1}). Tags written to {2}.', labels.length, counted, vscode.workspace.asRelativePath(tagsFile)));
			return { tagsFile, labels };
		} catch (err) {
			return fail(err);
		}
	});

	register('clipSearch.organizeByLabel', async () => {
		if (!tags.tags.size) {
			void vscode.window.showInformationMessage(vscode.l10n.t('Label images first (CLIP: Label Images…).'));
			return;
		}
		const mode = await vscode.window.showQuickPick([vscode.l10n.t('Copy into per-class folders'), vscode.l10n.t('Move into per-class folders')], { title: vscode.l10n.t('Organize Images by Label') });
		if (!mode) {
			return;
		}
		const move = mode === vscode.l10n.t('Move into per-class folders');
		const plan = [...tags.tags]
			.filter(([, t]) => t.label)
			.map(([file, t]) => ({ from: file, to: path.join(path.dirname(file), t.label!.replace(/[\\/:*?"<>|]/g, '_'), path.basename(file)) }));
		const listing = plan
			.slice(0, 15)
			.map(p => `${vscode.workspace.asRelativePath(p.from)} → ${vscode.workspace.asRelativePath(p.to)}`)
			.join('\n');
		const more = plan.length > 15 ? `\n${vscode.l10n.t('…and {0} more', plan.length - 15)}` : '';
		const ok = vscode.l10n.t(move ? 'Move {0} Files' : 'Copy {0} Files', plan.length);
		const answer = await vscode.window.showWarningMessage(vscode.l10n.t(move ? 'Move these images?' : 'Copy these images?'), { modal: true, detail: listing + more }, ok);
		if (answer !== ok) {
			return;
		}
		const edit = new vscode.WorkspaceEdit();
		for (const p of plan) {
			if (move) {
				edit.renameFile(vscode.Uri.file(p.from), vscode.Uri.file(p.to), { ignoreIfExists: true });
			} else {
				await vscode.workspace.fs.copy(vscode.Uri.file(p.from), vscode.Uri.file(p.to), { overwrite: false }).then(undefined, err => logger.warn(`copy ${p.from}: ${describeError(err)}`));
			}
		}
		if (move) {
			await vscode.workspace.applyEdit(edit);
		}
	});

	register('clipSearch.findDuplicates', async () => {
		try {
			await index.idle();
			const threshold = readSettings().duplicateThreshold;
			const all = await Promise.all(index.folders().map(async s => ({ root: s.folder.uri.fsPath, groups: await client.request('duplicates', { root: s.folder.uri.fsPath, threshold }) })));
			tags.setDuplicates(all);
			const count = all.reduce((n, d) => n + d.groups.length, 0);
			void vscode.window.showInformationMessage(count ? vscode.l10n.t('{0} groups of near-identical images: see the Image Tags view. Nothing was deleted.', count) : vscode.l10n.t('No near-identical images found.'));
			if (count) {
				void vscode.commands.executeCommand('clipSearch.tags.focus');
			}
			return all;
		} catch (err) {
			return fail(err);
		}
	});

	register('clipSearch.rebuildIndex', async () => {
		await index.rebuild();
	});
	register('clipSearch.pauseIndexing', () => index.pause());
	register('clipSearch.resumeIndexing', () => index.resume());
	register('clipSearch.showLog', () => logger.show());

	register('clipSearch.showStatus', async () => {
		const lines: string[] = [];
		const statuses = [];
		for (const s of index.folders()) {
			const st = await client.request('status', { root: s.folder.uri.fsPath }).catch(() => undefined);
			statuses.push({ folder: s.folder.name, state: s.state, status: st });
			lines.push(`## ${s.folder.name}: ${s.state}${s.error ? ` (${s.error})` : ''}`);
			if (st) {
				lines.push(`files ${st.files}, indexed ${st.indexed}, failed ${st.failed.length}, vectors ${st.vectors}`, `model ${st.model}`, `provider ${st.provider ?? 'not started yet'}`, `index ${st.indexDir} (${(st.indexBytes / 1024).toFixed(0)} KB)`);
				lines.push(...st.failed.map(f => `  failed: ${f.path}: ${f.error}`));
			}
		}
		logger.info(`status\n${lines.join('\n')}`);
		const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: `# CLIP Image Search: index status\n\n${lines.join('\n\n')}\n` });
		await vscode.window.showTextDocument(doc, { preview: true });
		return statuses;
	});

	register('clipSearch.selectModel', async () => {
		const items: (vscode.QuickPickItem & { value?: string })[] = [
			...KNOWN_MODELS.flatMap(m => [
				{ label: m.id, description: vscode.l10n.t('int8, {0} MB download', (downloadSize(m, 'quantized') / 1e6).toFixed(0)), detail: m.description, value: `${m.id}|quantized` },
				{ label: m.id, description: vscode.l10n.t('fp32, {0} MB download', (downloadSize(m, 'fp32') / 1e6).toFixed(0)), detail: m.description, value: `${m.id}|fp32` },
			]),
			{ label: vscode.l10n.t('$(folder) Local model folder…'), detail: vscode.l10n.t('A folder in the transformers.js layout (config.json, preprocessor_config.json, tokenizer.json, onnx/)') },
		];
		const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Select Model') });
		if (!pick) {
			return;
		}
		const config = vscode.workspace.getConfiguration(SECTION);
		if (pick.value) {
			const [id, variant] = pick.value.split('|');
			await config.update(SettingKeys.model, id, vscode.ConfigurationTarget.Global);
			await config.update(SettingKeys.modelVariant, variant, vscode.ConfigurationTarget.Global);
		} else {
			const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: vscode.l10n.t('Model folder') });
			if (folder?.[0]) {
				await config.update(SettingKeys.model, folder[0].fsPath, vscode.ConfigurationTarget.Global);
			}
		}
	});

	register('clipSearch.quickMenu', async () => {
		const items = [
			{ label: `$(search) ${vscode.l10n.t('Search Images…')}`, command: 'clipSearch.search' },
			index.isPaused ? { label: `$(debug-start) ${vscode.l10n.t('Resume Indexing')}`, command: 'clipSearch.resumeIndexing' } : { label: `$(debug-pause) ${vscode.l10n.t('Pause Indexing')}`, command: 'clipSearch.pauseIndexing' },
			{ label: `$(refresh) ${vscode.l10n.t('Rebuild Index')}`, command: 'clipSearch.rebuildIndex' },
			{ label: `$(info) ${vscode.l10n.t('Show Index Status')}`, command: 'clipSearch.showStatus' },
			{ label: `$(output) ${vscode.l10n.t('Show Log')}`, command: 'clipSearch.showLog' },
		];
		const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('CLIP Image Search') });
		if (pick) {
			await vscode.commands.executeCommand(pick.command);
		}
	});

	// Internal, for the end-to-end tests and for scripting: resolves once indexing has settled.
	register('clipSearch.waitForIndex', async () => {
		await new Promise(resolve => setTimeout(resolve, 50));
		await index.idle();
		return index.folders().map(s => ({ folder: s.folder.uri.fsPath, state: s.state, result: s.lastResult, error: s.error }));
	});

	context.subscriptions.push(
		vscode.workspace.onDidChangeConfiguration(async e => {
			if (!affectsUs(e)) {
				return;
			}
			await client.configure(workerConfig(context));
			if (affectsIndex(e)) {
				void vscode.window.showInformationMessage(vscode.l10n.t('CLIP Image Search settings changed: the images will be indexed again.'));
				index.scheduleAll();
			}
		}),
	);

	// Start indexing after start-up, and only when there are images to index.
	const startTimer = setTimeout(async () => {
		if (!index.folders().length) {
			return;
		}
		const any = await vscode.workspace.findFiles(`**/*.{${IMAGE_EXTENSIONS.join(',')}}`, '**/node_modules/**', 1);
		if (any.length) {
			index.scheduleAll();
		} else {
			logger.info('no images in the workspace yet: indexing starts when one appears');
		}
	}, 500);
	context.subscriptions.push(toDisposable(() => clearTimeout(startTimer)));

	logger.info(`activated in ${(performance.now() - started).toFixed(1)} ms (no model loaded, nothing scanned)`);
	return { index };
}

export async function deactivate(): Promise<void> {
	await worker?.dispose();
	worker = undefined;
}
