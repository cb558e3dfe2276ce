/** The manifest's promises about a cloned repository: every setting has a scope, and the ones that name models, paths or work are restricted. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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
	const nls = JSON.parse(readFileSync(path.join(repoRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;
	const manifestText = readFileSync(path.join(repoRoot, 'package.json'), 'utf8');
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
		for (const key of ['model', 'modelVariant', 'executionProvider', 'include', 'exclude', 'labels', 'indexLocation', 'maxImageMegapixels', 'threads', 'autoTag', 'ocr', 'store', 'storeCaFile']) {
			assert.ok(restricted.has(`clipSearch.${key}`), `clipSearch.${key} is restricted`);
		}
		for (const key of restricted) {
			assert.ok(key in settings, `${key} is a setting`);
		}
		// The team store: a URL with no room for a password (that goes to SecretStorage, PGPASSWORD or ~/.pgpass).
		const store = new RegExp((settings['clipSearch.store'] as { pattern: string }).pattern);
		assert.ok(store.test('local') && store.test('postgres://dev@db.example:5432/assets?sslmode=verify-full') && store.test('postgresql://db.example/assets'));
		assert.ok(!store.test('postgres://dev:hunter2@db.example/assets') && !store.test('https://db.example'));
		// What reaches the network says so: the model's download and the team store.
		const online = Object.entries(settings).filter(([, v]) => ((v as { tags?: string[] }).tags ?? []).includes('usesOnlineServices')).map(([k]) => k);
		assert.deepEqual(online.sort(), ['clipSearch.model', 'clipSearch.store']);
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
		assert.deepEqual(manifest.contributes.mcpServerDefinitionProviders, [{ id: 'clipSearch.mcpServer', label: '%mcp.label%' }]);
		assert.equal(nls['mcp.label'], 'CLIP Image Search', 'a provider without a label is silently disabled');
	});

	it('targets the VS Code that has image parts in tool results, and types no newer than it', () => {
		assert.equal(manifest.engines.vscode, '^1.106.0');
		assert.match(manifest.devDependencies['@types/vscode'], /^\^1\.106\./);
	});

	it('localises its strings: every %key% is in package.nls.json and every entry there is used', () => {
		const used = new Set([...manifestText.matchAll(/"%([\w.-]+)%"/g)].map(m => m[1]));
		assert.ok(used.size > 50);
		for (const k of used) {
			assert.ok(typeof nls[k] === 'string' && nls[k].length > 0, `package.nls.json has ${k}`);
		}
		for (const k of Object.keys(nls)) {
			assert.ok(used.has(k), `${k} is used in package.json`);
		}
		const commands = (manifest.contributes as unknown as { commands: { title: string }[] }).commands;
		assert.ok(commands.every(c => /^%command\.[\w.]+\.title%$/.test(c.title)), 'every command title is localisable');
	});

	it('has a walkthrough of 4–5 steps whose completion events name real commands, settings and context keys', () => {
		const c = manifest.contributes as unknown as { walkthroughs: { steps: { id: string; media: { image: string }; completionEvents: string[] }[] }[]; commands: { command: string }[] };
		const [walkthrough] = c.walkthroughs;
		assert.ok(walkthrough.steps.length >= 4 && walkthrough.steps.length <= 5);
		const commands = new Set(c.commands.map(x => x.command));
		for (const step of walkthrough.steps) {
			assert.ok(existsSync(path.join(repoRoot, step.media.image)), step.media.image);
			assert.ok(step.completionEvents.length > 0);
			for (const e of step.completionEvents) {
				const [kind, what] = e.split(':');
				if (kind === 'onCommand') assert.ok(commands.has(what), e);
				else if (kind === 'onSettingChanged') assert.ok(what in settings, e);
				else assert.equal(kind, 'onContext', e);
			}
		}
		const m = manifest as unknown as { pricing: string; galleryBanner: unknown; categories: string[] };
		assert.equal(m.pricing, 'Free');
		assert.ok(m.galleryBanner && m.categories.includes('Machine Learning'));
		assert.ok(existsSync(path.join(repoRoot, 'CHANGELOG.md')));
	});
});


describe('the Marketplace page and the manifest carry no placeholder', () => {
	const manifestText = readFileSync(path.join(repoRoot, 'package.json'), 'utf8');
	const page = readFileSync(path.join(repoRoot, 'docs', 'marketplace.md'), 'utf8');

	it('names no invented address (a field is left out rather than made up)', () => {
		assert.doesNotMatch(manifestText, /example\.(invalid|com|org)/);
		const m = JSON.parse(manifestText) as Record<string, unknown>;
		for (const key of ['repository', 'homepage', 'bugs']) {
			assert.equal(m[key], undefined, `${key}: no public address exists yet`);
		}
	});

	it('the Marketplace page (vsce --readme-path docs/marketplace.md) has no relative link or image, and shows every model with its licence', () => {
		const links = [...page.matchAll(/!?\[[^\]]*\]\(([^)]+)\)/g)].map(x => x[1]);
		assert.deepEqual(links.filter(l => !/^(https:\/\/|#)/.test(l)), [], 'the web Marketplace shows only absolute https links');
		assert.doesNotMatch(page, /npm ci|npm test/, "the developers' opening stays in README.md");
		assert.match(page, /MobileCLIP-S2 \| ⚠ research only/);
		assert.match(page, /CLIP ViT-B\/32 \(default\) \| MIT/);
		assert.match(readFileSync(path.join(repoRoot, 'tools', 'package.mjs'), 'utf8'), /'--readme-path', 'docs\/marketplace\.md'/);
	});
});
