/**
 * @file Small PNG thumbnails for result lists, so a result grid never sends full-size photos to a
 * webview. Cached by path, size and mtime: a cache hit costs one stat, not a read of the image
 * (result lists ask for up to 50 thumbnails per keystroke).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../common/atomicFile';
import { ClipError } from '../common/errors';
import { confinePath } from '../common/confine';
import { readImageFile } from '../common/files';

/** A thumbnail of `file`, which must stay inside `within` (links followed: [Note: confinement] in common/confine.ts). */
export async function thumbnail(file: string, size: number, cacheDir: string, maxPixels: number, within: string): Promise<string> {
	const abs = (await confinePath(within, file, 'image')).abs;
	let st;
	try {
		st = await fs.stat(abs);
	} catch (err) {
		throw new ClipError('FileUnreadable', `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, { file, cause: err });
	}
	const key = createHash('sha256').update(`${abs}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 32);
	const out = path.join(cacheDir, `${key}-${size}.png`);
	if (await fs.stat(out).then(() => true, () => false)) {
		return out;
	}
	const bytes = await readImageFile(abs, maxPixels, 'the image', within);
	await fs.mkdir(cacheDir, { recursive: true });
	try {
		const png = await sharp(bytes, { limitInputPixels: maxPixels, autoOrient: true, pages: 1 })
			.resize(size, size, { fit: 'inside', withoutEnlargement: false })
			.png()
			.toBuffer();
		await writeFileAtomic(out, png);
	} catch (err) {
		throw new ClipError('DecodeFailed', `${file}: cannot make a thumbnail (${(err as Error).message.split('\n')[0]}).`, { file, cause: err });
	}
	return out;
}
