/**
 * @file One whole-process run of the product for the bench's peer comparison (figure 4): loads the
 * model and creates its session (outside the timing, as bench/peer.mjs does for transformers.js),
 * then indexes the folder into a fresh index and prints {"rate","failed","count"}.
 * Usage: node out/bench/productRun.js <modelDir> <imagesDir> <fp32|quantized> [--overlap]
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClipEncoder } from '../src/core/model/runtime/encoder';
import { indexFolder } from '../src/core/index/indexer';
import { openIndexForWriting } from '../src/core/index/indexSession';
import { type ModelVariant } from '../src/core/model/layouts/modelSpec';
import { loadModelSpec } from '../src/core/model/layouts/loadModelSpec';
import { decodeImage } from '../src/core/model/inputs/preprocess';

async function main(): Promise<void> {
	const [modelDir, imagesDir, variant] = process.argv.slice(2);
	const spec = await loadModelSpec(modelDir, { variant: variant as ModelVariant });
	const encoder = new ClipEncoder(spec, { provider: 'cpu' });
	const first = (await fs.readdir(imagesDir)).filter(f => /\.png$/i.test(f))[0];
	await encoder.encodeImages([await decodeImage(first, await fs.readFile(path.join(imagesDir, first)), spec.preprocess)]);
	const indexDir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-run-'));
	const result = await indexFolder(await openIndexForWriting(indexDir, imagesDir, spec), encoder, {
		batchSize: 16,
		exclusiveInference: process.argv.includes('--overlap') ? false : undefined,
	});
	await fs.rm(indexDir, { recursive: true, force: true });
	await encoder.dispose();
	process.stdout.write(`${JSON.stringify({ rate: result.embedded / result.seconds, failed: result.failed.length, count: result.scanned })}\n`);
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
