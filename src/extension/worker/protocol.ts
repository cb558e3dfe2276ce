/**
 * @file The typed message API between the extension host and the inference worker. Requests carry
 * an id and get exactly one response; the worker also sends events (progress, logs) unasked.
 * Only plain data crosses: paths, numbers, strings.
 */
import type { DuplicateGroup } from '../../core/duplicates';
import type { IndexProgress, IndexResult } from '../../core/indexer';
import type { ImageLabel, LabelClass } from '../../core/labeler';
import type { ProviderSetting } from '../../core/providers';
import type { SearchResult } from '../../core/search';

export interface WorkerConfig {
	/** A model folder or a known id. */
	model: string;
	variant: 'fp32' | 'quantized';
	provider: ProviderSetting;
	threads: number;
	/** Where known models are downloaded to. */
	modelCacheDir: string;
	/** Where thumbnails are cached. */
	thumbnailDir: string;
	maxImagePixels: number;
	include: string[];
	exclude: string[];
}

export interface FolderStatus {
	root: string;
	indexDir: string;
	files: number;
	indexed: number;
	vectors: number;
	failed: { path: string; error: string }[];
	model: string | undefined;
	provider: string | undefined;
	indexBytes: number;
}

export interface RequestMap {
	configure: { params: WorkerConfig; result: void };
	modelStatus: { params: Record<string, never>; result: { id: string; needsDownload: boolean; downloadBytes: number } };
	ensureModel: { params: Record<string, never>; result: { id: string; dim: number } };
	cancelDownload: { params: Record<string, never>; result: void };
	index: { params: { root: string; indexDir: string }; result: IndexResult };
	cancelIndex: { params: { root: string }; result: void };
	search: { params: { root: string; query: string; k: number; minScore?: number; scope?: string }; result: SearchResult[] };
	similar: { params: { root: string; file: string; k: number; minScore?: number }; result: SearchResult[] };
	label: { params: { root: string; classes: LabelClass[]; threshold?: number; multi?: boolean; scope?: string }; result: ImageLabel[] };
	duplicates: { params: { root: string; threshold: number }; result: DuplicateGroup[] };
	status: { params: { root: string }; result: FolderStatus | undefined };
	thumbnail: { params: { file: string; size: number }; result: string };
	forget: { params: { root: string }; result: void };
}

export type RequestType = keyof RequestMap;

export interface RequestMessage<T extends RequestType = RequestType> {
	kind: 'request';
	id: number;
	type: T;
	params: RequestMap[T]['params'];
}

export type ResponseMessage =
	| { kind: 'response'; id: number; ok: true; result: unknown }
	| { kind: 'response'; id: number; ok: false; error: { code: string; message: string; file?: string } };

export type EventMessage =
	| { kind: 'event'; type: 'progress'; root: string; progress: IndexProgress }
	| { kind: 'event'; type: 'download'; file: string; loaded: number; total: number | undefined; status: string }
	| { kind: 'event'; type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export type WorkerMessage = ResponseMessage | EventMessage;
