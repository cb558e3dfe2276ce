/** @file Use the Image Tools from an Agent (the walkthrough's last step): what the tools are and how each kind of agent reaches them. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TOOL_DEFS } from '../../core/agent/toolDefs';
import type { CommandDef } from './registry';

export const agentSetupCommand: CommandDef = {
	id: 'clipSearch.agentSetup',
	run: async s => {
		const cli = path.join(s.context.extensionPath, 'dist', 'cli.js');
		const lines = [
			'# CLIP Image Search for agents',
			'',
			'## In VS Code',
			'',
			'Copilot\'s agent mode and other chat extensions call these tools (type `#` and a name in a prompt):',
			'',
			...TOOL_DEFS.map(d => `- \`#${d.toolReferenceName}\` (${d.name}): ${d.description.split('. ')[0]}.`),
			'',
			'`clipSearch.agents.mcpServer` also offers them to VS Code\'s MCP clients (off by default: chat would list each twice).',
			'',
			'## Claude Code, Codex, Cursor and other MCP clients',
			'',
			'Start the server in the folder whose images the agent should see:',
			'',
			'```bash',
			`claude mcp add clip-search -- node "${cli}" mcp`,
			'```',
			'',
			'or, in `.vscode/mcp.json` / `.cursor/mcp.json`:',
			'',
			'```json',
			JSON.stringify({ servers: { 'clip-search': { type: 'stdio', command: 'node', args: [cli, 'mcp'] } } }, null, 2),
			'```',
			'',
			'The server reads the index this extension keeps; it never downloads a model or indexes on its own.',
		];
		const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: `${lines.join('\n')}\n` });
		await vscode.window.showTextDocument(doc, { preview: true });
		return doc.getText();
	},
};
