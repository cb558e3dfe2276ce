/**
 * @file The agent tools (core/agent/toolDefs.ts) as VS Code Language Model tools, run by the
 * inference worker over its own sessions and model (no second model load, never a download), and,
 * when clipSearch.agents.mcpServer is on, the same tools as an MCP server definition (`clip-search
 * mcp` per workspace folder) for VS Code's MCP clients. Off by default: chat would list each tool twice.
 */
import { lowMemoryEnv } from '../../core/model/runtime/idleRelease';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TOOL_DEFS, type ToolName } from '../../core/agent/toolDefs';
import { Disposable } from '../shared/lifecycle';
import { readSettings, SECTION, SettingKeys } from '../shared/settings';
import type { WorkerClient } from '../worker/workerClient';
import type { WorkspaceIndex } from '../indexing/workspaceIndex';

type Input = Record<string, unknown>;

/** What the chat shows while a tool runs (read-only tools ask nothing: [Note: tool confirmations]). */
function invocationMessage(name: ToolName, input: Input): string {
	switch (name) {
		case 'search_images':
			return vscode.l10n.t('Searching images for "{0}"', String(input.query ?? ''));
		case 'find_similar_images':
			return vscode.l10n.t('Finding images like {0}', String(input.path ?? ''));
		case 'read_image_text':
			return vscode.l10n.t('Reading the text in {0}', String(input.path ?? ''));
		case 'label_images':
			return vscode.l10n.t('Labelling images');
		case 'find_duplicate_images':
			return vscode.l10n.t('Finding duplicate images');
		default:
			return vscode.l10n.t('Reading the image index status');
	}
}

export class AgentTools extends Disposable {
	constructor(
		private readonly worker: WorkerClient,
		private readonly index: WorkspaceIndex,
		private readonly extensionPath: string,
	) {
		super();
		for (const def of TOOL_DEFS) {
			this.register(
				vscode.lm.registerTool<Input>(def.name, {
					// [Note: tool confirmations] Only the tool that writes (label_images with write_tags)
					// asks first; outside a chat, a confirmation is a modal dialog.
					prepareInvocation: options => {
						const input = options.input ?? {};
						if (def.name === 'label_images' && input.write_tags === true) {
							return {
								invocationMessage: invocationMessage(def.name, input),
								confirmationMessages: {
									title: vscode.l10n.t('Write image tags?'),
									message: new vscode.MarkdownString(vscode.l10n.t('The labels will be written to `.vscode/image-tags.json` of each workspace folder, replacing the tags there.')),
								},
							};
						}
						return { invocationMessage: invocationMessage(def.name, input) };
					},
					invoke: async options => this.invoke(def.name, options.input ?? {}),
				}),
			);
		}
		this.register(
			vscode.lm.registerMcpServerDefinitionProvider('clipSearch.mcpServer', {
				onDidChangeMcpServerDefinitions: this.serversChanged.event,
				provideMcpServerDefinitions: () => this.mcpServers(),
			}),
		);
		this.register(vscode.workspace.onDidChangeConfiguration(e => e.affectsConfiguration(`${SECTION}.${SettingKeys.agentsMcpServer}`) && this.serversChanged.fire()));
		this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.serversChanged.fire()));
		this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.serversChanged.fire()));
	}

	private readonly serversChanged = this.register(new vscode.EventEmitter<void>());

	/** Runs a tool in the worker; an error becomes the message the model reads (what to do next). */
	async invoke(name: ToolName, input: Input): Promise<vscode.LanguageModelToolResult> {
		if (!vscode.workspace.isTrusted) {
			throw new Error('The workspace is not trusted: CLIP Image Search reads its images only once the user trusts it (Workspaces: Manage Workspace Trust).');
		}
		const folders = this.index.folders().map(f => ({ ...this.index.folderRef(f.folder), name: f.folder.name }));
		if (!folders.length) {
			throw new Error('No workspace folder is open: open the folder whose images to search.');
		}
		const out = await this.worker.request('agentTool', { folders, name, input });
		return new vscode.LanguageModelToolResult([
			new vscode.LanguageModelTextPart(JSON.stringify(out.data)),
			...out.images.map(i => vscode.LanguageModelDataPart.image(Buffer.from(i.base64, 'base64'), i.mimeType)),
		]);
	}

	/** One `clip-search mcp` per workspace folder, with the Node this VS Code runs on. */
	private mcpServers(): vscode.McpStdioServerDefinition[] {
		if (!readSettings().agentsMcpServer || !vscode.workspace.isTrusted) {
			return [];
		}
		// In desktop VS Code process.execPath is Electron: ELECTRON_RUN_AS_NODE makes it Node. In
		// code-server and VS Code Server it is Node already.
		const env: Record<string, string> = process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {};
		// [Note: giving memory back]: the allocator setting from the start, so the server is one process.
		const wanted = lowMemoryEnv(process.env);
		if (wanted !== process.env && wanted.GLIBC_TUNABLES) {
			env.GLIBC_TUNABLES = wanted.GLIBC_TUNABLES;
		}
		return (vscode.workspace.workspaceFolders ?? [])
			.filter(f => f.uri.scheme === 'file')
			.map(f => {
				const def = new vscode.McpStdioServerDefinition(`CLIP Image Search: ${f.name}`, process.execPath, [path.join(this.extensionPath, 'dist', 'cli.js'), 'mcp', f.uri.fsPath], env);
				def.cwd = f.uri;
				return def;
			});
	}
}
