/**
 * [Note: every read is bounded] in src/core/common/confine.ts, held: every way of reading a file in
 * src/ is listed here with the reason it may stand; a new plain readFile, read stream or open
 * anywhere else fails this test, so a file a folder, a repository or a model folder provides is read
 * through the bounded regular-file reader (issue 34, items 3-5).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../helpers';

/** The ways Node reads a file, as they appear in code. */
const READS = /\b(readFile|readFileSync|createReadStream|openSync|readSync|fs\.open|promises\.open)\s*\(/g;

/** Where a read may stand, and why (file, then a piece of the line). */
const ALLOWED: { file: string; line: RegExp; why: string }[] = [
	{ file: 'src/core/common/confine.ts', line: /./, why: 'the bounded reader itself' },
	{ file: 'src/core/common/atomicFile.ts', line: /fs\.open\(tmp, /, why: 'opens the temporary file it has just created (wx) to write and sync it' },
	{ file: 'src/core/model/hub/download.ts', line: /fs\.open\(part, resuming \? 'a' : 'w'\)/, why: 'opens the partial download to append to it' },
];

async function sources(dir: string): Promise<string[]> {
	const out: string[] = [];
	for (const e of await fs.readdir(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) {
			out.push(...(await sources(p)));
		} else if (/\.(ts|mts|cts)$/.test(e.name)) {
			out.push(p);
		}
	}
	return out;
}

describe('every read of a file goes through the bounded reader', () => {
	it('no file in src/ reads a file any other way, except those listed with their reason', async () => {
		const files = await sources(path.join(repoRoot, 'src'));
		assert.ok(files.length > 50, `sources found: ${files.length}`);
		const found: string[] = [];
		for (const file of files) {
			const rel = path.relative(repoRoot, file).split(path.sep).join('/');
			const lines = (await fs.readFile(file, 'utf8')).split('\n');
			lines.forEach((text, i) => {
				const code = text.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
				for (const m of code.matchAll(READS)) {
					if (!ALLOWED.some(a => a.file === rel && a.line.test(code))) {
						found.push(`${rel}:${i + 1}: ${m[1]}(…) — ${text.trim()}`);
					}
				}
			});
		}
		assert.deepEqual(found, [], `read these through readRegularFile/readRegularText/streamRegularFile (src/core/common/confine.ts), or list them here with a reason:\n${found.join('\n')}`);
	});

	it('the check itself sees a plain read (it cannot pass vacuously)', () => {
		const planted = "const text = await fs.readFile(file, 'utf8');";
		assert.ok([...planted.matchAll(READS)].length === 1);
		assert.ok(!ALLOWED.some(a => a.file === 'src/core/labels/tagsFile.ts' && a.line.test(planted)));
	});
});
