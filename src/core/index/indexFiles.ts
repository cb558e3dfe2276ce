/**
 * @file An index folder's files: reading the committed generation (manifest, catalog, graph), each
 * checked before it is used, and committing a new one ([Note: crash safety] in indexStore.ts).
 * IndexStore holds the state; this file holds how it lies on disk.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { commitFile, tempSibling, writeFileAtomic } from '../common/atomicFile';
import { isMissingFile } from '../common/confine';
import { ClipError, describeError } from '../common/errors';
import { type CatalogJson, checkCatalog, INDEX_FORMAT, type ManifestJson, MAX_CATALOG_BYTES, MAX_MANIFEST_BYTES, type ModelStamp, readGraphBytes, readIndexText, type WalkRules } from './catalogFile';
import { checkHnswFile } from './hnswFile';
import { foreignIndexDir, isOurTempName } from './indexDir';

/** Generations count commits: far below 2^53, so that the next one is always a new whole number. */
const MAX_GENERATION = 1e12;

function isGeneration(g: unknown): g is number {
	return Number.isSafeInteger(g) && (g as number) >= 1 && (g as number) <= MAX_GENERATION;
}

/** True when `dir` holds a committed index. */
export async function indexExists(dir: string): Promise<boolean> {
	return fs.access(path.join(dir, 'manifest.json')).then(
		() => true,
		() => false,
	);
}

/** The committed generation: its catalog (checked) and graph file, with the graph's vectors (checked: [Note: untrusted graphs]). */
export interface Committed {
	generation: number;
	catalog: CatalogJson;
	graphFile: string;
	vectors: Map<number, Float32Array>;
}

/**
 * Reads and checks the committed generation of `dir`. IndexNotFound when there is none,
 * IndexCorrupt naming the file when any of it cannot be used.
 */
export async function readCommitted(dir: string): Promise<Committed> {
		const manifestFile = path.join(dir, 'manifest.json');
		// [Note: an index folder is ours only if it says so] in indexDir.ts: another tool's manifest.json is not read as ours.
		const foreign = await foreignIndexDir(dir);
		if (foreign) {
			throw foreign;
		}
		let manifestText: string;
		try {
			manifestText = await readIndexText(manifestFile, MAX_MANIFEST_BYTES);
		} catch (err) {
			if (isMissingFile(err)) {
				throw new ClipError('IndexNotFound', `No index in ${dir}. Run "clip-search index <folder>" first.`, { file: manifestFile });
			}
			throw new ClipError('IndexCorrupt', `${describeError(err)} Delete the index folder and index again.`, { file: manifestFile, cause: err });
		}
		let manifest: ManifestJson;
		try {
			manifest = JSON.parse(manifestText) as ManifestJson;
		} catch (err) {
			throw new ClipError('IndexCorrupt', `${manifestFile} is not valid JSON. Delete the index folder and index again.`, { file: manifestFile, cause: err });
		}
		if (!isGeneration(manifest.generation)) {
			throw new ClipError('IndexCorrupt', `${manifestFile}: the generation is not a whole number from 1 to ${MAX_GENERATION}. Index the folder again.`, { file: manifestFile });
		}
		if (manifest.format !== INDEX_FORMAT) {
			throw new ClipError('IndexCorrupt', `${manifestFile}: index format ${manifest.format} is not ${INDEX_FORMAT}. Delete the index folder and index again.`, {
				file: manifestFile,
			});
		}
		const catalogFile = path.join(dir, `catalog-${manifest.generation}.json`);
		const graphFile = path.join(dir, `vectors-${manifest.generation}.hnsw`);
		const catalogText = await readIndexText(catalogFile, MAX_CATALOG_BYTES).catch(async (err: unknown) => {
			if (!isMissingFile(err)) {
				throw new ClipError('IndexCorrupt', `${describeError(err)} Index the folder again (it is rebuilt).`, { file: catalogFile, cause: err });
			}
			if ((await generationOnDisk(dir)) === manifest.generation) {
				// Not a writer's commit racing this read (the manifest still names it): the generation is gone.
				throw new ClipError('IndexCorrupt', `${manifestFile} names generation ${manifest.generation}, but ${path.basename(catalogFile)} is missing. Index the folder again (it is rebuilt).`, { file: catalogFile, cause: err });
			}
			throw err;
		});
		let catalog: CatalogJson;
		try {
			catalog = JSON.parse(catalogText) as CatalogJson;
		} catch (err) {
			throw new ClipError('IndexCorrupt', `${catalogFile} is not valid JSON. Delete the index folder and index again.`, { file: catalogFile, cause: err });
		}
		checkCatalog(catalog, catalogFile);
		const graph = await readGraphBytes(graphFile).catch((err: unknown) => {
			// (a missing graph of the committed generation, too: named, and the writer rebuilds)
			throw new ClipError('IndexCorrupt', `${graphFile} cannot be read (${describeError(err)}). Index the folder again.`, { file: graphFile, cause: err });
		});
		// [Note: untrusted graphs] in hnswFile.ts: checked before the native code sees it.
		const { labels, count, vectors } = checkHnswFile(graph, catalog.model.dim, graphFile);
		// Every label below nextLabel is a point of the graph (labels are reused, never skipped): a
		// nextLabel beyond the graph's count would allocate for points that do not exist (2^53 aborted V8).
		if (catalog.nextLabel !== count) {
			throw new ClipError('IndexCorrupt', `${catalogFile} counts ${catalog.nextLabel} labels, but ${path.basename(graphFile)} holds ${count} points. Index the folder again (it is rebuilt).`, { file: catalogFile });
		}
		const missing = Object.values(catalog.embeddings).find(label => !labels.has(label));
		if (missing !== undefined) {
			throw new ClipError('IndexCorrupt', `${graphFile} lacks the vector of label ${missing} that ${path.basename(catalogFile)} names. Index the folder again.`, { file: graphFile });
		}
		return { generation: manifest.generation, catalog, graphFile, vectors };
}

/**
 * The model and walk globs an index's committed catalog names, read without its graph (so a
 * damaged graph still tells which model to index again with). undefined when there is none to read.
 */
export async function committedSettings(dir: string): Promise<{ model: ModelStamp; walk?: WalkRules } | undefined> {
	try {
		const generation = await generationOnDisk(dir);
		if (generation === undefined) {
			return undefined;
		}
		const catalogFile = path.join(dir, `catalog-${generation}.json`);
		const catalog = JSON.parse(await readIndexText(catalogFile, MAX_CATALOG_BYTES)) as CatalogJson;
		checkCatalog(catalog, catalogFile);
		return { model: catalog.model, walk: catalog.walk };
	} catch {
		return undefined;
	}
}

/**
 * The generation committed in `dir` now, from its manifest (a few hundred bytes): a reader
 * compares it with the one it loaded to see whether another process has committed since.
 * undefined when there is no readable manifest.
 */
export async function generationOnDisk(dir: string): Promise<number | undefined> {
	try {
		const manifest = JSON.parse(await readIndexText(path.join(dir, 'manifest.json'), MAX_MANIFEST_BYTES)) as ManifestJson;
		return isGeneration(manifest.generation) ? manifest.generation : undefined;
	} catch {
		return undefined;
	}
}

/** Writes a generation's catalog and graph beside the old ones, then the manifest that names them, then removes the rest ([Note: crash safety]). */
export async function commitGeneration(dir: string, generation: number, catalog: CatalogJson, writeGraph: (file: string) => Promise<unknown>): Promise<void> {
	const catalogFile = path.join(dir, `catalog-${generation}.json`);
	const graphFile = path.join(dir, `vectors-${generation}.hnsw`);
	await writeFileAtomic(catalogFile, JSON.stringify(catalog));
	const graphTmp = tempSibling(graphFile);
	try {
		await writeGraph(graphTmp);
	} catch (err) {
		await fs.rm(graphTmp, { force: true });
		throw err;
	}
	await commitFile(graphTmp, graphFile);
	await writeFileAtomic(path.join(dir, 'manifest.json'), JSON.stringify({ format: INDEX_FORMAT, generation } satisfies ManifestJson));
	await removeStaleFiles(dir, generation);
}

/**
 * Deletes other generations and temporary files left by crashed writers: our file names only, in a
 * folder that is ours ([Note: an index folder is ours only if it says so] in indexDir.ts).
 */
async function removeStaleFiles(dir: string, generation: number): Promise<void> {
	const keep = new Set([`catalog-${generation}.json`, `vectors-${generation}.hnsw`]);
	for (const name of await fs.readdir(dir)) {
		if (!keep.has(name) && (/^(catalog-\d+\.json|vectors-\d+\.hnsw)$/.test(name) || isOurTempName(name))) {
			await fs.rm(path.join(dir, name), { force: true });
		}
	}
}

/** Size in bytes of a generation's files. */
export async function committedSize(dir: string, generation: number): Promise<number> {
	let total = 0;
	for (const name of [`catalog-${generation}.json`, `vectors-${generation}.hnsw`]) {
		total += (await fs.stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size;
	}
	return total;
}
