/**
 * @file Reading image files: one content hash, and the size an
 * image file may have before it is read at all.
 *
 * [Note: files too big to be images] The pixel limit is checked from the image's header, but only
 * after the file has been read: four sparse 1.9 GB ".png" files took 7.9 GB of memory on the way. An
 * image within the limit cannot need more than 8 bytes a pixel (16-bit RGBA, uncompressed) plus its
 * metadata, so a bigger file is refused from its size alone; a big file under that cap is hashed
 * and decoded as a stream (STREAM_ABOVE), never held whole in memory.
 */
import { createHash } from 'node:crypto';
import { readRegularFile, streamRegularFile } from './confine';
import { ClipError } from './errors';
import { formatBytes } from './sizes';

/** Files above this are hashed from a stream and decoded from their path. */
export const STREAM_ABOVE = 64 * 1024 * 1024;

/** The largest file that can hold an image of `maxPixels` pixels (see the note above). */
export function maxImageFileBytes(maxPixels: number): number {
	return maxPixels * 8 + 16 * 1024 * 1024;
}

/** ImageTooLarge when a file of `size` bytes cannot be an image within `maxPixels`. */
export function checkImageFileSize(file: string, size: number, maxPixels: number): void {
	const cap = maxImageFileBytes(maxPixels);
	if (size > cap) {
		throw new ClipError(
			'ImageTooLarge',
			`${file}: ${formatBytes(size)} is more than any image within the limit of ${(maxPixels / 1e6).toFixed(0)} megapixels can take (${formatBytes(cap)}); it was not read.`,
			{ file },
		);
	}
}

/** SHA-256 of a file read as a stream (for files too big to hold in memory). */
export async function contentHashOfFile(file: string): Promise<string> {
	const hash = createHash('sha256');
	await streamRegularFile(file, chunk => hash.update(chunk), 'the image');
	return hash.digest('hex');
}

/**
 * An image file's bytes: a regular file only (never a device or a pipe), its size checked against the
 * pixel limit on the open file (see the note above), inside `within` when given ([Note: confinement]
 * in confine.ts).
 */
export async function readImageFile(file: string, maxPixels: number, what = 'the image', within?: string): Promise<Buffer> {
	return readRegularFile(file, {
		maxBytes: maxImageFileBytes(maxPixels),
		what,
		within,
		tooLarge: (f, size) => {
			try {
				checkImageFileSize(f, size, maxPixels);
			} catch (err) {
				return err as ClipError;
			}
			return new ClipError('ImageTooLarge', `${f} is too large.`, { file: f });
		},
	});
}

/** SHA-256 of a file's bytes: the key of the embedding cache (renames and copies share it). */
export function contentHash(bytes: Uint8Array): string {
	return createHash('sha256').update(bytes).digest('hex');
}
