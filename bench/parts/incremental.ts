/** @file Bench part `incremental`: finding one changed file among 100,000 by a walk and by its path alone. */
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanForChanges } from '../../src/core/index/indexScan';
import { IndexStore } from '../../src/core/index/indexStore';
import { walkImages } from '../../src/core/index/walker';
import { benchCache, median, QUICK, rows, RUNS, say } from '../common';

/**
 * One changed file in a 100,000-file folder: the time to find what changed, by a walk of the folder
 * (what every watcher batch cost before) and by comparing only the changed path (what a batch
 * costs now). The files are not images (nothing is decoded here); the catalog matches them.
 */
export async function figureIncremental(): Promise<void> {
	const n = QUICK ? 20_000 : 100_000;
	const dir = path.join(benchCache, `incremental-${n}`);
	if (!existsSync(path.join(dir, '.complete'))) {
		say(`writing ${n} small files for the incremental figure (once)`);
		const bytes = Buffer.from('not decoded: only walked and compared');
		for (let i = 0; i < n; i += 1000) {
			const sub = path.join(dir, String(i / 1000));
			mkdirSync(sub, { recursive: true });
			await Promise.all(Array.from({ length: Math.min(1000, n - i) }, (_, j) => fs.writeFile(path.join(sub, `img-${i + j}.png`), bytes)));
		}
		execFileSync('touch', [path.join(dir, '.complete')]);
	}
	const store = IndexStore.create(await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-inc-')), dir, { key: 'bench', id: 'bench', revision: 'r', variant: 'fp32', dim: 4 });
	store.addEmbedding('h', Float32Array.from([1, 0, 0, 0]));
	for await (const f of walkImages(dir)) {
		store.setFile(f.rel, { size: f.size, mtimeMs: f.mtimeMs, hash: 'h' });
	}
	const changed = path.join(dir, '7', 'img-7007.png');
	const full: number[] = [];
	const incremental: number[] = [];
	for (let r = 0; r < Math.max(3, RUNS); r++) {
		await fs.writeFile(changed, `changed ${Date.now()} ${r}`);
		let t = performance.now();
		const byWalk = await scanForChanges(store);
		full.push(performance.now() - t);
		t = performance.now();
		const byPath = await scanForChanges(store, { paths: ['7/img-7007.png'] });
		incremental.push(performance.now() - t);
		if (byWalk?.todo.length !== 1 || byPath?.todo.length !== 1) {
			throw new Error(`expected one changed file, got ${byWalk?.todo.length} (walk) and ${byPath?.todo.length} (paths)`);
		}
	}
	await fs.rm(store.dir, { recursive: true, force: true });
	rows.push({ figure: `7b. one changed file in ${n.toLocaleString()}: find it by walking the folder`, value: `${median(full).toFixed(0)} ms` });
	rows.push({
		figure: `7b. one changed file in ${n.toLocaleString()}: compare only the changed path (watcher batch)`,
		value: `${median(incremental).toFixed(2)} ms`,
		target: '≤ 50 ms',
		pass: median(incremental) <= 50,
	});
}
