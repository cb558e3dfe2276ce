/** @file Bench part `reindex`: a first index of many small files, a re-index with nothing changed, and one with one file changed. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { indexFolder } from '../../src/core/index/indexer';
import { openIndexForWriting } from '../../src/core/index/indexSession';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { benchCache, median, QUICK, repo, rows, RUNS, say } from '../common';

/** `n` distinct 24×24 PNGs in folders of 500 (made once, kept in the bench cache). */
export async function smallPngCorpus(n: number): Promise<string> {
	const dir = path.join(benchCache, `reindex-${n}`);
	if (!existsSync(path.join(dir, '.complete'))) {
		say(`generating ${n} small PNGs (once)`);
		mkdirSync(dir, { recursive: true });
		for (let i = 0; i < n; i++) {
			const sub = path.join(dir, String(Math.floor(i / 500)));
			mkdirSync(sub, { recursive: true });
			await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: i % 256, g: (i >> 8) % 256, b: (i * 37) % 256 } } })
				.png()
				.toFile(path.join(sub, `img-${i}.png`));
		}
		execFileSync('touch', [path.join(dir, '.complete')]);
	}
	return dir;
}

export async function figureReindex(): Promise<void> {
	const n = QUICK ? 2000 : 10_000;
	const dir = await smallPngCorpus(n);
	const spec = await loadModelSpec(path.join(repo, 'test', 'fixtures', 'tiny-clip'));
	const encoder = new ClipEncoder(spec, { provider: 'cpu' });
	const indexDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-reindex-'));
	const first = await indexFolder(await openIndexForWriting(indexDir, dir, spec), encoder);
	const noop: number[] = [];
	for (let r = 0; r < RUNS; r++) {
		const t = performance.now();
		const store = await openIndexForWriting(indexDir, dir, spec);
		const res = await indexFolder(store, encoder);
		noop.push((performance.now() - t) / 1000);
		if (res.embedded !== 0) {
			throw new Error('a no-op re-index embedded something');
		}
	}
	const changed = path.join(dir, '0', 'img-0.png');
	// [Note: a unique change] Random pixels: content no generated file has and no earlier run wrote.
	// A solid colour could repeat one (r 1, g 2, b 37 is img-513), and a file whose new content some
	// indexed file already has is rightly reused, not embedded: that, not a missed change, was the 0.
	await sharp(randomBytes(24 * 24 * 3), { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(changed);
	const t = performance.now();
	const one = await indexFolder(await openIndexForWriting(indexDir, dir, spec), encoder);
	const oneS = (performance.now() - t) / 1000;
	await encoder.dispose();
	await fs.rm(indexDir, { recursive: true, force: true });
	rows.push({ figure: `7. first index of ${n.toLocaleString()} small files (tiny model)`, value: `${first.seconds.toFixed(1)} s` });
	rows.push({ figure: `7. re-index, nothing changed, ${n.toLocaleString()} files (load + walk + compare + no save)`, value: `${median(noop).toFixed(2)} s`, target: '≤ 1 s', pass: median(noop) <= 1 });
	rows.push({ figure: '7. re-index, one file changed: seconds, embeddings computed', value: `${oneS.toFixed(2)} s, ${one.embedded}`, target: '1 embedding', pass: one.embedded === 1 });
}
