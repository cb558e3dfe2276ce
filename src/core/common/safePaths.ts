/**
 * @file Paths that come from files other people write (a tags file's keys, a classes file's
 * examples) or that are built from names they choose (a class name as a folder): each must stay
 * inside its workspace folder, or be refused and reported.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Whether `rel` is a plain relative path, '/'-separated: not absolute (no drive, no UNC), no `.` or
 * `..` segment, no empty segment, no backslash or NUL. What a tags file's keys must be.
 */
export function isSafeRelativePath(rel: string): boolean {
	if (!rel || rel.includes('\0') || rel.includes('\\') || rel.startsWith('/') || /^[a-zA-Z]:/.test(rel)) {
		return false;
	}
	return rel.split('/').every(seg => seg !== '' && seg !== '.' && seg !== '..');
}

/** Whether `candidate` (absolute) lies inside `root` (absolute), by the path alone. */
export function isInside(root: string, candidate: string): boolean {
	const rel = path.relative(path.resolve(root), path.resolve(candidate));
	return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Whether `candidate` stays inside `root` once symbolic links are followed: the deepest part of it
 * that exists is resolved, so a link inside the folder that points outside is caught.
 */
export async function staysInside(root: string, candidate: string): Promise<boolean> {
	if (!isInside(root, candidate)) {
		return false;
	}
	const realRoot = await fs.realpath(root).catch(() => path.resolve(root));
	let existing = path.resolve(candidate);
	let rest = '';
	for (;;) {
		const real = await fs.realpath(existing).catch(() => undefined);
		if (real !== undefined) {
			return isInside(realRoot, path.join(real, rest));
		}
		const up = path.dirname(existing);
		if (up === existing) {
			return false;
		}
		rest = path.join(path.basename(existing), rest);
		existing = up;
	}
}

/**
 * A class name as one folder name: characters no file system takes become '_', trailing dots and
 * spaces go (Windows drops them). undefined when nothing usable is left ('', '.', '..'), or for a
 * name Windows reserves.
 */
export function folderNameFor(name: string): string | undefined {
	// eslint-disable-next-line no-control-regex
	const cleaned = name.replace(/[\\/:*?"<>|\x00-\x1f]/g, '_').replace(/[. ]+$/, '').trim();
	if (!cleaned || cleaned === '.' || cleaned === '..' || /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(cleaned)) {
		return undefined;
	}
	return cleaned;
}
