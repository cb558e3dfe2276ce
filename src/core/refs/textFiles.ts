/**
 * @file Which files are read for image references, and how much of each: the text files where
 * images are used (Markdown, HTML and templates, stylesheets, scripts, manifests), never dependencies
 * or build output, a bounded size, and nothing binary.
 */
import { isImagePath } from '../index/imageFiles';

/** The kinds of text a file is read as (extract.ts has one reader each). */
export type TextKind = 'markdown' | 'html' | 'css' | 'script' | 'data';

const KINDS: Record<string, TextKind> = {
	md: 'markdown',
	markdown: 'markdown',
	mdx: 'markdown',
	html: 'html',
	htm: 'html',
	vue: 'html',
	svelte: 'html',
	astro: 'html',
	css: 'css',
	scss: 'css',
	sass: 'css',
	less: 'css',
	js: 'script',
	jsx: 'script',
	mjs: 'script',
	cjs: 'script',
	ts: 'script',
	tsx: 'script',
	mts: 'script',
	cts: 'script',
	json: 'data',
	webmanifest: 'data',
	yaml: 'data',
	yml: 'data',
};

/** The globs of the text files read (the walker's include). */
export const TEXT_INCLUDE = [`**/*.{${Object.keys(KINDS).join(',')}}`];

/**
 * Folders of dependencies and build output, never read for references (a setting or --exclude adds
 * more): what is built from the sources refers to the same images again, under other names.
 */
export const BUILD_EXCLUDES = ['node_modules', 'dist', 'build', 'out', '.next', '.nuxt', '.svelte-kit', '.output', '.astro', '.docusaurus', 'coverage', '.cache', '.turbo', '.vercel', 'vendor', 'bower_components'].map(f => `**/${f}/**`);

/**
 * The product's own files, never read for references: the tags file names every tagged image and an
 * index kept in the folder (clipSearch.indexLocation "workspace") every indexed one; neither is a use.
 */
export const OWN_FILES = ['**/.vscode/image-tags.json', '**/.vscode/clip-search-index/**'];

/** A text file larger than this is passed over (and counted): a minified bundle or a data dump, not a page. */
export const MAX_TEXT_FILE_BYTES = 2 * 1024 * 1024;

/** How a file is read, by its name; undefined for a file that is not read. */
export function textKindOf(rel: string): TextKind | undefined {
	const dot = rel.lastIndexOf('.');
	return dot < 0 || isImagePath(rel) ? undefined : KINDS[rel.slice(dot + 1).toLowerCase()];
}

/** Whether the bytes look like text: no NUL in the first 8 KB (a binary file with a text name). */
export function looksLikeText(bytes: Uint8Array): boolean {
	return !bytes.subarray(0, 8192).includes(0);
}
