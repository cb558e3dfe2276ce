/**
 * @file The shape of an index's catalog (catalog-<gen>.json: the files, their content hashes and the
 * vector labels) and of its manifest, and the check a catalog passes before any of it is used
 * (indexStore.ts reads and writes them).
 */
import { constants as bufferConstants } from 'node:buffer';
import { readRegularFile, readRegularText } from '../common/confine';
import { ClipError } from '../common/errors';
import { isSafeRelativePath } from '../common/safePaths';
import { type ImageInfo, validImageInfo } from '../common/imageInfo';

export const INDEX_FORMAT = 1;

/**
 * [Note: every read is bounded] in common/confine.ts: an index folder can sit in the workspace
 * (clipSearch.indexLocation "workspace"), so its files come with a repository too. A manifest or a
 * lock is a few hundred bytes; a catalog about 300 bytes an image, more with text read inside
 * images (256 MiB stays under V8's longest string); a graph 4 × dim bytes an image and its links.
 */
export const MAX_MANIFEST_BYTES = 64 * 1024;
export const MAX_CATALOG_BYTES = 256 * 1024 * 1024;
export const MAX_GRAPH_FILE_BYTES = Math.min(bufferConstants.MAX_LENGTH, 8 * 1024 * 1024 * 1024);

/** An index file's text, read as every file from a folder is read. */
export function readIndexText(file: string, maxBytes: number): Promise<string> {
	return readRegularText(file, { maxBytes, what: 'the index file' });
}

/** An index graph's bytes, likewise. */
export function readGraphBytes(file: string): Promise<Buffer> {
	return readRegularFile(file, { maxBytes: MAX_GRAPH_FILE_BYTES, what: 'the index graph' });
}

export interface ModelStamp {
	/** modelKey(): id@revision#variant. Vectors of different keys are never mixed. */
	key: string;
	id: string;
	revision: string;
	variant: string;
	dim: number;
}

export interface FileEntry {
	size: number;
	mtimeMs: number;
	/** SHA-256 of the content; absent when the file could not be read. */
	hash?: string;
	/** Why the file is not indexed (decode failure, too large, unreadable...). */
	error?: string;
}

export interface CatalogJson {
	format: number;
	root: string;
	model: ModelStamp;
	provider?: string;
	/** How the provider was chosen (auto's measurement, or the setting). */
	providerChoice?: string;
	nextLabel: number;
	embeddings: Record<string, number>;
	files: Record<string, FileEntry>;
	/** Recognised text per content hash (its lines), for the hashes text recognition has seen. */
	texts?: Record<string, string[]>;
	/** Format and pixel size per content hash (the query filters' type:, wider:, taller:, size:). */
	images?: Record<string, { format: string; width: number; height: number }>;
	/** The include and exclude globs the last run walked with (`index --include/--exclude` remembers them). */
	walk?: WalkRules;
	/** Paths that left the index lately, with the content they held and when ([Note: what left the index] in indexStore.ts). */
	removed?: Record<string, RemovedFile>;
	updatedAt: string;
}

export interface RemovedFile {
	hash: string;
	/** When it left the index (ms since the epoch). */
	at: number;
}

export interface WalkRules {
	include: string[];
	exclude: string[];
}

/** At most this many globs of each kind are kept in a catalog. */
export const MAX_WALK_GLOBS = 256;

/**
 * Checks a catalog's shape before any of it is used: an index can come with a repository, and its
 * paths reach file reads (similar, thumbnails, text recognition). Every file key must be a plain
 * relative path inside the folder; labels whole numbers below nextLabel, each used once.
 */
export function checkCatalog(c: CatalogJson, file: string): void {
	const bad = (why: string): never => {
		throw new ClipError('IndexCorrupt', `${file} is damaged or not a catalog (${why}). Index the folder again.`, { file });
	};
	const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
	if (!isObject(c) || typeof c.root !== 'string' || !isObject(c.model) || !isObject(c.embeddings) || !isObject(c.files)) {
		bad('fields missing');
	}
	const m = c.model;
	if (typeof m.key !== 'string' || typeof m.id !== 'string' || typeof m.revision !== 'string' || typeof m.variant !== 'string' || !Number.isSafeInteger(m.dim) || m.dim < 1 || m.dim > 65536) {
		bad('model stamp');
	}
	if (!Number.isSafeInteger(c.nextLabel) || c.nextLabel < 0) {
		bad('nextLabel');
	}
	const used = new Set<number>();
	for (const label of Object.values(c.embeddings)) {
		if (!Number.isSafeInteger(label) || label < 0 || label >= c.nextLabel || used.has(label)) {
			bad(`label ${String(label)}`);
		}
		used.add(label);
	}
	for (const [rel, e] of Object.entries(c.files)) {
		const entry = e as unknown as Record<string, unknown>;
		if (!isSafeRelativePath(rel)) {
			bad(`the path "${rel}" is not inside the folder`);
		}
		if (!isObject(entry) || typeof entry.size !== 'number' || typeof entry.mtimeMs !== 'number' || (entry.hash !== undefined && typeof entry.hash !== 'string') || (entry.error !== undefined && typeof entry.error !== 'string')) {
			bad(`the entry of ${rel}`);
		}
	}
	const globs = (v: unknown): boolean => Array.isArray(v) && v.length <= MAX_WALK_GLOBS && v.every(g => typeof g === 'string' && g.length <= 512);
	if (c.walk !== undefined && (!isObject(c.walk) || !globs(c.walk.include) || !globs(c.walk.exclude))) {
		bad('walk');
	}
	if (c.images !== undefined && (!isObject(c.images) || Object.values(c.images).some(i => !isObject(i) || !validImageInfo(i as unknown as ImageInfo)))) {
		bad('images');
	}
	if (c.texts !== undefined && (!isObject(c.texts) || Object.values(c.texts).some(lines => !Array.isArray(lines) || lines.some(l => typeof l !== 'string')))) {
		bad('texts');
	}
	if (
		c.removed !== undefined &&
		(!isObject(c.removed) ||
			Object.entries(c.removed).some(([rel, r]) => !isSafeRelativePath(rel) || !isObject(r) || typeof r.hash !== 'string' || r.hash.length > 128 || !Number.isFinite(r.at)))
	) {
		bad('removed');
	}
}

export interface ManifestJson {
	format: number;
	generation: number;
}
