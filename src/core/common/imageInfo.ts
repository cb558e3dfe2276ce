/**
 * @file What the index records of an image besides its vector (its format by content and its pixel
 * size as seen), and the one bound both the recording and the catalog's check apply.
 *
 * [Note: recorded sizes pass their own check] A catalog whose image facts fail its check is refused
 * when read, so nothing is recorded that the check would refuse: a 20,000,000 × 1 PNG (19.5 KB)
 * made an index unreadable on every search, and every run wrote the same catalog again. Such an
 * image is refused with the reason when it is decoded (preprocess.ts).
 */

/** An image file's format (by content) and pixel size as seen (EXIF orientation applied): the query filters' facts. */
export interface ImageInfo {
	format: string;
	width: number;
	height: number;
}

/** The longest side an image may have. */
export const MAX_IMAGE_SIDE = 10_000_000;
/** Format names as the index records them (sharp's: jpeg, png, webp, heic, …). */
export const MAX_FORMAT_NAME = 16;

/** Whether an image's facts pass the catalog's check. */
export function validImageInfo(info: ImageInfo): boolean {
	const side = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) > 0 && (n as number) <= MAX_IMAGE_SIDE;
	return typeof info.format === 'string' && info.format.length <= MAX_FORMAT_NAME && side(info.width) && side(info.height);
}
