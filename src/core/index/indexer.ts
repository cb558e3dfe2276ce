/**
 * @file Brings an index up to date with a folder: walks it, skips what is unchanged (same size and
 * mtime), reuses vectors by content hash (renamed, moved and duplicated files are not embedded
 * again), embeds what is new in batches, and forgets what is gone.
 *
 * [Note: pipeline] Reading, hashing and decoding run ahead of inference: up to
 * `decodeConcurrency` files decode at once (sharp works on libuv's threads), their results wait
 * in a queue of at most two batches, and decoding is held back while more than
 * `maxPixelsInFlight` source pixels are being decoded. So inference of one batch overlaps the
 * decoding of the next, and memory stays bounded whatever the images' sizes.
 *
 * [Note: decoding while inference runs] Overlapping the two only pays when inference leaves a
 * core idle. When its threads take every core (the CLI's default), decoding alongside it makes the
 * two fight for the cores: onnxruntime's parallel loops wait for their slowest thread, and a batch
 * took up to 1.4× longer (fp32 end to end fell to 72 % of the serial bound in one bench run). So then
 * decoding waits while a batch is inferred (`exclusiveInference`) and runs on all cores between
 * batches; with a core to spare (the extension leaves one to the editor), they overlap.
 *
 * [Note: resume] The index is committed every `checkpointSeconds` and when the run ends or is
 * cancelled. A run that was killed restarts from the last commit: files committed then are
 * unchanged and skipped.
 */
import * as os from 'node:os';
import { BoundedQueue, Gate, WeightedSemaphore } from '../common/concurrency';
import type { ClipEncoder } from '../model/runtime/encoder';
import { ClipError, describeError } from '../common/errors';
import { isMissingFile } from '../common/confine';
import { checkImageFileSize, contentHash, contentHashOfFile, readImageFile, STREAM_ABOVE } from '../common/files';
import type { IndexStore } from './indexStore';
import { type DecodedImage, DEFAULT_MAX_PIXELS, decodeImage } from '../model/inputs/preprocess';
import { pullShared, pushShared } from './sharedVectors';
import type { IndexOptions, IndexProgress, IndexResult } from './indexRun';
import { recordImageInfo, scanForChanges } from './indexScan';
import type { WalkedFile } from './walker';

interface Pending {
	file: WalkedFile;
	hash: string;
	image: DecodedImage;
}

export async function indexFolder(store: IndexStore, encoder: ClipEncoder, options: IndexOptions = {}): Promise<IndexResult> {
	const started = performance.now();
	const log = options.log ?? (() => undefined);
	const signal = options.signal;
	const batchSize = Math.max(1, options.batchSize ?? 16);
	const progress: IndexProgress = { phase: 'scanning', found: 0, todo: 0, done: 0, failed: 0, imagesPerSecond: 0 };
	const report = (): void => options.onProgress?.({ ...progress });
	const incremental = options.paths !== undefined;
	const result: IndexResult = { scanned: 0, embedded: 0, reused: 0, removed: 0, failed: [], seconds: 0, cancelled: false, incremental, totalFiles: 0, totalFailed: 0, changed: [] };
	const totals = (): void => {
		result.totalFiles = store.files.size;
		result.totalFailed = store.failedCount;
	};

	if (options.include !== undefined || options.exclude !== undefined) {
		store.setWalk({ include: options.include ?? [], exclude: options.exclude ?? [] });
	}
	// 1. Scan: what is new or changed, what is gone.
	const paths = options.paths === undefined ? undefined : [...options.paths];
	const scan = await scanForChanges(store, { ...options, paths }, progress, report);
	if (!scan || signal?.aborted) {
		result.cancelled = true;
		result.scanned = progress.found;
		result.seconds = (performance.now() - started) / 1000;
		totals();
		return result;
	}
	let todo = scan.todo;
	result.changed = todo.map(f => f.rel);
	if (options.remote) {
		result.pulled = 0;
		if (todo.length && !signal?.aborted) {
			const shared = await pullShared(store, todo, options.remote, { maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS, log, signal });
			todo = shared.rest;
			result.pulled = shared.pulled;
			result.reused += shared.reused;
		}
	}
	result.scanned = scan.scanned;
	result.removed = scan.removed;
	const scanMs = performance.now() - started;
	log(
		paths
			? `scan: compared ${paths.length} changed path(s) only (incremental): ${scan.scanned} images, ${todo.length} new or changed, ${result.removed} removed (${scanMs.toFixed(1)} ms)`
			: `scan: ${progress.found} images, ${todo.length} new or changed, ${result.removed} removed (${scanMs.toFixed(0)} ms)`,
	);

	// 2. Read, hash, decode (ahead), embed (in batches).
	progress.phase = 'embedding';
	progress.todo = todo.length;
	report();
	const queue = new BoundedQueue<Pending>(batchSize * 2);
	// [Note: a pipeline sized for the device] On the CPU, inference takes every core: decoding waits
	// while a batch is inferred, four decoders at a time. On a GPU, inference leaves the cores free and
	// decoding becomes the bound: it never waits, and decoders get every core.
	const onGpu = todo.length > 0 && (await encoder.visionProvider().catch(() => 'cpu')) !== 'cpu';
	const exclusive = options.exclusiveInference ?? (!onGpu && encoder.intraOpThreads >= os.availableParallelism());
	const inferring = new Gate();
	const pixels = new WeightedSemaphore(options.maxPixelsInFlight ?? 64_000_000);
	const concurrency = Math.max(1, options.decodeConcurrency ?? (onGpu ? Math.max(4, os.availableParallelism()) : 4));
	/** Files waiting for a hash that is being embedded in this run (duplicates within the run). */
	const waiting = new Map<string, WalkedFile[]>();
	const embedStarted = performance.now();
	let embeddedSinceStart = 0;

	const fail = (file: WalkedFile, hash: string | undefined, err: unknown): void => {
		const error = describeError(err);
		store.setFile(file.rel, { size: file.size, mtimeMs: file.mtimeMs, hash, error });
		result.failed.push({ path: file.rel, error });
		progress.failed++;
		progress.done++;
	};

	const prepare = async (file: WalkedFile): Promise<void> => {
		let bytes: Buffer | { path: string };
		let hash: string;
		if (file.badName) {
			fail(file, undefined, new ClipError('FileUnreadable', `${file.rel}: ${file.badName}.`, { file: file.rel })); // [Note: names that are not UTF-8] in walker.ts
			return;
		}
		try {
			// [Note: files too big to be images] in common/files.ts.
			checkImageFileSize(file.rel, file.size, options.maxPixels ?? DEFAULT_MAX_PIXELS);
			if (file.size > STREAM_ABOVE) {
				bytes = { path: file.abs };
				hash = await contentHashOfFile(file.abs);
			} else {
				// Read as a regular file, bounded ([Note: every read is bounded]): a file the walk saw may be a FIFO by now.
				const read = await readImageFile(file.abs, options.maxPixels ?? DEFAULT_MAX_PIXELS, 'the image');
				bytes = read;
				hash = contentHash(read);
			}
		} catch (err) {
			if (isMissingFile(err)) {
				store.removeFile(file.rel); // vanished since the scan: nothing to index
				progress.done++;
				return;
			}
			const cause = ClipError.is(err) ? (err as Error & { cause?: NodeJS.ErrnoException }).cause : (err as NodeJS.ErrnoException);
			const why = cause?.code ?? describeError(err).replace(file.abs, file.rel);
			fail(file, undefined, ClipError.is(err) && !ClipError.is(err, 'FileUnreadable') ? err : new ClipError('FileUnreadable', `${file.rel}: cannot read the file (${why}).`, { file: file.rel }));
			return;
		}
		if (store.hasEmbedding(hash)) {
			store.setFile(file.rel, { size: file.size, mtimeMs: file.mtimeMs, hash });
			result.reused++;
			progress.done++;
			return;
		}
		const others = waiting.get(hash);
		if (others) {
			others.push(file);
			return;
		}
		waiting.set(hash, []);
		let release: (() => void) | undefined;
		try {
			await inferring.pass();
			const image = await decodeImage(file.rel, bytes, encoder.spec.preprocess, {
				...options,
				beforeDecode: async (n: number) => {
					release = await pixels.acquire(n);
				},
			});
			release?.();
			release = undefined;
			await queue.push({ file, hash, image });
		} catch (err) {
			release?.();
			for (const dup of [file, ...(waiting.get(hash) ?? [])]) {
				fail(dup, hash, err);
			}
			waiting.delete(hash);
		}
	};

	let stopped = false;
	const producer = (async () => {
		let next = 0;
		const workers = Array.from({ length: Math.min(concurrency, todo.length) }, async () => {
			while (next < todo.length && !signal?.aborted && !stopped) {
				await prepare(todo[next++]);
			}
		});
		try {
			await Promise.all(workers);
		} finally {
			queue.close();
		}
	})();

	let lastCheckpoint = performance.now();
	const checkpointMs = (options.checkpointSeconds ?? 10) * 1000;
	try {
		for (;;) {
			const batch = await queue.take(batchSize, batchSize);
			if (batch.length === 0) {
				break;
			}
			if (exclusive) {
				inferring.close();
			}
			let vectors: Float32Array[];
			try {
				vectors = await encoder.encodeImages(batch.map(p => p.image));
			} finally {
				inferring.open();
			}
			batch.forEach((p, i) => {
				store.addEmbedding(p.hash, vectors[i]);
				if (p.image.source) {
					store.setInfo(p.hash, p.image.source);
				}
				for (const file of [p.file, ...(waiting.get(p.hash) ?? [])]) {
					store.setFile(file.rel, { size: file.size, mtimeMs: file.mtimeMs, hash: p.hash });
					progress.done++;
				}
				result.reused += waiting.get(p.hash)?.length ?? 0;
				waiting.delete(p.hash);
			});
			result.embedded += batch.length;
			embeddedSinceStart += batch.length;
			progress.imagesPerSecond = embeddedSinceStart / ((performance.now() - embedStarted) / 1000);
			report();
			if (performance.now() - lastCheckpoint >= checkpointMs) {
				progress.phase = 'saving';
				await store.save();
				progress.phase = 'embedding';
				lastCheckpoint = performance.now();
			}
		}
	} finally {
		// On an error in inference, stop the producer too (a closed queue drops its pushes).
		stopped = true;
		queue.close();
		await producer.catch(() => undefined);
	}
	result.cancelled = signal?.aborted ?? false;
	const embedMs = performance.now() - embedStarted;
	if (result.embedded) {
		log(`embed: ${result.embedded} images in ${(embedMs / 1000).toFixed(1)} s (${progress.imagesPerSecond.toFixed(1)} img/s, ${encoder.providersUsed.vision ?? 'no'} provider)`);
	}

	// 3. Forget vectors no file uses (only after a complete run: a cancelled one may not have
	// reached the renamed copy yet), then commit.
	if (!result.cancelled) {
		const dropped = store.collectGarbage();
		if (dropped) {
			log(`removed ${dropped} vectors no file uses any more`);
		}
	}
	if (!result.cancelled) {
		await recordImageInfo(store, signal, log);
	}
	if (options.remote && !result.cancelled) {
		result.pushed = await pushShared(store, options.remote, log);
	}
	if (encoder.providersUsed.vision) {
		store.provider = encoder.providersUsed.vision;
		store.providerChoice = encoder.providerChoice ?? store.providerChoice;
	}
	progress.phase = 'saving';
	report();
	// An empty folder's index is an index too: committed, so that a search answers "nothing" instead of "no index".
	if (store.isDirty || (store.committedGeneration === 0 && !result.cancelled)) {
		const saveStart = performance.now();
		await store.save();
		log(`save: ${(performance.now() - saveStart).toFixed(0)} ms`);
	}
	progress.phase = 'done';
	report();
	result.failed.sort((a, b) => (a.path < b.path ? -1 : 1));
	result.seconds = (performance.now() - started) / 1000;
	totals();
	return result;
}
