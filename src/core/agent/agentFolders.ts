/**
 * @file What every agent tool shares: the folders it may reach and the one way in ([Note: what an
 * agent may reach] in agentTools.ts): a folder by name or path, a path kept inside its folder, a
 * file read once with a bound, an index or a clear "not indexed", previews only when asked.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { ClipError, describeError } from '../common/errors';
import { readImageFile } from '../common/files';
import { confinePath } from '../common/confine';
import { isInside } from '../common/safePaths';
import type { FolderSession } from '../index/folderSession';
import type { IndexStore } from '../index/indexStore';
import type { ClipEncoder } from '../model/runtime/encoder';
import { DEFAULT_MAX_PIXELS } from '../model/inputs/preprocess';
import type { TextRecognizer } from '../ocr/ocrPass';
import type { FolderUses } from '../refs/folderUses';
import { MAX_THUMBNAILS } from './toolDefs';

/** What a tool returns, for either face to shape: JSON first, previews and links on request. */
export interface ToolOutput {
	data: Record<string, unknown>;
	images: { path: string; mimeType: 'image/webp'; base64: string }[];
	links: { uri: string; name: string; mimeType: string }[];
}

export interface AgentFolder {
	name: string;
	root: string;
	indexDir: string;
}

export interface AgentContext {
	folders: AgentFolder[];
	/** The folder's session (the worker's, or one of the MCP server's). */
	session(folder: AgentFolder): FolderSession | Promise<FolderSession>;
	/** The encoder for this index's model, never downloading it (ModelNotFound then). */
	encoder(store: IndexStore): Promise<ClipEncoder>;
	/** Text recognition for an image whose text the index has not read yet. */
	ocr(): Promise<TextRecognizer>;
	/** The folder's references, up to date ([Note: references kept up to date] in core/refs/refIndex.ts), over its index when it has one. */
	uses(folder: AgentFolder, index: IndexStore | undefined): Promise<FolderUses>;
	/** Whether this process is indexing the folder now (the worker knows; the MCP server reads the lock). */
	indexing?(folder: AgentFolder): boolean | Promise<boolean>;
	maxPixels?: number;
	log?: (message: string) => void;
}

export const NOT_INDEXED = (root: string): string => `The folder ${root} is not indexed yet: run \`clip-search index .\` in it (or open it in VS Code with CLIP Image Search), then try again.`;

export function fail(message: string, code: ConstructorParameters<typeof ClipError>[0] = 'InvalidArgument'): never {
	throw new ClipError(code, message);
}

export async function indexOf(ctx: AgentContext, folder: AgentFolder): Promise<IndexStore> {
	let store: IndexStore | undefined;
	try {
		store = await (await ctx.session(folder)).read();
	} catch (err) {
		fail(`The index of ${folder.root} cannot be read (${describeError(err)}). Run \`clip-search index .\` in it to rebuild it.`, 'IndexCorrupt');
	}
	return store ?? fail(NOT_INDEXED(folder.root), 'IndexNotFound');
}

export const folderWords = (ctx: AgentContext): string => (ctx.folders.length === 1 ? `the folder ${ctx.folders[0].root}` : 'the workspace folders');

/** [Note: what an agent may reach]: the one answer for missing, outside and unreadable paths. */
export function noSuch(ctx: AgentContext, given: string, what: string): ClipError {
	return new ClipError('FileUnreadable', `${given}: no such ${what} in ${folderWords(ctx)}. Give a path relative to the folder, as search results give it.`);
}

/** The folder a path names: a folder's name as its first segment (several folders), else the first folder whose root holds it. */
export function folderOf(ctx: AgentContext, given: string): { folder: AgentFolder; given: string } | undefined {
	if (ctx.folders.length > 1) {
		const [first, ...rest] = given.split(/[\\/]/);
		const named = ctx.folders.find(f => f.name === first);
		if (named && !path.isAbsolute(given)) {
			return { folder: named, given: rest.join('/') || '.' };
		}
	}
	const folder = ctx.folders.find(f => isInside(f.root, path.resolve(f.root, given)));
	return folder ? { folder, given } : undefined;
}

/**
 * A path from the agent, inside a folder once links are followed ([Note: what an agent may reach]).
 * `kind: 'file'` must be a regular file; 'folder' a folder ('.' or the root itself: the whole folder).
 */
export async function resolveInFolder(ctx: AgentContext, given: string, kind: 'file' | 'folder', what = kind === 'file' ? 'image' : 'folder'): Promise<{ folder: AgentFolder; rel: string; abs: string }> {
	const found = folderOf(ctx, given);
	if (!found) {
		throw noSuch(ctx, given, what);
	}
	try {
		const { abs, rel } = await confinePath(found.folder.root, found.given, what);
		const st = await fs.stat(abs);
		if (kind === 'file' ? !st.isFile() : !st.isDirectory()) {
			throw noSuch(ctx, given, what);
		}
		return { folder: found.folder, rel, abs };
	} catch {
		throw noSuch(ctx, given, what);
	}
}

/** Reads a file the agent named, inside its folder, once and bounded; any failure is the one answer. */
export async function readInFolder<T>(ctx: AgentContext, given: string, folder: AgentFolder, what: string, read: () => Promise<T>): Promise<T> {
	try {
		return await read();
	} catch (err) {
		if (ClipError.is(err, 'ImageTooLarge') || ClipError.is(err, 'DecodeFailed') || ClipError.is(err, 'ClassesInvalid') || ClipError.is(err, 'InvalidArgument')) {
			throw err; // about a file inside the folder: its own message helps
		}
		throw noSuch(ctx, given, what);
	}
}

/** `folder` argument: a folder of the workspace (by name, '.', or its path), or a folder inside one (a scope). */
export async function scopeOf(ctx: AgentContext, folder: string | undefined): Promise<{ folders: AgentFolder[]; scope?: string }> {
	if (!folder || ((folder === '.' || folder === './') && ctx.folders.length > 1)) {
		return { folders: ctx.folders };
	}
	const named = ctx.folders.find(f => f.name === folder || path.resolve(f.root) === path.resolve(folder));
	if (named) {
		return { folders: [named] };
	}
	const { folder: f, rel } = await resolveInFolder(ctx, folder, 'folder');
	return { folders: [f], ...(rel ? { scope: rel } : {}) };
}

export const shown = (ctx: AgentContext, folder: AgentFolder, rel: string): string => (ctx.folders.length > 1 ? `${folder.name}/${rel}` : rel);

/** A WebP preview, `size` px on the long side, of an image that stays inside `root`. */
export async function preview(abs: string, size: number, maxPixels: number, root: string): Promise<string> {
	const bytes = await readImageFile(abs, maxPixels, 'the image', root);
	const webp = await sharp(bytes, { limitInputPixels: maxPixels, autoOrient: true, pages: 1 })
		.flatten({ background: '#ffffff' })
		.resize(size, size, { fit: 'inside', withoutEnlargement: true })
		.webp({ quality: 75 })
		.toBuffer();
	return webp.toString('base64');
}

export async function withPreviews(ctx: AgentContext, hits: { abs: string; shown: string; root: string }[], input: { include_thumbnails: boolean; thumbnail_size: number }): Promise<Pick<ToolOutput, 'images' | 'links'>> {
	const links = hits.map(h => ({ uri: pathToFileURL(h.abs).href, name: h.shown, mimeType: mimeOf(h.abs) }));
	const images: ToolOutput['images'] = [];
	if (input.include_thumbnails) {
		for (const h of hits.slice(0, MAX_THUMBNAILS)) {
			try {
				images.push({ path: h.shown, mimeType: 'image/webp', base64: await preview(h.abs, input.thumbnail_size, ctx.maxPixels ?? DEFAULT_MAX_PIXELS, h.root) });
			} catch (err) {
				ctx.log?.(`preview of ${h.shown}: ${describeError(err)}`);
			}
		}
	}
	return { images, links };
}

export function mimeOf(file: string): string {
	const ext = path.extname(file).slice(1).toLowerCase();
	return ({ jpg: 'image/jpeg', jpeg: 'image/jpeg', jfif: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', svg: 'image/svg+xml', avif: 'image/avif', tif: 'image/tiff', tiff: 'image/tiff', bmp: 'image/bmp' } as Record<string, string>)[ext] ?? 'application/octet-stream';
}

