/** @file Opens a committed index and an encoder for its model: what search, similar and label share. */
import { printable } from '../core/common/printable';
import { ClipEncoder } from '../core/model/runtime/encoder';
import { openIndexForReading } from '../core/index/indexSession';
import { readIndexDir, providerOption, threadsOption, type Values } from './args';
import { downloadReporter, log, stage } from './output';

export type ReadIndex = Awaited<ReturnType<typeof openIndexForReading>> & { encoder: ClipEncoder; dir: string };

export async function withReadIndex<T>(values: Values, fn: (ctx: ReadIndex) => Promise<T>): Promise<T> {
	const dir = await readIndexDir(values);
	const provider = providerOption(values);
	const threads = threadsOption(values);
	const ctx = await openIndexForReading(dir, { model: values.model, onProgress: downloadReporter(values.json ?? false), log });
	if (ctx.store.nativeProblem) {
		process.stderr.write(`clip-search: ${ctx.store.nativeProblem}\n`);
	}
	const encoder = new ClipEncoder(ctx.spec, { provider, threads, log, onStage: stage });
	try {
		return await fn({ ...ctx, encoder, dir });
	} finally {
		// A provider that was asked for and did not start: one line of ours (its own messages: CLIP_SEARCH_VERBOSE).
		if (values.provider && values.provider !== 'auto' && encoder.providerChoice?.includes('did not start')) {
			process.stderr.write(`clip-search: ${printable(encoder.providerChoice)}\n`);
		}
		await encoder.dispose();
	}
}
