/**
 * @file Every setting of the extension in one place: the keys as constants, one typed reader, and
 * the helper that tells whether a configuration change concerns us. To add a setting: declare it in
 * package.json `contributes.configuration`, add its key here and read it in readSettings().
 */
import * as vscode from 'vscode';
import type { LabelClass } from '../../core/labels/labeler';
import type { ProviderSetting } from '../../core/model/runtime/providers';
import { isProviderSetting } from '../../core/model/runtime/providers';
import { INT8_KERNELS, type Int8Kernels } from '../../core/model/int8/int8Kernels';

export const SECTION = 'clipSearch';

export const SettingKeys = {
	model: 'model',
	modelVariant: 'modelVariant',
	executionProvider: 'executionProvider',
	indexingEnabled: 'indexing.enabled',
	include: 'include',
	exclude: 'exclude',
	maxResults: 'maxResults',
	minScore: 'minScore',
	labels: 'labels',
	labelThreshold: 'labelThreshold',
	indexLocation: 'indexLocation',
	maxImageMegapixels: 'maxImageMegapixels',
	threads: 'threads',
	unloadAfterIdleMinutes: 'unloadAfterIdleMinutes',
	duplicateThreshold: 'duplicateThreshold',
	autoTag: 'autoTag',
	ocr: 'ocr',
	agentsMcpServer: 'agents.mcpServer',
	store: 'store',
	storeCaFile: 'storeCaFile',
	referencesEnabled: 'references.enabled',
	publicFolders: 'references.publicFolders',
	int8Kernels: 'int8Kernels',
} as const;

export interface Settings {
	model: string;
	modelVariant: 'fp32' | 'quantized';
	executionProvider: ProviderSetting;
	indexingEnabled: boolean;
	include: string[];
	/** clipSearch.exclude plus files.exclude and search.exclude (the globs set to true). */
	exclude: string[];
	maxResults: number;
	minScore: number;
	labels: Record<string, LabelClass['prompts'] | { prompts?: string[]; threshold?: number }>;
	labelThreshold: number;
	indexLocation: 'storage' | 'workspace';
	maxImageMegapixels: number;
	/** 0 = automatic (leave one core to the editor). */
	threads: number;
	/** Models unused this long are released (text: three times as long); 0 = never. */
	unloadAfterIdleMinutes: number;
	duplicateThreshold: number;
	/** Keep .vscode/image-tags.json current from .vscode/image-labels.json. */
	autoTag: boolean;
	/** Which images' text is read: likely ones (CLIP's zero-shot), all, or none. */
	ocr: 'auto' | 'all' | 'off';
	/** Also offer the agent tools as an MCP server definition. */
	agentsMcpServer: boolean;
	/** "local" (the index on disk alone) or a team store's postgres:// URL (core/store). */
	store: string;
	/** The CA certificate of the team store's TLS. */
	storeCaFile: string;
	/** Read the workspace's image references: broken ones in Problems, the Unused Images view (core/refs). */
	referencesEnabled: boolean;
	/** Folders root-relative references (/x.png) are served from, beside public/, static/ and the folder itself. */
	publicFolders: string[];
	/** Which int8 weights the CPU runs (core/model/int8/int8Kernels.ts); CLIP_SEARCH_INT8_KERNELS wins. */
	int8Kernels: Int8Kernels;
}

/** The globs set to true in a files.exclude-style object. */
export function enabledGlobs(value: unknown): string[] {
	if (typeof value !== 'object' || value === null) {
		return [];
	}
	return Object.entries(value as Record<string, unknown>)
		.filter(([, on]) => on === true)
		.map(([glob]) => glob);
}

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
	const c = vscode.workspace.getConfiguration(SECTION, scope);
	const provider = c.get<string>(SettingKeys.executionProvider, 'auto');
	const variant = c.get<string>(SettingKeys.modelVariant, 'quantized');
	return {
		model: c.get<string>(SettingKeys.model, '').trim() || 'Xenova/clip-vit-base-patch32',
		modelVariant: variant === 'fp32' ? 'fp32' : 'quantized',
		executionProvider: isProviderSetting(provider) ? provider : 'auto',
		indexingEnabled: c.get<boolean>(SettingKeys.indexingEnabled, true),
		include: c.get<string[]>(SettingKeys.include, []),
		exclude: [
			...c.get<string[]>(SettingKeys.exclude, []),
			...enabledGlobs(vscode.workspace.getConfiguration('files', scope).get('exclude')),
			...enabledGlobs(vscode.workspace.getConfiguration('search', scope).get('exclude')),
		],
		maxResults: Math.max(1, c.get<number>(SettingKeys.maxResults, 50)),
		minScore: c.get<number>(SettingKeys.minScore, 0),
		labels: c.get<Settings['labels']>(SettingKeys.labels, {}),
		labelThreshold: c.get<number>(SettingKeys.labelThreshold, 0),
		indexLocation: c.get<string>(SettingKeys.indexLocation, 'storage') === 'workspace' ? 'workspace' : 'storage',
		maxImageMegapixels: Math.max(1, c.get<number>(SettingKeys.maxImageMegapixels, 100)),
		threads: Math.max(0, Math.floor(c.get<number>(SettingKeys.threads, 0))),
		unloadAfterIdleMinutes: Math.max(0, c.get<number>(SettingKeys.unloadAfterIdleMinutes, 5)),
		duplicateThreshold: c.get<number>(SettingKeys.duplicateThreshold, 0.95),
		autoTag: c.get<boolean>(SettingKeys.autoTag, true),
		ocr: (['auto', 'all', 'off'] as const).find(v => v === c.get<string>(SettingKeys.ocr, 'auto')) ?? 'auto',
		agentsMcpServer: c.get<boolean>(SettingKeys.agentsMcpServer, false),
		store: c.get<string>(SettingKeys.store, 'local').trim() || 'local',
		storeCaFile: c.get<string>(SettingKeys.storeCaFile, '').trim(),
		referencesEnabled: c.get<boolean>(SettingKeys.referencesEnabled, true),
		publicFolders: c.get<string[]>(SettingKeys.publicFolders, []).filter(p => typeof p === 'string' && p.trim() !== ''),
		int8Kernels: INT8_KERNELS.find(v => v === c.get<string>(SettingKeys.int8Kernels, 'auto')) ?? 'auto',
	};
}

/** True when the change touches our section or the excludes we read. */
export function affectsUs(e: vscode.ConfigurationChangeEvent): boolean {
	return e.affectsConfiguration(SECTION) || e.affectsConfiguration('files.exclude') || e.affectsConfiguration('search.exclude');
}
