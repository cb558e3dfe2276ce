/**
 * @file What the indexer asks of a shared embedding store (core/store/pgStore.ts implements it on
 * PostgreSQL + pgvector): the vectors of content hashes it already has, and taking new ones. Vectors
 * are keyed by content hash under one model key, so any machine that hashes the same bytes with the
 * same model may use them instead of embedding.
 */

export interface RemoteVectors {
	/** Where, for the log (a URL with its password masked). */
	readonly label: string;
	/** The known vectors among `hashes` (the store's own batching). Throws when the store cannot be reached. */
	pull(hashes: string[]): Promise<Map<string, Float32Array>>;
	/** Whether this run should push what the store lacks. */
	readonly pushing: boolean;
	/** Of `hashes`, the ones the store lacks. */
	missing(hashes: string[]): Promise<string[]>;
	/** Adds vectors the store lacks (ON CONFLICT DO NOTHING); returns how many were new. */
	push(vectors: Map<string, Float32Array>): Promise<number>;
	/** Records a library's files (mode 2: search on the server), with what search filters read of each. */
	publishFiles?(files: Map<string, string>, facts?: Map<string, { size: number; mtimeMs: number; format?: string; width?: number; height?: number }>): Promise<void>;
}
