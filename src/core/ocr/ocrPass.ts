/**
 * @file The text pass of an index run: recognises the text of every indexed image whose content has
 * not been read yet, and keeps it per content hash beside the vectors (IndexStore). Renamed and
 * duplicated files cost nothing; an index made without text gains it later without embedding
 * anything again; a run without the pass keeps what was read.
 */
import * as path from 'node:path';
import { ClipError, describeError } from '../common/errors';
import { readImageFile } from '../common/files';
import type { IndexStore } from '../index/indexStore';
import type { OcrLine } from './ocrEngine';

export interface TextRecognizer {
	recognize(name: string, bytes: Buffer): Promise<OcrLine[]>;
}

export interface TextPassOptions {
	signal?: AbortSignal;
	/** Only images this says are worth reading (default: all). */
	wanted?: (rel: string, hash: string) => boolean | Promise<boolean>;
	checkpointSeconds?: number;
	/** The pixel limit: a file too big for an image within it is not read (common/files.ts). */
	maxPixels?: number;
	onProgress?: (done: number, todo: number) => void;
	log?: (message: string) => void;
}

export interface TextPassResult {
	read: number;
	withText: number;
	failed: number;
	seconds: number;
	cancelled: boolean;
}

export async function recognizeText(store: IndexStore, ocr: TextRecognizer, options: TextPassOptions = {}): Promise<TextPassResult> {
	const started = performance.now();
	const result: TextPassResult = { read: 0, withText: 0, failed: 0, seconds: 0, cancelled: false };
	// One file per content hash not read yet.
	const todo = new Map<string, string>();
	for (const [rel, entry] of store.files) {
		if (entry.hash && !entry.error && !store.hasText(entry.hash) && !todo.has(entry.hash)) {
			todo.set(entry.hash, rel);
		}
	}
	options.log?.(`text: reading ${todo.size} image(s)`);
	let lastSave = performance.now();
	let done = 0;
	for (const [hash, rel] of todo) {
		if (options.signal?.aborted) {
			result.cancelled = true;
			break;
		}
		done++;
		if (options.wanted && !(await options.wanted(rel, hash))) {
			continue;
		}
		try {
			const lines = await ocr.recognize(rel, await readImageFile(path.join(store.root, ...rel.split('/')), options.maxPixels ?? 100_000_000, 'the image', store.root));
			store.setText(hash, lines.map(l => l.text));
			result.read++;
			result.withText += lines.length ? 1 : 0;
		} catch (err) {
			// Not fatal: the image stays searchable by what it shows. An image that cannot be decoded is
			// recorded as text-free, so it is not tried on every run (a changed file is new content);
			// a file that could not be read (gone, busy) is tried again next time.
			result.failed++;
			if (ClipError.is(err, 'DecodeFailed') || ClipError.is(err, 'ImageTooLarge')) {
				store.setText(hash, []);
			}
			options.log?.(`text recognition of ${rel}: ${describeError(err)}`);
		}
		options.onProgress?.(done, todo.size);
		if (performance.now() - lastSave >= (options.checkpointSeconds ?? 10) * 1000) {
			await store.save();
			lastSave = performance.now();
		}
	}
	if (store.isDirty) {
		await store.save();
	}
	result.seconds = (performance.now() - started) / 1000;
	options.log?.(`text: ${result.read} image(s) read, ${result.withText} with text, ${result.failed} failed in ${result.seconds.toFixed(1)} s`);
	return result;
}
