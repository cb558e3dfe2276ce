/**
 * What the documents say a newcomer can type is what the code takes (issue 27): the README's
 * command-line block is every command's usage, line for line; every command in SKILL.md parses with
 * its command's options; the download size SKILL.md quotes is the CLI default's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseCommandArgs } from '../../src/cli/args';
import { COMMANDS } from '../../src/cli/main';
import { formatBytes } from '../../src/core/common/sizes';
import { DEFAULT_MODEL_ID, downloadSize, findKnownModel } from '../../src/core/model/hub/modelRegistry';
import { DEFAULT_KNOWN_VARIANT } from '../../src/core/model/hub/modelResolver';
import { TOOL_SCHEMAS } from '../../src/core/agent/toolSchemas';
import { repoRoot } from '../helpers';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const skill = readFileSync(path.join(repoRoot, 'skills', 'clip-search', 'SKILL.md'), 'utf8');

/** Splits a shell line into words (quotes kept together, removed). */
function words(line: string): string[] {
	return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(m => m[1] ?? m[2] ?? m[3]);
}

describe('the documents match the command line', () => {
	it("the README's command-line block is every command's usage, line for line", () => {
		const block = /## The command line\n\n```\n([\s\S]*?)```/.exec(readme)![1];
		const documented = block
			.split('\n')
			.map(l => l.replace(/\s+#.*$/, '').trim())
			.filter(l => l && !/^clip-search (help|--version)/.test(l));
		const usage = COMMANDS.flatMap(c => c.usage.map(u => `clip-search ${u}`));
		assert.deepEqual([...documented].sort(), [...usage].sort());
	});

	it('every clip-search command in SKILL.md is a command with options it takes', () => {
		const lines = [...skill.matchAll(/```bash\n([\s\S]*?)```/g)].flatMap(m => m[1].split('\n')).map(l => l.replace(/\s+#.*$/, '').trim()).filter(l => l.startsWith('clip-search '));
		assert.ok(lines.length >= 8, lines.join('\n'));
		for (const line of lines) {
			const [, name, ...args] = words(line);
			const def = COMMANDS.find(c => c.name === name);
			assert.ok(def, `${line}: no command "${name}"`);
			assert.doesNotThrow(() => parseCommandArgs(def, args), line);
		}
	});

	it("the first download SKILL.md quotes is the CLI default's (int8), and the fp32 one", () => {
		const model = findKnownModel(DEFAULT_MODEL_ID)!;
		assert.equal(DEFAULT_KNOWN_VARIANT, 'quantized');
		assert.ok(skill.replace(/\n\s*/g, ' ').includes(`downloads the model (${formatBytes(downloadSize(model, 'quantized'))} of int8 weights, the default`), formatBytes(downloadSize(model, 'quantized')));
		assert.ok(skill.includes(`takes ${formatBytes(downloadSize(model, 'fp32'))}`));
	});

	it("the README's tools table names every argument of every agent tool (issue 35, item 12)", () => {
		const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
		for (const [name, schema] of Object.entries(TOOL_SCHEMAS)) {
			const row = readme.split('\n').find(l => l.startsWith(`| \`${name}\` |`));
			assert.ok(row, `a row for ${name}`);
			for (const arg of Object.keys((schema as unknown as { shape: Record<string, unknown> }).shape)) {
				assert.ok(row.includes(`\`${arg}\``), `${name}: ${arg} in ${row}`);
			}
		}
	});
});
