// The peer for figure 4: transformers.js embedding a folder of images with its own image loading
// and preprocessing, from the same local ONNX files (no remote access). Prints one JSON line:
// {"rate": images/s (model load excluded), "failed": files it could not read, "count"}.
// Usage: node peer.mjs <modelDir> <imagesDir> <fp32|q8>
import { AutoProcessor, CLIPVisionModelWithProjection, RawImage, env } from '@huggingface/transformers';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const [modelDir, imagesDir, dtype] = process.argv.slice(2);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(modelDir));
const id = path.basename(path.resolve(modelDir));
const processor = await AutoProcessor.from_pretrained(id);
const model = await CLIPVisionModelWithProjection.from_pretrained(id, { dtype, device: 'cpu' });
const files = readdirSync(imagesDir).filter(f => !f.startsWith('.')).map(f => path.join(imagesDir, f));
let failed = 0;
let done = 0;
const started = performance.now();
for (let i = 0; i < files.length; i += 8) {
	const images = [];
	for (const f of files.slice(i, i + 8)) {
		try {
			images.push(await RawImage.read(f));
		} catch {
			failed++;
		}
	}
	if (!images.length) continue;
	try {
		const inputs = await processor(images);
		await model(inputs);
		done += images.length;
	} catch {
		// a batch with an image it decoded but cannot process: count them one by one
		for (const img of images) {
			try {
				await model(await processor(img));
				done++;
			} catch {
				failed++;
			}
		}
	}
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ rate: done / seconds, failed, count: files.length }));
