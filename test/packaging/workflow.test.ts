/**
 * The release workflow cannot run here: what can be checked is. Its YAML parses, its matrix names the
 * five targets on matching hosted runners, every script it calls exists, every action is pinned by
 * commit, and the publish job publishes each VSIX by --packagePath to both marketplaces.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../helpers';

interface Step {
	uses?: string;
	run?: string;
	if?: string;
}
interface Workflow {
	on: Record<string, unknown>;
	jobs: Record<string, { 'runs-on': string; needs?: string; if?: string; steps: Step[]; strategy?: { matrix: { include: { target: string; os: string }[] } } }>;
}

describe('the release workflow', () => {
	const text = readFileSync(path.join(repoRoot, '.github', 'workflows', 'release.yml'), 'utf8');
	const wf = parse(text) as Workflow;
	const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

	it('builds the five targets, each on a runner of its own platform', () => {
		assert.deepEqual(wf.jobs.package.strategy!.matrix.include, [
			{ target: 'linux-x64', os: 'ubuntu-24.04' },
			{ target: 'linux-arm64', os: 'ubuntu-24.04-arm' },
			{ target: 'win32-x64', os: 'windows-latest' },
			{ target: 'win32-arm64', os: 'windows-11-arm' },
			{ target: 'darwin-arm64', os: 'macos-15' },
		]);
		assert.equal(wf.jobs.package['runs-on'], '${{ matrix.os }}');
	});

	it('calls only scripts and files that exist, and tests, packages, smoke-tests and uploads', () => {
		const runs = Object.values(wf.jobs).flatMap(j => j.steps.map(s => s.run ?? '')).join('\n');
		for (const [, script] of runs.matchAll(/npm (?:run )?(\w[\w:-]*)/g)) {
			if (!['ci', 'test', 'run'].includes(script)) {
				assert.ok(script in pkg.scripts, `npm run ${script} exists`);
			}
		}
		assert.ok('test' in pkg.scripts && 'package' in pkg.scripts);
		for (const [, file] of runs.matchAll(/node (tools\/[\w.-]+)/g)) {
			assert.ok(existsSync(path.join(repoRoot, file)), file);
		}
		const order = wf.jobs.package.steps.map(s => s.run ?? s.uses ?? '');
		const at = (re: RegExp): number => order.findIndex(x => re.test(x));
		assert.ok(at(/^npm ci$/) < at(/^npm test$/) && at(/^npm test$/) < at(/npm run package/) && at(/npm run package/) < at(/smoke-vsix/) && at(/smoke-vsix/) < at(/upload-artifact/));
	});

	it('pins every action by commit', () => {
		const uses = Object.values(wf.jobs).flatMap(j => j.steps.map(s => s.uses).filter((u): u is string => !!u));
		assert.ok(uses.length >= 5);
		for (const u of uses) {
			assert.match(u, /^[\w-]+\/[\w-]+@[0-9a-f]{40}$/, u);
		}
	});

	it('publishes on a tag only, every VSIX to the Marketplace and Open VSX, with a pre-release channel', () => {
		const publish = wf.jobs.publish;
		assert.equal(publish.needs, 'package');
		assert.match(publish.if ?? '', /refs\/tags\/v/);
		const runs = publish.steps.map(s => s.run ?? '').join('\n');
		assert.match(runs, /vsce publish --packagePath "\$f"/);
		assert.match(runs, /ovsx@[\d.]+ publish --packagePath "\$f"/);
		assert.match(runs, /--pre-release/);
		assert.match(text, /VSCE_PAT: \$\{\{ secrets\.VSCE_PAT \}\}/);
		assert.match(text, /OVSX_PAT: \$\{\{ secrets\.OVSX_PAT \}\}/);
	});
});
