/**
 * @file The typed message API between the extension host and the inference worker. Requests carry
 * an id and get exactly one response; the worker also sends events (progress, logs) unasked.
 * Only plain data crosses: paths, numbers, strings.
 */
import type { Int8Kernels } from '../../core/model/int8/int8Kernels';
import type { ToolOutput } from '../../core/agent/agentTools';
import type { TagUpdate } from '../../core/labels/autoTag';
import type { DuplicateGroup } from '../../core/search/duplicates';
import type { ReferenceSyntax } from '../../core/refs/extract';
import type { ReferenceRow } from '../../core/refs/folderUses';
import type { BrokenLink, Rewrite, UnusedAnswer } from '../../core/refs/imageUse';
import type { IndexProgress, IndexResult } from '../../core/index/indexRun';
import type { IndexStatusReport } from '../../core/index/indexStatus';
import type { LockHolder } from '../../core/index/lock';
import type { ImageLabel, LabelClass } from '../../core/labels/labeler';
import type { ProviderSetting } from '../../core/model/runtime/providers';
import type { SearchAnswer, SearchResult } from '../../core/search/search';
import type { SortKey } from '../../core/search/hitOrder';

export interface WorkerConfig {
	/** A model folder or a known id. */
	model: string;
	variant: 'fp32' | 'quantized';
	provider: ProviderSetting;
	threads: number;
	/** Where known models are downloaded to (shared with the CLI). */
	modelCacheDir: string;
	/** Where older versions downloaded them (moved from there rather than downloaded again). */
	legacyModelCacheDirs: string[];
	/** Where thumbnails are cached. */
	thumbnailDir: string;
	maxImagePixels: number;
	include: string[];
	exclude: string[];
	/** Text in images: read for likely images, all, or none (a second pass after the images are embedded). */
	ocr: 'auto' | 'all' | 'off';
	/** A team store to pull vectors from while indexing (its password from SecretStorage, if kept there). */
	store?: { url: string; password?: string; caFile?: string };
	/** Models unused this long are released (the text tower after three times as long); 0: never. */
	unloadAfterIdleMinutes: number;
	/** Folders root-relative image references (/x.png) are served from, beside public/, static/ and the folder (clipSearch.references.publicFolders). */
	publicFolders?: string[];
	/** Which int8 weights the CPU runs (clipSearch.int8Kernels). */
	int8Kernels?: Int8Kernels;
}

/** Names a workspace folder in every request: the worker opens its session from this on first use. */
export interface FolderRef {
	root: string;
	/** Where the folder's index lives. */
	indexDir: string;
	/** Where older versions kept it: moved to indexDir once, instead of embedding again. */
	legacyIndexDirs?: string[];
}

/** Auto-tagging of a folder: its classes file and tags file (see core/labels/autoTag.ts). */
export interface AutoTagRef {
	classesFile: string;
	tagsFile: string;
	threshold?: number;
}

/** What auto-tagging did: the update, or why it could not run (a bad classes file), and what it ignored. */
export type AutoTagOutcome = { kind: 'updated'; update: TagUpdate; warnings: string[] } | { kind: 'noClasses' } | { kind: 'noModel' } | { kind: 'failed'; error: string; file?: string };

export type IndexOutcome = { kind: 'done'; result: Omit<IndexResult, 'changed'>; tags?: AutoTagOutcome } | { kind: 'busy'; holder: LockHolder };

export interface RequestMap {
	configure: { params: WorkerConfig; result: void };
	modelStatus: { params: Record<string, never>; result: { id: string; needsDownload: boolean; downloadBytes: number; localMissing?: string } };
	ensureModel: { params: Record<string, never>; result: { id: string; dim: number } };
	cancelDownload: { params: Record<string, never>; result: void };
	/** Loads the text tower ahead of a query (a search box's first keystroke); resolves when it is ready. */
	warmText: { params: Record<string, never>; result: void };
	/** Which models the worker holds now, and its resident memory (Show Index Status, tests). */
	loadedModels: { params: Record<string, never>; result: { text: boolean; vision: boolean; ocr: boolean; rssBytes: number } };
	/** Brings the index up to date: the changed `paths` only, or a walk of the folder; `rebuild` starts from empty. */
	index: { params: { folder: FolderRef; paths?: string[]; rebuild?: boolean; autoTag?: AutoTagRef }; result: IndexOutcome };
	/** Brings the tags file up to date with the classes file (all again when the classes changed). */
	autoTag: { params: { folder: FolderRef; autoTag: AutoTagRef }; result: AutoTagOutcome };
	cancelIndex: { params: { root: string }; result: void };
	/** like/unlike: absolute paths of images in any workspace folder (More/Less like this). */
	search: { params: { folder: FolderRef; query: string; k: number; minScore?: number; scope?: string; sort?: SortKey; like?: string[]; unlike?: string[] }; result: SearchAnswer };
	similar: { params: { folder: FolderRef; file: string; k: number; minScore?: number }; result: SearchResult[] };
	label: { params: { folder: FolderRef; classes: LabelClass[]; threshold?: number; multi?: boolean; scope?: string }; result: { labels: ImageLabel[]; key: string; warnings: string[] } };
	/** Near-duplicate groups, each image with how many places reference it. */
	duplicates: { params: { folder: FolderRef; threshold: number }; result: (DuplicateGroup & { images: { path: string; uses: number }[] })[] };
	/** Text files or images of the folder changed (the watcher's batch): their references are read again. */
	refsChanged: { params: { root: string; paths: string[] }; result: void };
	/** Every place that uses an image (relative to the folder). */
	imageRefs: { params: { folder: FolderRef; image: string }; result: ReferenceRow[] };
	unusedImages: { params: { folder: FolderRef }; result: UnusedAnswer };
	brokenRefs: { params: { folder: FolderRef }; result: BrokenLink[] };
	/** The edits that make every reference to `others` name `keep` (Use This One Everywhere). */
	rewrites: { params: { folder: FolderRef; keep: string; others: string[] }; result: Rewrite[] };
	/**
	 * Images that may be what a broken reference meant (the nearest to what its path held, else to its
	 * name's words), each with the target `file` would write for it.
	 */
	replacements: {
		params: { folder: FolderRef; file: string; target: string; syntax: ReferenceSyntax; missing: string; k: number };
		result: { path: string; score: number; why: 'remembered' | 'name'; target: string }[];
	};
	status: { params: { folder: FolderRef }; result: IndexStatusReport | undefined };
	/** Who is writing the folder's index now (another window, a CLI run), if anybody. */
	lockHolder: { params: { folder: FolderRef }; result: LockHolder | undefined };
	thumbnail: { params: { file: string; size: number }; result: string };
	/** An agent tool (core/agent) over the folders' indexes: the VS Code Language Model tools' one path in. */
	agentTool: { params: { folders: (FolderRef & { name: string })[]; name: string; input: unknown }; result: ToolOutput };
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
	| { kind: 'event'; type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
	/** What the worker prepares before it can answer (an int8 twin made once), by file; no message when that is done, no key when the worker stopped. */
	| { kind: 'event'; type: 'stage'; key?: string; message?: string };

export type WorkerMessage = ResponseMessage | EventMessage;
