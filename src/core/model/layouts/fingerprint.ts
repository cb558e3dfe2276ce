/** @file The revision of a model folder that no registry pins: its files' fingerprint. */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { cachedSha256 } from '../files/fileDigest';
import { MAX_TOKENIZER_BYTES, readModelBytes } from '../files/modelFiles';

/**
 * [Note: local fingerprint] A local folder's "revision": the SHA-256 of its configs, its tokenizer and
 * the content of both ONNX files (cached by path, size and mtime: fileDigest.ts). Retrained weights
 * of the same shape therefore get a new key, and their vectors are never mixed with the old ones.
 */
export async function localFingerprint(files: string[]): Promise<string> {
	const hash = createHash('sha256');
	for (const file of files) {
		hash.update(path.basename(file));
		hash.update(file.endsWith('.onnx') ? await cachedSha256(file) : await readModelBytes(file, MAX_TOKENIZER_BYTES));
	}
	return `local-${hash.digest('hex').slice(0, 16)}`;
}
