/**
 * @file One status report of an index, used by `clip-search stats` and by the extension's
 * Show Index Status (through the worker), so both say the same things the same way.
 */
import type { IndexStore, ModelStamp } from './indexStore';

export interface IndexStatusReport {
	/** The indexed folder. */
	root: string;
	/** The index folder. */
	index: string;
	model: ModelStamp;
	/** The execution provider that embedded the images (the last run's), if known. */
	provider: string | null;
	/** How it was chosen: auto's measurement ("webgpu 1.6 img/s vs cpu 120 img/s → cpu") or the setting. */
	providerChoice: string | null;
	files: number;
	indexed: number;
	vectors: number;
	/** Slots in the HNSW graph, live and deleted. */
	graphSize: number;
	indexBytes: number;
	/** The committed generation the report describes. */
	generation: number;
	/** Contents whose text was read (index --ocr, clipSearch.ocr); 0: text reading was never on. */
	textRead: number;
	failed: { path: string; error: string }[];
}

export async function indexStatus(store: IndexStore, provider?: string): Promise<IndexStatusReport> {
	const failed = [...store.files].filter(([, e]) => e.error).map(([p, e]) => ({ path: p, error: e.error! }));
	failed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
	return {
		root: store.root,
		index: store.dir,
		model: store.model,
		provider: provider ?? store.provider ?? null,
		providerChoice: store.providerChoice ?? null,
		files: store.files.size,
		indexed: store.files.size - failed.length,
		vectors: store.vectorCount,
		graphSize: store.graphSize,
		indexBytes: await store.diskSize(),
		generation: store.committedGeneration,
		textRead: store.textsRead,
		failed,
	};
}
