/**
 * The indexer with a team store (RemoteVectors), faults included: a store here is an in-memory fake
 * that fails where told, so that "drops mid-pull" and "drops mid-push" are exact. The store's real
 * SQL is tested on PostgreSQL in test/core/store/pgStore.test.ts, the round trip in test/cli/teamStore.test.ts.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClipError } from '../../../src/core/common/errors';
import { indexFolder } from '../../../src/core/index/indexer';
import { openIndexForWriting } from '../../../src/core/index/indexSession';
import { IndexStore } from '../../../src/core/index/indexStore';
import type { RemoteVectors } from '../../../src/core/index/remoteVectors';
import { ClipEncoder } from '../../../src/core/model/runtime/encoder';
import { type ModelSpec } from '../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../src/core/model/layouts/loadModelSpec';
import { copyFixtureImages, tempDir, tinyModelDir } from '../../helpers';

/** An in-memory store; `failPullAfter` hands back that many vectors then drops, `failPush` drops on push. */
class FakeStore implements RemoteVectors {
	readonly label = 'fake://team';
	readonly vectors = new Map<string, Float32Array>();
	failPullAfter?: number;
	failPush = false;
	published?: Map<string, string>;
	constructor(readonly pushing: boolean) {}
	async pull(hashes: string[]): Promise<Map<string, Float32Array>> {
		const out = new Map<string, Float32Array>();
		for (const h of hashes) {
			if (this.failPullAfter !== undefined && out.size >= this.failPullAfter) {
				throw Object.assign(new ClipError('StoreUnavailable', 'cannot reach the team store at fake:5432 (ECONNRESET)'), { partial: out });
			}
			const v = this.vectors.get(h);
			if (v) {
				out.set(h, v);
			}
		}
		return out;
	}
	async missing(hashes: string[]): Promise<string[]> {
		return hashes.filter(h => !this.vectors.has(h));
	}
	async push(vectors: Map<string, Float32Array>): Promise<number> {
		if (this.failPush) {
			throw new ClipError('StoreUnavailable', 'cannot reach the team store at fake:5432 (EPIPE)');
		}
		let added = 0;
		for (const [h, v] of vectors) {
			added += this.vectors.has(h) ? 0 : 1;
			this.vectors.set(h, v);
		}
		return added;
	}
	async publishFiles(files: Map<string, string>): Promise<void> {
		this.published = files;
	}
}

describe('indexing with a team store', () => {
	let spec: ModelSpec;
	let encoder: ClipEncoder;
	let team: FakeStore;
	let rootA: string;
	before(async () => {
		spec = await loadModelSpec(tinyModelDir);
		encoder = new ClipEncoder(spec, { provider: 'cpu', threads: 2 });
		team = new FakeStore(true);
		rootA = await tempDir('clip-team-a-');
		await copyFixtureImages(rootA);
		const a = await indexFolder(await openIndexForWriting(await tempDir('clip-team-ia-'), rootA, spec), encoder, { remote: team });
		assert.equal(a.pulled, 0);
		assert.equal(a.pushed, team.vectors.size);
		assert.ok(team.vectors.size >= 30, `${team.vectors.size} distinct images pushed`);
		assert.equal(team.published?.size, 32, 'the files published beside the vectors');
	});
	after(() => encoder.dispose());

	it('pulls what the store has and embeds nothing; the vectors are the ones pushed', async () => {
		const root = await tempDir('clip-team-b-');
		await copyFixtureImages(root);
		const dir = await tempDir('clip-team-ib-');
		const reader = new FakeStore(false);
		team.vectors.forEach((v, h) => reader.vectors.set(h, v));
		const b = await indexFolder(await openIndexForWriting(dir, root, spec), encoder, { remote: reader });
		assert.equal(b.embedded, 0);
		assert.equal(b.pulled, team.vectors.size);
		assert.equal(b.pulled! + b.reused, 32);
		assert.equal(b.pushed, 0);
		const store = await IndexStore.load(dir);
		for (const v of store.vectors()) {
			assert.deepEqual(v.vector, team.vectors.get(v.hash));
		}
	});

	it('a store that drops mid-pull: what came is kept, the rest is embedded here, the log says so, and the index is whole', async () => {
		const root = await tempDir('clip-team-c-');
		await copyFixtureImages(root);
		const dir = await tempDir('clip-team-ic-');
		const flaky = new FakeStore(false);
		team.vectors.forEach((v, h) => flaky.vectors.set(h, v));
		flaky.failPullAfter = 10;
		const lines: string[] = [];
		const c = await indexFolder(await openIndexForWriting(dir, root, spec), encoder, { remote: flaky, log: m => lines.push(m) });
		assert.equal(c.pulled, 10);
		assert.equal(c.embedded + c.reused + c.pulled!, 32);
		assert.ok(c.embedded >= 20);
		assert.deepEqual(c.failed, []);
		assert.ok(lines.some(l => /ECONNRESET.*10 vector\(s\) pulled before that, the rest are embedded here/.test(l)), lines.join('\n'));
		// Embedded here or pulled, the vectors agree (the engine is deterministic on the CPU).
		const store = await IndexStore.load(dir);
		for (const v of store.vectors()) {
			const shared = team.vectors.get(v.hash)!;
			assert.ok(v.vector.every((x, i) => Math.abs(x - shared[i]) < 1e-5), v.hash);
		}
		assert.equal(store.files.size, 32);
	});

	it('a store unreachable from the start, and one that drops mid-push: the index here is complete, and the next run pushes what the store lacks', async () => {
		const root = await tempDir('clip-team-d-');
		await copyFixtureImages(root);
		const dir = await tempDir('clip-team-id-');
		const down = new FakeStore(true);
		down.failPullAfter = 0;
		down.failPush = true;
		const lines: string[] = [];
		const d = await indexFolder(await openIndexForWriting(dir, root, spec), encoder, { remote: down, log: m => lines.push(m) });
		assert.equal(d.pulled, 0);
		assert.equal(d.pushed, 0);
		assert.equal(d.embedded + d.reused, 32);
		assert.ok(lines.some(l => /the push failed .*EPIPE.*the next run with --push sends what the store lacks/.test(l)), lines.join('\n'));
		down.failPush = false;
		down.failPullAfter = undefined;
		const again = await indexFolder(await openIndexForWriting(dir, root, spec), encoder, { remote: down });
		assert.equal(again.embedded, 0, 'nothing changed here');
		assert.equal(again.pushed, d.embedded, 'everything embedded before reaches the store now');
	});

	it('a file too big to be an image is not hashed for the store: the embedding pass refuses it from its size', async () => {
		const root = await tempDir('clip-team-f-');
		await copyFixtureImages(root);
		const h = await fs.open(path.join(root, 'huge.png'), 'w');
		await h.truncate(300_000_000); // sparse: no disk used
		await h.close();
		const asked: string[] = [];
		const store = new FakeStore(false);
		const pull = store.pull.bind(store);
		store.pull = async hashes => {
			asked.push(...hashes);
			return pull(hashes);
		};
		const f = await indexFolder(await openIndexForWriting(await tempDir('clip-team-if-'), root, spec), encoder, { remote: store, maxPixels: 1_000_000 });
		assert.deepEqual(f.failed.map(x => x.path), ['huge.png']);
		assert.match(f.failed[0].error, /more than any image within the limit .* it was not read/);
		assert.equal(new Set(asked).size, team.vectors.size, 'the store was asked for the 32 images\' hashes only');
	});

	it('refuses vectors of the wrong dimension from the store, embedding those files here', async () => {
		const root = await tempDir('clip-team-e-');
		await copyFixtureImages(root);
		const bad = new FakeStore(false);
		team.vectors.forEach((v, h) => bad.vectors.set(h, v.subarray(0, 3)));
		const lines: string[] = [];
		const e = await indexFolder(await openIndexForWriting(await tempDir('clip-team-ie-'), root, spec), encoder, { remote: bad, log: m => lines.push(m) });
		assert.equal(e.pulled, 0);
		assert.equal(e.embedded + e.reused, 32);
		assert.ok(lines.some(l => /\d+ vector\(s\) refused \(3 dimensions, not \d+\)/.test(l)), lines.join('\n'));
	});
});
