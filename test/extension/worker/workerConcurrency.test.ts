/**
 * One request, one answer inside the extension's worker (issue 34, item 1): the worker indexes a
 * folder while similar-image searches for images the index does not hold yet run beside it, as the
 * extension does when someone searches during background indexing. Every stored vector must be the
 * image's own (the same as a CLI index of the same folder makes), and every similar answer the one
 * it gets alone. A shared pixel block stored 7 of 30 vectors of the wrong image.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { IndexStore } from '../../../src/core/index/indexStore';
import { WorkerClient } from '../../../src/extension/worker/workerClient';
import type { FolderRef } from '../../../src/extension/worker/protocol';
import { cli, clip } from '../../cli/runCli';
import { cosine, fixturesDir, repoRoot, tempDir } from '../../helpers';
import { COLOUR_RGB, SHAPE_NAMES, seeded, shapeImage } from '../../shapes';
import { testWorkerConfig } from './workerConfig';

const dist = path.join(repoRoot, 'dist');

/** `count` generated shape images in `dir`, all different. */
async function writeShapes(dir: string, count: number, seed: number): Promise<string[]> {
	const rand = seeded(seed);
	const colours = Object.keys(COLOUR_RGB);
	const names: string[] = [];
	await fs.mkdir(dir, { recursive: true });
	for (let i = 0; i < count; i++) {
		const name = `s${String(i).padStart(3, '0')}-${colours[i % colours.length]}-${SHAPE_NAMES[i % SHAPE_NAMES.length]}.png`;
		await fs.writeFile(path.join(dir, name), await shapeImage(colours[i % colours.length], SHAPE_NAMES[(i * 7) % SHAPE_NAMES.length], rand));
		names.push(name);
	}
	return names;
}

async function vectorsByFile(indexDir: string): Promise<Map<string, Float32Array>> {
	const store = await IndexStore.load(indexDir);
	const out = new Map<string, Float32Array>();
	for (const [rel, entry] of store.files) {
		const v = entry.hash ? store.vectorOf(entry.hash) : undefined;
		if (v) {
			out.set(rel, v);
		}
	}
	return out;
}

for (const [model, batches] of [
	['tiny-clip', 'a full walk'],
	['tiny-immich-clip', 'watcher batches of one image'],
] as const) {
	describe(`the worker indexes (${model}, ${batches}) while similar-image searches run`, { skip: existsSync(path.join(dist, 'inferenceWorker.js')) && existsSync(cli) ? false : 'needs dist/: run npm run build' }, () => {
		it('stores each image its own vector, and each search gets the answer it gets alone', async () => {
			const modelDir = path.join(fixturesDir, model);
			const root = await tempDir('clip-worker-conc-');
			const names = await writeShapes(root, 30, 341);
			// Two images outside the folder, embedded on request (as an image dropped into the search box is).
			const probeDir = await tempDir('clip-worker-conc-probe-');
			const probeFiles = [path.join(probeDir, 'probe-red-circle.png'), path.join(probeDir, 'probe-blue-star.png')];
			await fs.writeFile(probeFiles[0], await shapeImage('red', 'circle', seeded(900)));
			await fs.writeFile(probeFiles[1], await shapeImage('blue', 'star', seeded(901)));
			const cache = await tempDir('clip-worker-conc-cache-');
			// The reference: the CLI alone, one process, nothing beside it.
			const cliIndex = await tempDir('clip-worker-conc-cli-');
			const ref = await clip(['index', root, '--model', modelDir, '--variant', 'fp32', '--provider', 'cpu', '--index', cliIndex, '--json'], { env: { CLIP_SEARCH_CACHE: cache } });
			assert.equal(ref.code, 0, ref.stderr);
			const expected = await vectorsByFile(cliIndex);
			assert.equal(expected.size, names.length);

			const client = new WorkerClient(dist);
			try {
				await client.configure(testWorkerConfig(cache, { model: modelDir }));
				const folder: FolderRef = { root, indexDir: path.join(cache, 'index') };
				const similarOf = async (file: string): Promise<string> =>
					JSON.stringify((await client.request('similar', { folder, file, k: 5 })).map(h => [h.path, h.score.toFixed(4)]));
				// Index once so that similar has neighbours; the answers alone are taken on this index.
				const first = await client.request('index', { folder, paths: [names[0], names[1]] });
				assert.equal(first.kind, 'done');
				const alone = [await similarOf(probeFiles[0]), await similarOf(probeFiles[1])];
				assert.notEqual(alone[0], alone[1]);

				// Now the rest is indexed while the searches run: the answers are compared afterwards
				// with what each gets alone on the same (final) index.
				const searching = (async () => {
					let answered = 0;
					for (let i = 0; i < 40; i++) {
						await client.request('similar', { folder, file: probeFiles[i % 2], k: 5 });
						answered++;
					}
					return answered;
				})();
				if (batches === 'a full walk') {
					const outcome = await client.request('index', { folder });
					assert.equal(outcome.kind, 'done');
				} else {
					for (const name of names.slice(2)) {
						const outcome = await client.request('index', { folder, paths: [name] });
						assert.equal(outcome.kind, 'done');
					}
				}
				assert.equal(await searching, 40);

				const stored = await vectorsByFile(folder.indexDir);
				const wrong = names.filter(n => !(stored.has(n) && cosine(stored.get(n)!, expected.get(n)!) > 0.99999));
				assert.deepEqual(wrong, [], `${wrong.length} of ${names.length} stored vectors are not their image's own`);

				// Searches fired together on the final index each get the answer they get alone.
				const finalAlone = [await similarOf(probeFiles[0]), await similarOf(probeFiles[1])];
				const together = await Promise.all(Array.from({ length: 8 }, (_, i) => similarOf(probeFiles[i % 2])));
				together.forEach((a, i) => assert.equal(a, finalAlone[i % 2], `call ${i}`));
			} finally {
				await client.dispose();
			}
		});
	});
}
