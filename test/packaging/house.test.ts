/**
 * The house rules AGENTS.md states, checked (issue 36): at most two files in src/ and bench/ past
 * 450 lines, each saying in its opening comment why it stays whole.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers';

async function tsFiles(dir: string): Promise<string[]> {
	const out: string[] = [];
	for (const e of await fs.readdir(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) {
			out.push(...(await tsFiles(p)));
		} else if (e.name.endsWith('.ts')) {
			out.push(p);
		}
	}
	return out;
}

describe('the house', () => {
	it('at most two files in src/ and bench/ are past 450 lines, and each says why it stays whole', async () => {
		const long: string[] = [];
		for (const file of [...(await tsFiles(path.join(repoRoot, 'src'))), ...(await tsFiles(path.join(repoRoot, 'bench')))]) {
			const text = await fs.readFile(file, 'utf8');
			if (text.split('\n').length > 450) {
				const rel = path.relative(repoRoot, file);
				long.push(rel);
				assert.match(text.slice(0, 3000), /stays whole/, `${rel} is past 450 lines: split it by responsibility, or say in its opening comment why it stays whole`);
			}
		}
		assert.ok(long.length <= 2, `past 450 lines: ${long.join(', ')}`);
	});
});
