/** The manifest's promises about a cloned repository: every setting has a scope, and the ones that name models, paths or work are restricted. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers';

interface Manifest {
	capabilities: { untrustedWorkspaces: { supported: string | boolean; restrictedConfigurations?: string[] } };
	contributes: { configuration: { properties: Record<string, { scope?: string }> } };
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
});
