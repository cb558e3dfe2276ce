/**
 * A seeded mutation run of every file an index writes (npm run test:stress): catalog, graph, manifest,
 * marker and lock, changed by flipped bits, truncation, appended garbage, zeroed runs, JSON fields
 * set to huge, negative or odd values, deletion. After each change the child process (fuzzWorker.ts)
 * does what `stats`, `search` and `index` do. For every case: no signal, no hang, each step either
 * works or fails with a ClipError code, `index` leaves a working index (rebuilt when it had to be),
 * and every score is a cosine. CLIP_FUZZ_SEED and CLIP_FUZZ_CASES choose another run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { indexFolder } from '../../src/core/index/indexer';
import { openIndexForWriting } from '../../src/core/index/indexSession';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { copyFixtureImages, tempDir, tinyModelDir } from '../helpers';
import type { CaseReport } from './fuzzWorker';

const SEED = Number(process.env.CLIP_FUZZ_SEED ?? 2026);
const CASES = Number(process.env.CLIP_FUZZ_CASES ?? 300);
/** A case that makes no progress for this long is a hang. */
const STALL_MS = 30_000;

describe('fuzzing the index files', () => {
	it(`${CASES} seeded mutations (seed ${SEED}): no signal, no hang, a code or a rebuild, scores in range`, async t => {
		const images = await tempDir('clip-fuzz-images-');
		await copyFixtureImages(images);
		const base = await tempDir('clip-fuzz-base-');
		const spec = await loadModelSpec(tinyModelDir);
		const encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 1 });
		await indexFolder(await openIndexForWriting(base, images, spec), encoder);
		await encoder.dispose();
		const work = await tempDir('clip-fuzz-work-');
		const reports: CaseReport[] = [];
		let current = '(before the first case)';
		const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stalled: boolean; stderr: string }>(resolve => {
			const child = spawn(process.execPath, [path.join(__dirname, 'fuzzWorker.js'), images, base, work, String(SEED), String(CASES)], { stdio: ['ignore', 'pipe', 'pipe'] });
			let buffered = '';
			let stderr = '';
			let stalled = false;
			let watchdog = setTimeout(() => ((stalled = true), child.kill('SIGKILL')), STALL_MS);
			child.stdout.on('data', (d: Buffer) => {
				buffered += d.toString();
				let nl: number;
				while ((nl = buffered.indexOf('\n')) >= 0) {
					const line = buffered.slice(0, nl);
					buffered = buffered.slice(nl + 1);
					clearTimeout(watchdog);
					watchdog = setTimeout(() => ((stalled = true), child.kill('SIGKILL')), STALL_MS);
					if (line.startsWith('start ')) {
						current = line.slice(6);
					} else if (line.startsWith('{')) {
						reports.push(JSON.parse(line) as CaseReport);
					}
				}
			});
			child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
			child.on('exit', (code, signal) => {
				clearTimeout(watchdog);
				resolve({ code, signal, stalled, stderr });
			});
		});
		assert.ok(!ended.stalled, `no progress for ${STALL_MS / 1000} s in case ${current}`);
		assert.equal(ended.signal, null, `killed by ${ended.signal} in case ${current}\n${ended.stderr.slice(-2000)}`);
		assert.equal(ended.code, 0, `exit ${ended.code} in case ${current}\n${ended.stderr.slice(-2000)}`);
		assert.equal(reports.length, CASES);
		const outcomes = new Map<string, number>();
		for (const r of reports) {
			assert.equal(r.uncoded, undefined, `case ${r.n} (${r.what}): a failure without a code: ${r.uncoded}`);
			assert.deepEqual(r.badScores, [], `case ${r.n} (${r.what}): scores out of range`);
			// `index` rebuilds what it can; it refuses (with a code) only what it must not overwrite: a catalog naming another folder.
			assert.ok(r.index === 'ok' || r.index === 'rebuilt' || r.index === 'code:InvalidArgument', `case ${r.n} (${r.what}): index answered ${r.index}, not a working index`);
			for (const o of [r.stats, r.search, r.index]) {
				outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
			}
		}
		t.diagnostic(`outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`);
		assert.ok((outcomes.get('rebuilt') ?? 0) > 0 && [...outcomes.keys()].some(k => k.startsWith('code:')), 'the run reached both damaged and rebuilt indexes');
	});
});
