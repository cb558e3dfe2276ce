/**
 * int8 on a CPU without VNNI (issue 38), for real: the same Node runs under qemu-user emulating a
 * Haswell (AVX2, no VNNI), where onnxruntime's U8S8 kernels take the vpmaddubsw path that saturates.
 * There the probe must say so, the full-range twin must drift, and the reduced-range twin must give
 * the uint8 model's vectors. (Speed under emulation means nothing: `npm run bench` gives speed.)
 * Needs qemu-x86_64-static (.ci/run installs it); skipped, saying so, without it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { u8s8IsExact } from '../../../../src/core/model/int8/int8Kernels';
import { fastInt8Model } from '../../../../src/core/model/int8/int8Twin';
import { loadModelSpec } from '../../../../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../../../../src/core/model/inputs/preprocess';
import { ClipEncoder } from '../../../../src/core/model/runtime/encoder';
import { cosine, fixtureImagesDir, tempDir, tinyModelDir } from '../../../helpers';

const QEMU = '/usr/bin/qemu-x86_64-static';
const CHILD = 'CLIP_TEST_NO_VNNI_CHILD';

/** In the emulated CPU: the probe's verdict and each twin's worst cosine to the uint8 file. */
async function child(): Promise<void> {
	const spec = await loadModelSpec(tinyModelDir, { variant: 'quantized' });
	const names = (await fs.readdir(fixtureImagesDir)).filter(f => f.endsWith('.png')).sort().slice(0, 12);
	const images = await Promise.all(names.map(async n => decodeImage(n, await fs.readFile(path.join(fixtureImagesDir, n)), spec.preprocess)));
	const embed = async (file: string) => {
		const encoder = new ClipEncoder({ ...spec, visionModelPath: file }, { provider: 'cpu', threads: 1, int8Kernels: 'off', env: {} });
		try {
			return await encoder.encodeImages(images);
		} finally {
			await encoder.dispose();
		}
	};
	const cacheDir = process.env.CLIP_TEST_CACHE!;
	const plain = await embed(spec.visionModelPath);
	const worst = async (kernels: 'full' | 'reduced' | 'auto') => {
		const file = await fastInt8Model(spec.visionModelPath, { cacheDir, kernels, env: {} });
		const v = await embed(file);
		return { file: path.basename(file), worst: Math.min(...plain.map((p, i) => cosine(p, v[i]))) };
	};
	process.stdout.write(`${JSON.stringify({ exact: await u8s8IsExact(), full: await worst('full'), reduced: await worst('reduced'), auto: await worst('auto') })}\n`);
}

if (process.env[CHILD]) {
	void child();
} else {
	describe('int8 on a CPU without VNNI (emulated Haswell)', () => {
		const why = process.arch !== 'x64' ? 'x86-64 only' : !existsSync(QEMU) ? `needs ${QEMU} (apt-get install qemu-user-static; .ci/run installs it)` : undefined;
		it('the probe says U8S8 saturates; the full-range twin drifts; the reduced twin gives the uint8 vectors, and auto chooses it', { skip: why, timeout: 900_000 }, async t => {
			const { stdout } = await promisify(execFile)(QEMU, ['-cpu', 'Haswell', process.execPath, __filename], {
				env: { ...process.env, [CHILD]: '1', CLIP_TEST_CACHE: await tempDir('clip-novnni-'), CLIP_SEARCH_INT8_KERNELS: '' },
				maxBuffer: 1 << 20,
				timeout: 880_000,
			});
			const r = JSON.parse(stdout.trim().split('\n').pop()!) as { exact: boolean; full: { worst: number }; reduced: { file: string; worst: number }; auto: { file: string; worst: number } };
			t.diagnostic(JSON.stringify(r));
			assert.equal(r.exact, false, 'the probe sees the saturation');
			assert.ok(r.full.worst < 0.999, `the full-range twin saturates here (worst ${r.full.worst})`);
			assert.ok(r.reduced.worst >= 0.99999, `the reduced twin is exact here (worst ${r.reduced.worst})`);
			assert.match(r.auto.file, /\.r7-/);
			assert.ok(r.auto.worst >= 0.99999);
		});
	});
}
