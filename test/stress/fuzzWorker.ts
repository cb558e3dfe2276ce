/**
 * The child process of fuzz.test.ts: runs seeded mutations of an index's files, each followed by
 * what `stats`, `search` and `index` do, in this one process. It prints `start <n> <what>` before a
 * case and a JSON line after it, so the parent can name the case when this process dies by a signal
 * or stops answering. Usage: node fuzzWorker.js <images> <base index> <work dir> <seed> <cases>
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClipError, describeError } from '../../src/core/common/errors';
import { indexFolder } from '../../src/core/index/indexer';
import { openIndexForWriting } from '../../src/core/index/indexSession';
import { indexStatus } from '../../src/core/index/indexStatus';
import { IndexStore } from '../../src/core/index/indexStore';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { searchVector } from '../../src/core/search/search';
import { seeded } from '../shapes';
import { tinyModelDir } from '../helpers';

type Outcome = 'ok' | `code:${string}` | 'rebuilt';

export interface CaseReport {
	n: number;
	what: string;
	stats: Outcome;
	search: Outcome;
	index: Outcome;
	/** Scores seen outside [-1, 1] (or not finite): must stay empty. */
	badScores: number[];
	/** A throw without a ClipError code: must stay undefined. */
	uncoded?: string;
}

const HUGE = [9007199254740991, -1, 0, 1e308, -1e308, 2 ** 31, 2 ** 32 + 1, 60_000_000, 0.5, NaN];

async function main(): Promise<void> {
	const [images, base, work, seedText, casesText] = process.argv.slice(2);
	const rand = seeded(Number(seedText));
	const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
	const spec = await loadModelSpec(tinyModelDir);
	const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
	const query = (await encoder.encodeTexts(['a red circle']))[0];
	const names = await fs.readdir(base);

	/** One random change to one of the files an index writes. */
	const mutate = async (dir: string): Promise<string> => {
		const name = pick(names.filter(n => n !== 'index.lock'));
		const file = path.join(dir, name);
		const bytes = await fs.readFile(file);
		const kind = pick(['flip', 'flips', 'truncate', 'append', 'zero-run', 'json-field', 'json-field', 'delete', 'lock'] as const);
		switch (kind) {
			case 'flip':
			case 'flips': {
				const n = kind === 'flip' ? 1 : 1 + Math.floor(rand() * 16);
				for (let i = 0; i < n && bytes.length; i++) {
					bytes[Math.floor(rand() * bytes.length)] ^= 1 << Math.floor(rand() * 8);
				}
				await fs.writeFile(file, bytes);
				return `${kind} ×${n} in ${name}`;
			}
			case 'truncate': {
				const at = Math.floor(rand() * bytes.length);
				await fs.writeFile(file, bytes.subarray(0, at));
				return `truncate ${name} at ${at}`;
			}
			case 'append':
				await fs.writeFile(file, Buffer.concat([bytes, Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)))]));
				return `append to ${name}`;
			case 'zero-run': {
				const at = Math.floor(rand() * bytes.length);
				bytes.fill(0, at, Math.min(bytes.length, at + 1 + Math.floor(rand() * 256)));
				await fs.writeFile(file, bytes);
				return `zeros in ${name} at ${at}`;
			}
			case 'json-field': {
				if (!name.endsWith('.json') && !name.startsWith('.clip')) {
					bytes[Math.floor(rand() * bytes.length)] ^= 0xff;
					await fs.writeFile(file, bytes);
					return `flip in ${name}`;
				}
				let json: Record<string, unknown>;
				try {
					json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
				} catch {
					return `(${name} not JSON)`;
				}
				const key = pick(Object.keys(json).length ? Object.keys(json) : ['x']);
				const value = pick([pick(HUGE), 'x'.repeat(1 + Math.floor(rand() * 2000)), null, [], {}, { a: [1, 2] }, true, -5, pick(HUGE)]);
				const inner = json[key];
				if (inner && typeof inner === 'object' && !Array.isArray(inner) && rand() < 0.6) {
					const sub = inner as Record<string, unknown>;
					const k = pick(Object.keys(sub).length ? Object.keys(sub) : ['y']);
					sub[k] = value;
					await fs.writeFile(file, JSON.stringify(json));
					return `${name}: ${key}.${k.slice(0, 20)} = ${JSON.stringify(value)?.slice(0, 30)}`;
				}
				json[key] = value;
				await fs.writeFile(file, JSON.stringify(json));
				return `${name}: ${key} = ${JSON.stringify(value)?.slice(0, 30)}`;
			}
			case 'delete':
				await fs.rm(file);
				return `delete ${name}`;
			default: {
				const pid = pick([-1, 0, 1.5, process.pid, 2 ** 31]);
				await fs.writeFile(path.join(dir, 'index.lock'), JSON.stringify({ pid, host: pick(['elsewhere', require('node:os').hostname()]), since: new Date(Date.now() - 3_600_000).toISOString(), purpose: 'fuzz' }));
				return `lock with pid ${pid}`;
			}
		}
	};

	const cases = Number(casesText);
	for (let n = 0; n < cases; n++) {
		const dir = path.join(work, `case-${n}`);
		await fs.cp(base, dir, { recursive: true });
		const what = await mutate(dir);
		process.stdout.write(`start ${n} ${what}\n`);
		const report: CaseReport = { n, what, stats: 'ok', search: 'ok', index: 'ok', badScores: [] };
		const coded = (err: unknown): Outcome => {
			if (ClipError.is(err)) {
				return `code:${err.code}`;
			}
			report.uncoded ??= describeError(err);
			return 'code:none';
		};
		const checkScores = (store: IndexStore): void => {
			for (const hit of searchVector(store, query, { k: 50 })) {
				if (!Number.isFinite(hit.score) || hit.score < -1.0001 || hit.score > 1.0001) {
					report.badScores.push(hit.score);
				}
			}
		};
		try {
			await indexStatus(await IndexStore.load(dir));
		} catch (err) {
			report.stats = coded(err);
		}
		try {
			checkScores(await IndexStore.load(dir));
		} catch (err) {
			report.search = coded(err);
		}
		try {
			const logs: string[] = [];
			const store = await openIndexForWriting(dir, images, spec, m => logs.push(m));
			await indexFolder(store, encoder);
			if (logs.some(l => /Starting a new index|model changed/.test(l))) {
				report.index = 'rebuilt';
			}
			checkScores(await IndexStore.load(dir));
		} catch (err) {
			report.index = coded(err);
		}
		process.stdout.write(`${JSON.stringify(report)}\n`);
		await fs.rm(dir, { recursive: true, force: true });
	}
	await encoder.dispose();
}

main().catch(err => {
	process.stderr.write(`fuzz worker: ${err instanceof Error ? err.stack : String(err)}\n`);
	process.exit(3);
});
