/** @file What an indexing run takes (options), says while it runs (progress) and answers (result): shared by the indexer, its bookkeeping and every caller. */
import type { DecodeOptions } from '../model/inputs/preprocess';
import type { RemoteVectors } from './remoteVectors';

export interface IndexProgress {
	phase: 'scanning' | 'embedding' | 'saving' | 'done' | 'reading text';
	/** Image files found by the walk so far. */
	found: number;
	/** Files that need work (new or changed). */
	todo: number;
	/** Of those, finished (embedded, reused or failed). */
	done: number;
	failed: number;
	imagesPerSecond: number;
}

export interface IndexOptions extends DecodeOptions {
	include?: string[];
	exclude?: string[];
	gitignore?: boolean;
	/**
	 * Only these paths changed (relative to the root, '/'-separated: files, or folders created,
	 * moved or deleted): compare just them with the catalog instead of walking the whole folder.
	 */
	paths?: Iterable<string>;
	batchSize?: number;
	decodeConcurrency?: number;
	maxPixelsInFlight?: number;
	checkpointSeconds?: number;
	/** A team store: its vectors are taken before embedding, and (when pushing) it gets what it lacks after. */
	remote?: RemoteVectors;
	/** Decoding waits while a batch is inferred (default: when inference uses every core). */
	exclusiveInference?: boolean;
	signal?: AbortSignal;
	onProgress?: (progress: IndexProgress) => void;
	log?: (message: string) => void;
}

export interface IndexResult {
	/** Image files looked at: found by the walk, or among the changed paths of an incremental run. */
	scanned: number;
	embedded: number;
	reused: number;
	removed: number;
	/** The files that failed in this run. */
	failed: { path: string; error: string }[];
	seconds: number;
	cancelled: boolean;
	/** True when only the changed paths were compared (no walk of the folder). */
	incremental: boolean;
	/** What the index holds after the run: files in the catalog, and how many of them failed. */
	totalFiles: number;
	totalFailed: number;
	/** The new or changed files this run looked at (what auto-tagging labels afresh). */
	changed: string[];
	/** Vectors taken from the team store instead of embedding (with `remote`). */
	pulled?: number;
	/** Vectors given to the team store (with `remote` pushing). */
	pushed?: number;
}
