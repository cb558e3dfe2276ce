/**
 * Crash safety (npm run test:stress): the CLI indexer is killed with SIGKILL at 20 random moments
 * over a few hundred images. After each kill the index loads, its catalog is consistent, and the
 * next run continues; the final index equals an uninterrupted run's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { IndexStore } from '../../src/core/index/indexStore';
import { cosine, repoRoot, tempDir, tinyModelDir } from '../helpers';

const cli = path.join(repoRoot, 'dist', 'cli.js');
const KILLS = Number(process.env.CLIP_STRESS_KILLS ?? 20);
const IMAGES = 800;

function runIndex(root: string, index: string, killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [cli, 'index', root, '--model', tinyModelDir, '--index', index, '--provider', 'cpu', '--json'], {
			env: { ...process.env, CLIP_SEARCH_CHECKPOINT_SECONDS: '0.15' },
		});
		let stdout = '';
		child.stdout.on('data', d => (stdout += d));
		child.on('error', reject);
		child.on('exit', (code, signal) => resolve({ code, signal, stdout }));
		if (killAfterMs !== undefined) {
			setTimeout(() => child.kill('SIGKILL'), killAfterMs);
		}
	});
}

function checkConsistent(store: IndexStore): void {
	const hashes = new Set<string>();
	for (const [rel, e] of store.files) {
		if (!e.error) {
			assert.ok(e.hash && store.hasEmbedding(e.hash), `${rel} is in the catalog without its vector`);
			hashes.add(e.hash!);
		}
	}
	const labels = new Set<number>();
	for (const { label } of store.vectors()) {
		assert.ok(!labels.has(label), `label ${label} twice`);
		labels.add(label);
	}
	assert.equal(store.vectorCount, hashes.size, 'no orphan vectors, no duplicates');
}

describe('SIGKILL during indexing', { skip: existsSync(cli) ? false : 'needs dist/cli.js (npm run build)' }, () => {
	let root: string;
	before(async () => {
		root = await tempDir('clip-kill-');
		// Noisy photos decode slowly enough that kills land mid-run.
		for (let i = 0; i < IMAGES; i++) {
			const w = 480;
			const h = 360;
			const buf = Buffer.alloc(w * h * 3);
			let s = i + 1;
			for (let j = 0; j < buf.length; j++) {
				s = (s * 1103515245 + 12345) >>> 0;
				buf[j] = (s >>> 16) & 0xff;
			}
			await sharp(buf, { raw: { width: w, height: h, channels: 3 } })
				.jpeg({ quality: 80 })
				.toFile(path.join(root, `${String(i).padStart(3, '0')}.jpg`));
		}
	});

	it(`survives ${KILLS} kills and ends equal to an uninterrupted run`, async t => {
		const index = await tempDir('clip-kill-index-');
		const reference = await tempDir('clip-kill-ref-');
		const full = await runIndex(root, reference);
		assert.equal(full.code, 0);
		const fullSeconds = (JSON.parse(full.stdout) as { seconds: number }).seconds;
		let kills = 0;
		let partial = 0;
		let completed = 0;
		for (let attempt = 0; kills < KILLS && attempt < KILLS * 5; attempt++) {
			// Start-up (Node, model load) takes a few hundred ms; kill somewhere in the work after it.
			const delay = 250 + Math.random() * Math.min(1500, fullSeconds * 1000);
			const r = await runIndex(root, index, delay);
			if (r.signal === 'SIGKILL') {
				kills++;
			}
			if (await IndexStore.exists(index)) {
				const store = await IndexStore.load(index);
				checkConsistent(store);
				if (r.signal === 'SIGKILL' && store.files.size > 0 && store.files.size < IMAGES) {
					partial++;
				}
			}
			if (r.code === 0) {
				// The run finished before the kill: start over so that the next kills interrupt work.
				completed++;
				await fs.rm(index, { recursive: true, force: true });
			}
		}
		assert.equal(kills, KILLS);
		t.diagnostic(`${kills} kills (${partial} left a partial index, each loaded and consistent); ${completed} runs finished first; uninterrupted run ${fullSeconds.toFixed(1)} s`);
		const last = await runIndex(root, index);
		assert.equal(last.code, 0);
		const a = await IndexStore.load(index);
		const b = await IndexStore.load(reference);
		checkConsistent(a);
		assert.deepEqual([...a.files.keys()].sort(), [...b.files.keys()].sort());
		for (const [rel, e] of b.files) {
			assert.equal(a.files.get(rel)?.hash, e.hash, rel);
			assert.ok(cosine(a.vectorOf(e.hash!)!, b.vectorOf(e.hash!)!) > 0.9999, rel);
		}
		assert.ok(!existsSync(path.join(index, 'index.lock')), 'the last run released the lock');
	});
});
