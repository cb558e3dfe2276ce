/**
 * @file How an image is referenced from the file being edited, by language: Markdown image,
 * HTML img, CSS url(), else the bare relative path. No vscode import: unit-tested.
 */
import * as path from 'node:path';
import { asUrlPath } from '../../core/refs/imageUse';

/** The path of `image` relative to the folder of `fromFile`, with '/' separators. */
export function relativeReference(fromFile: string, image: string): string {
	const rel = path.relative(path.dirname(fromFile), image).split(path.sep).join('/');
	return rel.startsWith('.') ? rel : `./${rel}`;
}

export function formatReference(languageId: string, relPath: string): string {
	const name = path.posix.basename(relPath).replace(/\.[^.]+$/, '');
	switch (languageId) {
		case 'markdown':
		case 'mdx':
			return `![${name}](${asUrlPath(relPath)})`; // as the reference checker reads it back (core/refs)
		case 'html':
		case 'vue':
		case 'svelte':
		case 'javascriptreact':
		case 'typescriptreact':
		case 'php':
			return `<img src="${relPath.replace(/"/g, '&quot;')}" alt="${name.replace(/"/g, '&quot;')}">`;
		case 'css':
		case 'scss':
		case 'less':
		case 'sass':
			return `url("${relPath.replace(/"/g, '\\"')}")`;
		default:
			return relPath;
	}
}
