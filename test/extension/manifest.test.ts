/** The manifest's promises about a cloned repository: every setting has a scope, and the ones that name models, paths or work are restricted. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TOOL_DEFS } from '../../src/core/agent/toolDefs';
import { inputJsonSchema } from '../../src/core/agent/toolSchemas';
import { repoRoot } from '../helpers';

interface Manifest {
	engines: { vscode: string };
	devDependencies: Record<string, string>;
	capabilities: { untrustedWorkspaces: { supported: string | boolean; restrictedConfigurations?: string[] } };
	contributes: {
		configuration: { properties: Record<string, { scope?: string }> };
		languageModelTools: { name: string; displayName: string; toolReferenceName: string; canBeReferencedInPrompt: boolean; modelDescription: string; inputSchema: unknown; when?: string }[];
		mcpServerDefinitionProviders: { id: string; label: string }[];
	};
}

describe('package.json and workspace trust', () => {
	const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
	const settings = manifest.contributes.configuration.properties;

	it('gives every setting a scope', () => {
		assert.ok(Object.keys(settings).length > 10);
		for (const [key, s] of Object.entries(settings)) {
			assert.ok(['application', 'machine', 'machine-overridable', 'window', 'resource', 'language-overridable'].includes(s.scope ?? ''), `${key}: scope ${s.scope}`);
		}
		// What only this machine can say: its hardware.
		assert.equal(settings['clipSearch.executionProvider'].scope, 'machine');
		assert.equal(settings['clipSearch.threads'].scope, 'machine');
	});

	it('lists every setting that names a model, a path, a glob or work as restricted (ignored from an untrusted workspace)', () => {
		const restricted = new Set(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations);
		assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
		for (const key of ['model', 'modelVariant', 'executionProvider', 'include', 'exclude', 'labels', 'indexLocation', 'maxImageMegapixels', 'threads', 'autoTag', 'ocr']) {
			assert.ok(restricted.has(`clipSearch.${key}`), `clipSearch.${key} is restricted`);
		}
		for (const key of restricted) {
			assert.ok(key in settings, `${key} is a setting`);
		}
	});

	it('declares the agent tools as core/agent defines them (names, descriptions, input schemas)', () => {
		const tools = manifest.contributes.languageModelTools;
		assert.deepEqual(
			tools.map(t => t.name),
			TOOL_DEFS.map(d => d.name),
		);
		for (const def of TOOL_DEFS) {
			const t = tools.find(x => x.name === def.name)!;
			assert.match(t.name, /^(?!copilot_|vscode_)[\w-]+$/, 'VS Code allows no dots');
			assert.equal(t.modelDescription, def.description);
			assert.ok(def.description.length <= 450, `${def.name}: a description the model reads in full (${def.description.length} characters)`);
			assert.ok(/\bNot for\b|\bUse (when|before|to)\b/.test(def.description), `${def.name} says when to use it and when not`);
			assert.equal(t.toolReferenceName, def.toolReferenceName);
			assert.equal(t.canBeReferencedInPrompt, true);
			assert.deepEqual(t.inputSchema, inputJsonSchema(def.name), `${def.name}: package.json's inputSchema is the zod schema's`);
		}
		assert.deepEqual(manifest.contributes.mcpServerDefinitionProviders, [{ id: 'clipSearch.mcpServer', label: 'CLIP Image Search' }]);
	});

	it('targets the VS Code that has image parts in tool results, and types no newer than it', () => {
		assert.equal(manifest.engines.vscode, '^1.106.0');
		assert.match(manifest.devDependencies['@types/vscode'], /^\^1\.106\./);
	});
});

