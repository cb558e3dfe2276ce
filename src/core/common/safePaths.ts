/**
 * @file Paths that come from files other people write (a tags file's keys, a classes file's
 * examples) or that are built from names they choose (a class name as a folder): each must stay
 * inside its workspace folder, or be refused and reported.
 */
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
