/**
 * @file `npm run scale`: 100 k image files (small generated PNGs) indexed with the tiny test model:
 * full index, no-op re-index and search; prints times, peak RSS and index size. The walk streams,
 * queues are bounded, and nothing is O(n²), so memory grows only with the catalog.
 */
import { existsSync, mkdirSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { ClipEncoder } from '../src/core/model/runtime/encoder';
import { indexFolder } from '../src/core/index/indexer';
import { IndexStore } from '../src/core/index/indexStore';
import { openIndexForWriting } from '../src/core/index/indexSession';
import { loadModelSpec } from '../src/core/model/layouts/loadModelSpec';
import { cacheHome } from '../src/core/common/paths';
import { search } from '../src/core/search/search';

const N = Number(process.argv[2] ?? 100_000);
const repo = path.resolve(__dirname, '..', '..');

async function main(): Promise<void> {
	const dir = path.join(cacheHome(), 'bench', `scale-${N}`);
	if (!existsSync(path.join(dir, '.complete'))) {
		console.error(`[scale] generating ${N} PNGs in ${dir} (once)`);
		const t = performance.now();
		for (let i = 0; i < N; i++) {
			const sub = path.join(dir, String(Math.floor(i / 1000)));
			if (i % 1000 === 0) {
				mkdirSync(sub, { recursive: true });
			}
			await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: i % 251, g: (i >> 4) % 253, b: (i * 31) % 255 } } })
				.png()
				.toFile(path.join(sub, `img-${i}.png`));
		}
		await fs.writeFile(path.join(dir, '.complete'), '');
		console.error(`[scale] generated in ${((performance.now() - t) / 1000).toFixed(0)} s`);
	}
	const spec = await loadModelSpec(path.join(repo, 'test', 'fixtures', 'tiny-clip'));
	const encoder = new ClipEncoder(spec, { provider: 'cpu' });
	const indexDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-scale-'));
	const first = await indexFolder(await openIndexForWriting(indexDir, dir, spec), encoder, { batchSize: 64, checkpointSeconds: 30 });
	const rssAfterIndex = process.resourceUsage().maxRSS / 1024;
	const t = performance.now();
	const store = await openIndexForWriting(indexDir, dir, spec);
	const loadS = (performance.now() - t) / 1000;
	const noop = await indexFolder(store, encoder);
	const noopS = (performance.now() - t) / 1000;
	const lat: number[] = [];
	for (const q of ['red circle', 'blue square', 'a green star', 'orange', 'purple cross', 'yellow']) {
		const s = performance.now();
		await search(store, encoder, q, { k: 20 });
		lat.push(performance.now() - s);
	}
	const bytes = await (await IndexStore.load(indexDir)).diskSize();
	console.log(`scale: ${N.toLocaleString()} files`);
	console.log(`  full index: ${first.seconds.toFixed(1)} s (${(first.embedded / first.seconds).toFixed(0)} img/s; ${first.embedded} embedded, ${first.reused} reused as duplicates, ${first.failed.length} failed)`);
	console.log(`  no-op re-index: ${noopS.toFixed(2)} s (load ${loadS.toFixed(2)} s + walk/compare ${noop.seconds.toFixed(2)} s), ${noop.embedded} embedded`);
	console.log(`  search (text, k 20): ${lat.map(x => x.toFixed(1)).join(', ')} ms`);
	console.log(`  peak RSS: ${rssAfterIndex.toFixed(0)} MB; index on disk: ${(bytes / 1e6).toFixed(1)} MB`);
	await encoder.dispose();
	await fs.rm(indexDir, { recursive: true, force: true });
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
