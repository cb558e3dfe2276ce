/**
 * @file What counts as an image and what is never scanned: the one list used by the walker, the
 * watcher's filter, the query parser, the CLI and the extension (package.json's `when` clauses are
 * checked against it by a test).
 */

/** File extensions the indexer reads (lower case, without the dot). */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'jfif', 'webp', 'gif', 'avif', 'tif', 'tiff', 'svg', 'bmp', 'ico', 'heic', 'heif'] as const;

/** The include glob when the user gives none: every image format. */
export const DEFAULT_INCLUDE = [`**/*.{${IMAGE_EXTENSIONS.join(',')}}`];

/** Folders nobody wants scanned (version control, dependencies, an index kept in the workspace). */
export const ALWAYS_EXCLUDED_FOLDERS = ['node_modules', '.git', '.hg', '.svn', 'clip-search-index'] as const;

/** ALWAYS_EXCLUDED_FOLDERS as globs, for the walker's exclude list. */
export const DEFAULT_EXCLUDE = ALWAYS_EXCLUDED_FOLDERS.map(f => `**/${f}/**`);

const IMAGE_EXT = new RegExp(`\\.(${IMAGE_EXTENSIONS.join('|')})$`, 'i');
const EXCLUDED_SEGMENT = new RegExp(`(^|[\\\\/])(${ALWAYS_EXCLUDED_FOLDERS.map(f => f.replace(/\./g, '\\.')).join('|')})([\\\\/]|$)`);

/** Whether a path (absolute or relative) names an image by its extension. */
export function isImagePath(file: string): boolean {
	return IMAGE_EXT.test(file);
}

/** Whether a path lies in (or is) one of the folders that are never scanned. */
export function inExcludedFolder(file: string): boolean {
	return EXCLUDED_SEGMENT.test(file);
}
