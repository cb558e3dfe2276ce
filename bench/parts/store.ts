/**
 * @file Bench part `store`: the team store on PostgreSQL + pgvector (PGlite from npm; a native server
 * with CLIP_SEARCH_TEST_PG_URL). Machine A embeds n small PNGs with the bench model (ViT-B/32, int8,
 * 512-d) and pushes; machine B, with its own index, pulls and has a searchable index without
 * embedding. Printed: push and pull rates (vectors/s) and B's time to a searchable index against
 * A's, which embedded everything locally.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { indexFolder } from '../../src/core/index/indexer';
import { openIndexForWriting, stampOf } from '../../src/core/index/indexSession';
import type { RemoteVectors } from '../../src/core/index/remoteVectors';
import { pushShared } from '../../src/core/index/sharedVectors';
import { ClipEncoder } from '../../src/core/model/runtime/encoder';
import { loadModelSpec } from '../../src/core/model/layouts/loadModelSpec';
import { search } from '../../src/core/search/search';
import { PgVectorStore } from '../../src/core/store/pgStore';
import { startPostgres } from '../../test/pglite';
import { QUICK, rows, say } from '../common';
import { smallPngCorpus } from './reindex';

/** Times the store's pulls, to give the pull rate apart from hashing and saving. */
function timedPulls(remote: RemoteVectors): { remote: RemoteVectors; ms: () => number } {
	let ms = 0;
	return {
		remote: {
			label: remote.label,
			pushing: remote.pushing,
			missing: h => remote.missing(h),
			push: v => remote.push(v),
			pull: async h => {
				const t = performance.now();
				try {
					return await remote.pull(h);
				} finally {
					ms += performance.now() - t;
				}
			},
		},
		ms: () => ms,
	};
}

export async function figureStore(modelDir: string): Promise<void> {
	const n = QUICK ? 2000 : 10_000;
	const dir = await smallPngCorpus(n);
	const db = await startPostgres();
	const engine = db.native ? 'PostgreSQL' : 'PGlite';
	const spec = await loadModelSpec(modelDir, { variant: 'quantized' });
	const encoder = new ClipEncoder(spec, { provider: 'cpu' });
	const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-store-'));
	try {
		say(`store: machine A embeds ${n} images locally`);
		let t = performance.now();
		const storeA = await openIndexForWriting(path.join(tmp, 'a'), dir, spec);
		const a = await indexFolder(storeA, encoder);
		const localS = (performance.now() - t) / 1000;
		say('store: A pushes');
		const pushing = await PgVectorStore.open({ url: db.url, push: true }, stampOf(spec));
		t = performance.now();
		const pushed = await pushShared(storeA, pushing, say);
		const pushS = (performance.now() - t) / 1000;
		await pushing.close();
		if (pushed !== a.embedded) {
			throw new Error(`pushed ${pushed} of ${a.embedded} vectors`);
		}

		say('store: machine B pulls');
		t = performance.now();
		const pulling = await PgVectorStore.open({ url: db.url }, stampOf(spec));
		const timed = timedPulls(pulling);
		const storeB = await openIndexForWriting(path.join(tmp, 'b'), dir, spec);
		const b = await indexFolder(storeB, encoder, { remote: timed.remote });
		const hits = await search(storeB, encoder, 'a red square', { k: 5 });
		const pullS = (performance.now() - t) / 1000;
		await pulling.close();
		if (b.embedded !== 0 || b.pulled !== a.embedded || hits.length !== 5) {
			throw new Error(`B embedded ${b.embedded}, pulled ${b.pulled} of ${a.embedded}, found ${hits.length}`);
		}
		const label = `${n.toLocaleString()} images, ViT-B/32 int8 512-d, ${engine} on this machine`;
		rows.push({ figure: `14. team store (${label}): push rate`, value: `${(pushed / pushS).toFixed(0)} vectors/s (${pushS.toFixed(1)} s, HNSW built as rows arrive)` });
		rows.push({ figure: `14. team store (${label}): pull rate`, value: `${(b.pulled! / (timed.ms() / 1000)).toFixed(0)} vectors/s (${(timed.ms() / 1000).toFixed(1)} s)` });
		rows.push({
			figure: `14. team store (${label}): time to a searchable index on B (hash, pull, save, first query) vs A embedding everything`,
			value: `${pullS.toFixed(1)} s vs ${localS.toFixed(1)} s (${(localS / pullS).toFixed(1)}× sooner)`,
			target: 'sooner than embedding',
			pass: pullS < localS,
		});
	} finally {
		await encoder.dispose();
		await db.stop();
		await fs.rm(tmp, { recursive: true, force: true });
	}
}
