import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cachedSha256, clearDigestMemory, sha256File } from '../../../../src/core/model/files/fileDigest';
import { modelKey } from '../../../../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { tempDir, tinyModelDir } from '../../../helpers';

describe('local model fingerprint (by content)', () => {
	it('changes when weights change without changing size, and not otherwise', async () => {
		const dir = await tempDir('clip-model-');
		await fs.cp(tinyModelDir, dir, { recursive: true });
		const before = modelKey(await loadModelSpec(dir));
		assert.equal(modelKey(await loadModelSpec(dir)), before, 'stable for the same files');
		// "Retrained": one byte near the end of the vision weights, same size.
		const file = path.join(dir, 'onnx', 'vision_model.onnx');
		const bytes = await fs.readFile(file);
		bytes[bytes.length - 10] ^= 0x5a;
		await fs.writeFile(file, bytes);
		const after = modelKey(await loadModelSpec(dir));
		assert.notEqual(after, before);
	});

	it('hashes a file once: later calls read the cache keyed by path, size and mtime', async () => {
		const dir = await tempDir('clip-digest-');
		const file = path.join(dir, 'w.onnx');
		const cache = path.join(dir, 'digests.json');
		await fs.writeFile(file, 'abc');
		const first = await cachedSha256(file, cache);
		assert.equal(first, await sha256File(file));
		const stored = JSON.parse(await fs.readFile(cache, 'utf8')) as Record<string, { sha256: string }>;
		assert.equal(stored[file].sha256, first);
		// A planted cache entry with the same size and mtime is believed (so no re-hash happened).
		stored[file].sha256 = 'planted';
		await fs.writeFile(cache, JSON.stringify(stored));
		clearDigestMemory();
		assert.equal(await cachedSha256(file, cache), 'planted');
		// A new mtime invalidates it.
		await fs.utimes(file, new Date(), new Date(Date.now() + 5000));
		clearDigestMemory();
		assert.equal(await cachedSha256(file, cache), first);
	});
});
