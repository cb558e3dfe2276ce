/**
 * @file Which folders are index folders of ours, and which files in them we wrote.
 *
 * [Note: an index folder is ours only if it says so] `--index DIR` and `clipSearch.indexLocation`
 * name any folder a person types. A web app's folder holds a `manifest.json`; another tool's may
 * hold `catalog-7.json` or `draft.tmp`. Writing our manifest over theirs, or cleaning up "stale"
 * files by name, destroyed them. So an index folder carries a marker (MARKER, written before
 * anything else, with content no other tool writes), and:
 *   - a missing or empty folder is claimed (the marker written first);
 *   - a folder with the marker is ours;
 *   - a folder without it is ours only when everything in it is an index of ours as earlier
 *     versions wrote it (a manifest of our shape naming a catalog of our shape, and nothing but our
 *     file names): it is migrated (the marker added);
 *   - anything else is refused with NotAnIndex, naming the folder and what is in it; nothing is changed.
 * Cleanup removes only our file names (generations and our temporary files), and only in a marked folder.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClipError } from '../common/errors';
import { type CatalogJson, checkCatalog, INDEX_FORMAT, MAX_CATALOG_BYTES, MAX_MANIFEST_BYTES, readIndexText } from './catalogFile';

export const MARKER = '.clip-search-index';
export const MARKER_CONTENT = '{"clipImageSearchIndex":1}\n';

const OUR_NAME = /^(manifest\.json|catalog-\d{1,15}\.json|vectors-\d{1,15}\.hnsw|index\.lock)$/;
/** tempSibling()'s names (atomicFile.ts) for our files: `.<name>.<pid>.<8 hex>.tmp`. */
const OUR_TEMP = /^\.(manifest\.json|catalog-\d{1,15}\.json|vectors-\d{1,15}\.hnsw|index\.lock|\.clip-search-index)\.\d+\.[0-9a-f]{8}\.tmp$/;

/** Whether a file name is one this product writes into an index folder. */
export function isOurFileName(name: string): boolean {
	return name === MARKER || OUR_NAME.test(name) || OUR_TEMP.test(name);
}

/** Whether `name` is a temporary file of ours (a crashed writer's). */
export function isOurTempName(name: string): boolean {
	return OUR_TEMP.test(name);
}

async function hasMarker(dir: string): Promise<boolean> {
	const text = await readIndexText(path.join(dir, MARKER), MAX_MANIFEST_BYTES).catch(() => undefined);
	return text !== undefined && text.trim() === MARKER_CONTENT.trim();
}

/** The folder's entries, or undefined when it does not exist. */
async function entriesOf(dir: string): Promise<string[] | undefined> {
	try {
		return await fs.readdir(dir);
	} catch (err) {
		const code = (err as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') {
			return undefined;
		}
		if (code === 'ENOTDIR') {
			throw new ClipError('NotAnIndex', `${dir} is a file, not an index folder. Give --index a folder (a new or empty one), or none for the default.`, { file: dir });
		}
		throw err;
	}
}

/** An unmarked folder written by an earlier version: our names only, and a manifest and catalog of our shape when there is a manifest. */
async function isUnmarkedIndex(dir: string, entries: string[]): Promise<boolean> {
	if (!entries.every(isOurFileName)) {
		return false;
	}
	if (!entries.includes('manifest.json')) {
		return true; // our names only (a lock, a crashed writer's files), nothing committed
	}
	try {
		const manifest = JSON.parse(await readIndexText(path.join(dir, 'manifest.json'), MAX_MANIFEST_BYTES)) as { format?: unknown; generation?: unknown };
		if (manifest?.format !== INDEX_FORMAT || !Number.isSafeInteger(manifest.generation) || (manifest.generation as number) < 1 || Object.keys(manifest).length !== 2) {
			return false;
		}
		const catalogFile = path.join(dir, `catalog-${manifest.generation as number}.json`);
		checkCatalog(JSON.parse(await readIndexText(catalogFile, MAX_CATALOG_BYTES)) as CatalogJson, catalogFile);
		return true;
	} catch {
		return false;
	}
}

function notAnIndex(dir: string, entries: string[]): ClipError {
	const shown = entries.slice(0, 5).map(e => JSON.stringify(e)).join(', ');
	return new ClipError(
		'NotAnIndex',
		`${dir} is not an index folder of CLIP Image Search: it holds ${entries.length} other file(s) (${shown}${entries.length > 5 ? ', …' : ''}). Nothing in it was changed. Give --index (or clipSearch.indexLocation) a new or empty folder, or none for the default one.`,
		{ file: dir },
	);
}

/**
 * Makes `dir` an index folder of ours before anything is written into it ([Note: an index folder
 * is ours only if it says so]): creates and marks a missing or empty one, migrates an unmarked one
 * of ours, refuses anything else (NotAnIndex).
 */
export async function claimIndexDir(dir: string): Promise<void> {
	const entries = await entriesOf(dir);
	if (entries?.includes(MARKER) && (await hasMarker(dir))) {
		return;
	}
	if (entries && entries.length && !(await isUnmarkedIndex(dir, entries))) {
		throw notAnIndex(dir, entries);
	}
	await fs.mkdir(dir, { recursive: true });
	await fs.writeFile(path.join(dir, MARKER), MARKER_CONTENT, { flag: 'w' });
}

/**
 * For readers: undefined when `dir` may be read as an index (marked, unmarked but ours, missing or
 * empty), else the NotAnIndex error to answer with. Reading never writes the marker.
 */
export async function foreignIndexDir(dir: string): Promise<ClipError | undefined> {
	const entries = await entriesOf(dir).catch((err: unknown) => (ClipError.is(err) ? err : undefined));
	if (entries instanceof ClipError) {
		return entries;
	}
	if (!entries?.length || (entries.includes(MARKER) && (await hasMarker(dir))) || (await isUnmarkedIndex(dir, entries))) {
		return undefined;
	}
	return notAnIndex(dir, entries);
}
