/**
 * @file The on-disk index of one root: an HNSW graph of image embeddings (hnswlib-node) and a
 * catalog of the files behind them.
 *
 * Layout of an index folder:
 *   manifest.json           { format, generation }: the commit point, replaced atomically
 *   catalog-<gen>.json      files (size, mtime, content hash, error) and hash -> vector label
 *   vectors-<gen>.hnsw      the HNSW graph, labels as in the catalog
 *   index.lock              held by the one process that writes (see lock.ts)
 *
 * [Note: crash safety] A save writes a new generation's two files beside the old ones, then
 * replaces manifest.json (write temp + fsync + rename), then deletes the old generation. A
 * crash at any moment leaves a manifest that names a complete pair, so a reader never sees a
 * half-written index, and the catalog and the graph always agree on labels.
 *
 * [Note: labels] One vector per distinct content hash: duplicates and renamed files share it.
 * A hash with no file left is marked deleted in the graph and its label goes on a free list;
 * a later vector reuses the label (hnswlib updates the point in place and un-deletes it), so
 * churn never grows the graph beyond the largest number of distinct images held at once.
 *
 * This file stays whole (about 580 lines, one of the two past 450): files, labels, the free list, the
 * graph, the exact block, the texts, the image facts and the remembered removals change together
 * inside this one class, and each change keeps them consistent (a label freed when its last file and
 * its retention are gone, a text version bumped when a file shows it again); split apart, one
 * invariant would be spread over several files. How they lie on disk (reading and committing
 * generations) is indexFiles.ts; the catalog's shape and check live in catalogFile.ts, the graph's in
 * hnswFile.ts and vectorGraph.ts.
 */
import * as path from 'node:path';
import { isMissingFile } from '../common/confine';
import { ClipError } from '../common/errors';
import { type ImageInfo, validImageInfo } from '../common/imageInfo';
import { vectorProblem } from '../common/vectors';
import { type CatalogJson, type FileEntry, INDEX_FORMAT, type ModelStamp, type RemovedFile, type WalkRules } from './catalogFile';
import { EXACT_BLOCK_MAX_BYTES, ExactBlock } from './exactBlock';
import { claimIndexDir } from './indexDir';
import { commitGeneration, committedSettings, committedSize, generationOnDisk, indexExists, readCommitted } from './indexFiles';
import { createGraph, nativeHnsw, type VectorGraph } from './vectorGraph';

export { INDEX_FORMAT } from './catalogFile';

export type { FileEntry, ModelStamp, WalkRules } from './catalogFile';

export interface SearchHit {
	label: number;
	score: number;
}

const HNSW_M = 16;
const HNSW_EF_CONSTRUCTION = 200;
/**
 * [Note: default ef] The graph's candidate list when it answers (past the exact block's budget,
 * [Note: exact answers] in exactBlock.ts): 200 at least, the floor a filtered search has too (a
 * filter that passes everything switched a search to ef 200 and changed its best hit). 100 gave
 * recall@10 ≥ 0.99 on 100 k × 512 random-ish CLIP vectors but missed the best of clustered ones.
 */
export const GRAPH_EF_SEARCH = 200;
const INITIAL_CAPACITY = 1024;
/**
 * [Note: what left the index] A path that leaves the index (deleted, moved, or no longer matched by
 * the globs) is remembered with its content for RETAIN_REMOVED_MS, the last MAX_REMEMBERED_REMOVALS
 * of them, and its content's vector, text and facts are kept meanwhile: globs changed back (index
 * --include '*.jpg' dropped 361 embeddings at once) reuse them instead of embedding again, and a link
 * to a moved or renamed image is answered with its new path (the same content) or, for a replaced
 * one, the nearest. Searches never answer with a content no file shows.
 */
export const RETAIN_REMOVED_MS = 14 * 86_400_000;
export const MAX_REMEMBERED_REMOVALS = 10_000;

export class IndexStore {
	readonly files = new Map<string, FileEntry>();
	private readonly hashToLabel = new Map<string, number>();
	private readonly labelToHash = new Map<number, string>();
	private readonly hashToFiles = new Map<string, Set<string>>();
	private freeLabels: number[] = [];
	/** Content hash → the lines of text recognised in it ([] when it has none). See ocr/ocrPass.ts. */
	private readonly texts = new Map<string, string[]>();
	private readonly infos = new Map<string, ImageInfo>();
	/** [Note: what left the index] Paths removed lately: the content each held, and when. */
	private readonly removed = new Map<string, RemovedFile>();
	/** Bumped whenever the searchable text changes: text set or dropped, or its last file gone or back (textSearch.ts follows it). */
	textVersion = 0;
	private nextLabel = 0;
	private generation = 0;
	private graph: VectorGraph;
	/** Every live vector, while the index is small enough ([Note: exact answers] in exactBlock.ts). */
	private block: ExactBlock | undefined;
	provider: string | undefined;
	/** How the provider was chosen (auto's measurement, or the setting), when known. */
	providerChoice: string | undefined;
	/** The globs the folder was last walked with (remembered for `index` without --include/--exclude). */
	walk: WalkRules | undefined;
	private dirty = false;
	/** Counts changes, for caches of what depends on the files (filteredSearch.ts). */
	private changes = 0;
	private withoutInfo: { changes: number; hashes: string[] } | undefined;
	/** The folder is known to be ours (indexDir.ts): checked once, before the first write. */
	private claimed = false;

	private constructor(
		readonly dir: string,
		readonly root: string,
		private stamp: ModelStamp,
	) {
		this.graph = createGraph(stamp.dim);
		this.graph.initIndex(INITIAL_CAPACITY, HNSW_M, HNSW_EF_CONSTRUCTION, 100, false);
		this.graph.setEf(GRAPH_EF_SEARCH);
		this.block = ExactBlock.create(stamp.dim, 0, IndexStore.exactBlockBytes);
	}

	/** The exact block's budget ([Note: exact answers] in exactBlock.ts); tests and the bench lower it to reach the graph. */
	static exactBlockBytes = EXACT_BLOCK_MAX_BYTES;

	/**
	 * A new, empty index (nothing is written until save()). `afterGeneration`: the generation
	 * committed in `dir` now, when this index replaces it; its first save commits the next one, so
	 * a reader never mistakes the new index for the one it loaded.
	 */
	static create(dir: string, root: string, model: ModelStamp, afterGeneration = 0): IndexStore {
		const store = new IndexStore(path.resolve(dir), path.resolve(root), model);
		store.generation = afterGeneration;
		return store;
	}

	/** True when `dir` holds a committed index. */
	static exists(dir: string): Promise<boolean> {
		return indexExists(dir);
	}

	/**
	 * Loads the committed index in `dir`. Throws IndexNotFound when there is none and
	 * IndexCorrupt when its files cannot be read.
	 */
	static async load(dir: string): Promise<IndexStore> {
		const abs = path.resolve(dir);
		// A writer may commit a new generation (and delete this one) while we read: retry once.
		for (let attempt = 0; ; attempt++) {
			try {
				return await IndexStore.loadOnce(abs);
			} catch (err) {
				if (attempt < 2 && isMissingFile(err) && (await IndexStore.exists(abs))) {
					continue;
				}
				throw err;
			}
		}
	}

	private static async loadOnce(dir: string): Promise<IndexStore> {
		const { generation, catalog, graphFile, vectors } = await readCommitted(dir);
		const store = new IndexStore(dir, catalog.root, catalog.model);
		store.generation = generation;
		store.provider = catalog.provider;
		store.providerChoice = typeof catalog.providerChoice === 'string' ? catalog.providerChoice : undefined;
		store.walk = catalog.walk;
		try {
			await store.graph.readIndex(graphFile, false);
		} catch (err) {
			throw new ClipError('IndexCorrupt', `${graphFile} cannot be read (${(err as Error).message}). Delete the index folder and index again.`, {
				file: graphFile,
				cause: err,
			});
		}
		store.graph.setEf(GRAPH_EF_SEARCH);
		store.nextLabel = catalog.nextLabel;
		store.block = ExactBlock.create(catalog.model.dim, catalog.nextLabel, IndexStore.exactBlockBytes);
		for (const [hash, label] of Object.entries(catalog.embeddings)) {
			store.hashToLabel.set(hash, label);
			store.labelToHash.set(label, hash);
			store.block?.set(label, vectors.get(label)!);
		}
		for (const [rel, entry] of Object.entries(catalog.files)) {
			store.setFile(rel, entry);
		}
		for (const [hash, info] of Object.entries(catalog.images ?? {})) {
			store.infos.set(hash, { format: info.format, width: info.width, height: info.height });
		}
		for (const [hash, lines] of Object.entries(catalog.texts ?? {})) {
			store.texts.set(hash, lines);
		}
		for (const [rel, r] of Object.entries(catalog.removed ?? {}).sort((a, b) => a[1].at - b[1].at)) {
			store.removed.set(rel, { hash: r.hash, at: r.at });
		}
		store.dirty = false;
		// Labels below nextLabel with no hash are deleted points, free for reuse.
		for (let label = 0; label < store.nextLabel; label++) {
			if (!store.labelToHash.has(label)) {
				store.freeLabels.push(label);
			}
		}
		return store;
	}

	/** The model and walk globs the committed catalog names (indexFiles.ts committedSettings). */
	static committedSettings(dir: string): Promise<{ model: ModelStamp; walk?: WalkRules } | undefined> {
		return committedSettings(dir);
	}

	/** The model whose vectors the index holds. */
	get model(): ModelStamp {
		return this.stamp;
	}

	/** The same model at another place ([Note: a model folder that moved] in indexSession.ts): only the stamp changes. */
	restamp(model: ModelStamp): void {
		if (model.dim !== this.stamp.dim || model.revision !== this.stamp.revision || model.variant !== this.stamp.variant) {
			throw new ClipError('ModelMismatch', `${model.key} is not the model of this index (${this.stamp.key}).`);
		}
		this.stamp = model;
		this.touch();
	}

	/** Why searches scan every vector instead of the HNSW graph (the native module does not load here), if they do. */
	get nativeProblem(): string | undefined {
		const native = nativeHnsw();
		return this.graph.exact && native instanceof ClipError ? native.message : undefined;
	}

	/** The committed generation this store was loaded from or last saved as (0: never committed). */
	get committedGeneration(): number {
		return this.generation;
	}

	/** The generation committed in `dir` now (indexFiles.ts generationOnDisk). */
	static generationOnDisk(dir: string): Promise<number | undefined> {
		return generationOnDisk(dir);
	}

	/** Files in the catalog that could not be indexed (their entries carry an error). */
	get failedCount(): number {
		let n = 0;
		for (const entry of this.files.values()) {
			if (entry.error) {
				n++;
			}
		}
		return n;
	}

	get isDirty(): boolean {
		return this.dirty;
	}

	/** A number that changes whenever files, vectors, texts or image facts do. */
	get changeCount(): number {
		return this.changes;
	}

	private touch(): void {
		this.dirty = true;
		this.changes++;
	}

	/** Number of distinct vectors (live labels). */
	get vectorCount(): number {
		return this.hashToLabel.size;
	}

	/** Number of slots the graph holds, live and deleted: bounded by the largest live count. */
	get graphSize(): number {
		return this.nextLabel;
	}

	hasEmbedding(hash: string): boolean {
		return this.hashToLabel.has(hash);
	}

	labelOf(hash: string): number | undefined {
		return this.hashToLabel.get(hash);
	}

	/** The content hash a label holds, when it is live. */
	hashOfLabel(label: number): string | undefined {
		return this.labelToHash.get(label);
	}

	/** Whether some file shows the label's content (a vector kept after its files left is never an answer). */
	private shown(label: number): boolean {
		const hash = this.labelToHash.get(label);
		return !!hash && !!this.hashToFiles.get(hash)?.size;
	}

	filesOfLabel(label: number): string[] {
		const hash = this.labelToHash.get(label);
		return hash ? [...(this.hashToFiles.get(hash) ?? [])].sort() : [];
	}

	/** Whether any file of the label passes `predicate` (the search filter: no sorting, no copies). */
	someFileOfLabel(label: number, predicate: (rel: string) => boolean): boolean {
		const hash = this.labelToHash.get(label);
		const files = hash ? this.hashToFiles.get(hash) : undefined;
		if (files) {
			for (const rel of files) {
				if (predicate(rel)) {
					return true;
				}
			}
		}
		return false;
	}

	vectorOf(hash: string): Float32Array | undefined {
		const label = this.hashToLabel.get(hash);
		return label === undefined ? undefined : (this.block?.get(label) ?? Float32Array.from(this.graph.getPoint(label)));
	}

	setFile(rel: string, entry: FileEntry): void {
		this.unlinkFile(rel);
		this.removed.delete(rel);
		this.files.set(rel, entry);
		if (entry.hash && !entry.error) {
			let set = this.hashToFiles.get(entry.hash);
			if (!set) {
				set = new Set();
				this.hashToFiles.set(entry.hash, set);
				if (this.texts.has(entry.hash)) {
					this.textVersion++; // its text is shown by a file again
				}
			}
			set.add(rel);
		}
		this.touch();
	}

	/** Takes a path out of the index; its content is remembered for a while ([Note: what left the index]). */
	removeFile(rel: string, now = Date.now()): void {
		const old = this.files.get(rel);
		this.unlinkFile(rel);
		if (old?.hash && !old.error) {
			this.removed.delete(rel); // re-inserted: the newest last
			this.removed.set(rel, { hash: old.hash, at: now });
			while (this.removed.size > MAX_REMEMBERED_REMOVALS) {
				this.removed.delete(this.removed.keys().next().value!);
			}
		}
	}

	/** What a path held when it left the index lately, if it did (a link to it is broken: where did it go?). */
	removedFile(rel: string): RemovedFile | undefined {
		return this.removed.get(rel);
	}

	/** Every path that left the index lately, oldest first. */
	removedFiles(): IterableIterator<[string, RemovedFile]> {
		return this.removed.entries();
	}

	private unlinkFile(rel: string): void {
		const old = this.files.get(rel);
		if (!old) {
			return;
		}
		this.files.delete(rel);
		if (old.hash) {
			const set = this.hashToFiles.get(old.hash);
			set?.delete(rel);
			if (set && set.size === 0) {
				this.hashToFiles.delete(old.hash);
				if (this.texts.has(old.hash)) {
					this.textVersion++; // no file shows its text any more
				}
			}
		}
		this.touch();
	}

	/** Adds the vector for a content hash (L2-normalised by the caller). */
	addEmbedding(hash: string, vector: Float32Array): void {
		if (vector.length !== this.model.dim) {
			throw new ClipError('ModelMismatch', `A ${vector.length}-dimensional vector cannot go into a ${this.model.dim}-dimensional index.`);
		}
		const problem = vectorProblem(vector, this.model.dim); // [Note: vectors from elsewhere] in common/vectors.ts
		if (problem) {
			throw new ClipError('InvalidArgument', `The vector of ${hash.slice(0, 16)}… cannot go into the index: ${problem}.`);
		}
		if (this.hashToLabel.has(hash)) {
			return;
		}
		const label = this.freeLabels.pop() ?? this.nextLabel++;
		if (label >= this.graph.getMaxElements()) {
			this.graph.resizeIndex(Math.max(INITIAL_CAPACITY, this.graph.getMaxElements() * 2));
		}
		// A reused label still holds a deleted point: addPoint updates it and un-deletes it.
		this.graph.addPoint(Array.from(vector), label);
		if (this.block && ExactBlock.fits(this.model.dim, this.nextLabel, IndexStore.exactBlockBytes)) {
			this.block.set(label, vector);
		} else {
			this.block = undefined; // past the budget: the graph answers from now on
		}
		this.hashToLabel.set(hash, label);
		this.labelToHash.set(label, hash);
		this.touch();
	}

	/** Records the globs this run walks with (saved with the catalog). */
	setWalk(rules: WalkRules): void {
		if (JSON.stringify(rules) !== JSON.stringify(this.walk)) {
			this.walk = rules;
			this.touch();
		}
	}

	/** The lines text recognition read in this content, when it has seen it. */
	textOf(hash: string): string[] | undefined {
		return this.texts.get(hash);
	}

	/** How many contents text recognition has seen (0: text was never read for this index). */
	get textsRead(): number {
		return this.texts.size;
	}

	/** Whether text recognition has seen this content (lines found or not). */
	hasText(hash: string): boolean {
		return this.texts.has(hash);
	}

	setText(hash: string, lines: string[]): void {
		this.texts.set(hash, lines);
		this.textVersion++;
		this.touch();
	}

	/** The content's format and pixel size, when recorded (indexed by this version, or read back since). */
	infoOf(hash: string): ImageInfo | undefined {
		return this.infos.get(hash);
	}

	setInfo(hash: string, info: ImageInfo): void {
		if (!validImageInfo(info)) {
			return; // never recorded where the catalog's check would refuse it ([Note: recorded sizes pass their own check])
		}
		const old = this.infos.get(hash);
		if (!old || old.format !== info.format || old.width !== info.width || old.height !== info.height) {
			this.infos.set(hash, { format: info.format, width: info.width, height: info.height });
			this.touch();
		}
	}

	/**
	 * Content hashes some file shows whose format and size are not recorded (indexes made before they
	 * were). Worked out once per state: every query with a type:/size filter asks.
	 */
	hashesWithoutInfo(): string[] {
		if (this.withoutInfo?.changes !== this.changes) {
			this.withoutInfo = { changes: this.changes, hashes: [...this.hashToFiles.keys()].filter(h => this.hashToLabel.has(h) && !this.infos.has(h)) };
		}
		return [...this.withoutInfo.hashes];
	}

	/** Every content hash with recognised text that some file still shows. */
	*textEntries(): Generator<{ hash: string; lines: string[] }> {
		for (const [hash, lines] of this.texts) {
			if (lines.length && this.hashToFiles.get(hash)?.size) {
				yield { hash, lines };
			}
		}
	}

	/**
	 * Drops vectors that no file refers to any more (after renames had a chance to reuse them), except
	 * those of paths removed within RETAIN_REMOVED_MS ([Note: what left the index]); forgets older removals.
	 */
	collectGarbage(now = Date.now()): number {
		for (const [rel, r] of [...this.removed]) {
			if (now - r.at > RETAIN_REMOVED_MS || this.files.has(rel)) {
				this.removed.delete(rel);
				this.touch();
			}
		}
		const retained = new Set([...this.removed.values()].map(r => r.hash));
		const gone = (hash: string): boolean => !this.hashToFiles.has(hash) && !retained.has(hash);
		for (const hash of [...this.infos.keys()]) {
			if (gone(hash)) {
				this.infos.delete(hash);
				this.touch();
			}
		}
		for (const hash of [...this.texts.keys()]) {
			if (gone(hash)) {
				this.texts.delete(hash);
				this.textVersion++;
				this.touch();
			}
		}
		let removed = 0;
		for (const [hash, label] of this.hashToLabel) {
			if (gone(hash)) {
				this.graph.markDelete(label);
				this.block?.delete(label);
				this.hashToLabel.delete(hash);
				this.labelToHash.delete(label);
				this.freeLabels.push(label);
				removed++;
			}
		}
		if (removed) {
			this.touch();
		}
		return removed;
	}

	/**
	 * Nearest vectors to `query` by cosine. `accept` filters labels (e.g. a folder scope);
	 * `ef` trades speed for recall.
	 */
	search(query: Float32Array, k: number, options: { accept?: (label: number) => boolean; ef?: number } = {}): SearchHit[] {
		const live = this.hashToLabel.size;
		const n = Math.min(k, live);
		if (n <= 0) {
			return [];
		}
		const accept = options.accept;
		const filter = (label: number): boolean => this.shown(label) && (!accept || accept(label));
		if (this.block) {
			return this.block.top(query, n, filter);
		}
		this.graph.setEf(Math.max(options.ef ?? GRAPH_EF_SEARCH, n));
		const result = this.graph.searchKnn(Array.from(query), n, filter);
		return result.neighbors.map((label, i) => ({ label, score: 1 - result.distances[i] })).sort((a, b) => b.score - a.score);
	}

	/** The vector stored under a label (a copy), when the label is live. */
	vectorOfLabel(label: number): Float32Array | undefined {
		if (!this.labelToHash.has(label)) {
			return undefined;
		}
		return this.block?.get(label) ?? Float32Array.from(this.graph.getPoint(label));
	}

	/** Whether searches score every vector (exact) rather than walk the graph ([Note: exact answers]). */
	get exact(): boolean {
		return !!this.block || this.graph.exact;
	}

	/** Every label some file shows. */
	*liveLabels(): Generator<number> {
		for (const label of this.labelToHash.keys()) {
			if (this.shown(label)) {
				yield label;
			}
		}
	}

	/** Every label some file shows, with its vector (for duplicate finding and exact checks). */
	*vectors(): Generator<{ label: number; hash: string; vector: Float32Array }> {
		for (const [hash, label] of this.hashToLabel) {
			if (!this.hashToFiles.get(hash)?.size) {
				continue;
			}
			yield { label, hash, vector: this.block?.get(label) ?? Float32Array.from(this.graph.getPoint(label)) };
		}
	}

	/** Commits the current state as a new generation (see the crash-safety note above). */
	async save(): Promise<void> {
		if (!this.claimed) {
			await claimIndexDir(this.dir); // [Note: an index folder is ours only if it says so]
			this.claimed = true;
		}
		const generation = this.generation + 1;
		const catalog: CatalogJson = {
			format: INDEX_FORMAT,
			root: this.root,
			model: this.model,
			provider: this.provider,
			providerChoice: this.providerChoice,
			nextLabel: this.nextLabel,
			embeddings: Object.fromEntries([...this.hashToLabel].sort((a, b) => a[1] - b[1])),
			files: Object.fromEntries([...this.files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))),
			...(this.infos.size ? { images: Object.fromEntries([...this.infos].sort((a, b) => (a[0] < b[0] ? -1 : 1))) } : {}),
			...(this.texts.size ? { texts: Object.fromEntries([...this.texts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) } : {}),
			...(this.walk ? { walk: this.walk } : {}),
			...(this.removed.size ? { removed: Object.fromEntries(this.removed) } : {}),
			updatedAt: new Date().toISOString(),
		};
		await commitGeneration(this.dir, generation, catalog, file => this.graph.writeIndex(file));
		this.generation = generation;
		this.dirty = false;
	}

	/** Size in bytes of the committed files. */
	diskSize(): Promise<number> {
		return committedSize(this.dir, this.generation);
	}
}
