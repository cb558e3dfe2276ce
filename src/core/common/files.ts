/** @file Reading image files: one error for an unreadable file, one content hash. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { ClipError } from './errors';

/** SHA-256 of a file's bytes: the key of the embedding cache (renames and copies share it). */
export function contentHash(bytes: Uint8Array): string {
	return createHash('sha256').update(bytes).digest('hex');
}

/** Reads a file, or throws FileUnreadable naming it and the system's reason. */
export async function readFileOrThrow(file: string, what = 'the file'): Promise<Buffer> {
	try {
		return await fs.readFile(file);
	} catch (err) {
		const code = (err as NodeJS.ErrnoException).code ?? String(err);
		throw new ClipError('FileUnreadable', `Cannot read ${what} ${file}: ${code}.`, { file, cause: err });
	}
}
