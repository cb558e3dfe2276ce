/**
 * @file The two towers on ONNX Runtime. Sessions are created lazily, on the first text or
 * image to encode, and reused; `dispose()` releases them. Input and output names are read from
 * the graphs: only inputs the graph has are fed, a text graph with a fixed sequence length gets
 * rows padded to it, and the embeddings are taken by the family's output name (`text_embeds` /
 * `image_embeds` for CLIP, `pooler_output` for SigLIP). Embeddings come back L2-normalised.
 * A tower idle for long enough is released (releaseIdle: [Note: light in the background] in
 * idleRelease.ts) and created again on its next use.
 *
 * This file stays whole (about 500 lines, one of the two past 450): the two towers' sessions, the
 * provider each runs on, its fallback to the CPU mid-run and its idle release share one state
 * (which tower exists, what runs on it now), and every inference path goes through it.
 */
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import { ClipError, describeError } from '../../common/errors';
import type { Int8Kernels } from '../int8/int8Kernels';
import { fastInt8Model } from '../int8/int8Twin';
import { batchedImageGraph } from './batchTwin';
import { modelKey, type ModelSpec } from '../layouts/modelSpec';
import { quietDawn } from './dawn';
import { chooseAutoProvider, forgetVerdicts, probeStarts, type ProviderVerdict } from './providerChoice';
import type { ProbeRequest, ProbeResult } from './providerProbe';
import { providerCandidates, type ConcreteProvider, type ProviderSetting } from './providers';
import { type DecodedImage, toPixelBatch } from '../inputs/preprocess';
import { ClipTokenizer, tokenizerFilesOf } from '../inputs/tokenizer';
import { normalizedRows } from '../../common/vectors';

export interface EncoderOptions {
	provider?: ProviderSetting;
	/** Threads for one inference (ORT intra-op). Default: all cores. */
	threads?: number;
	/** Receives one line per notable event (provider chosen, provider failures, timings). */
	log?: (message: string) => void;
	/**
	 * For a quantized model on the CPU, load its weights converted to int8 (int8Twin.ts): `auto` (the
	 * default) as this CPU's kernels allow, `full`/`reduced` force a twin, `off` loads the uint8 file as
	 * it is (the bench measures the difference). CLIP_SEARCH_INT8_KERNELS wins over it.
	 */
	int8Kernels?: Int8Kernels;
	/** For a batch-1 image graph (Immich's), load its batched twin where it checks out (batchTwin.ts). Default true. */
	batchTwin?: boolean;
	/** Said while a model is prepared for the first time (an int8 twin); undefined when done. */
	onStage?: (message: string | undefined, key: string) => void;
	/** Where `auto`'s verdicts are remembered (default: the cache folder). */
	cacheDir?: string;
	/** Called before every inference (tests inject a device that fails after N batches). */
	beforeRun?: (provider: ConcreteProvider, which: 'text' | 'vision') => void;
	/** The clock idle times are measured with (tests inject one). */
	now?: () => number;
	/** `auto`'s measurement and start checks (default: the probe child); tests watch what it is asked. */
	probe?: (request: ProbeRequest) => Promise<ProbeResult[]>;
	/** The environment `auto` reads the GPU drivers from (default: this process's). */
	env?: NodeJS.ProcessEnv;
}

const TEXT_CACHE_SIZE = 512;
/** Pixel blocks kept for reuse: one for the indexer's batches, one for a query's image in between. */
const MAX_FREE_PIXEL_BLOCKS = 2;

interface Tower {
	session: ort.InferenceSession;
	provider: ConcreteProvider;
	/** The graph it was made from (before an int8 twin): a fallback to the CPU loads the same one. */
	file: string;
	/** Whether it takes batches although the model's graph is batch-1 (its batched twin: batchTwin.ts). */
	batched: boolean;
}

let ortLogLevelSet = false;

/** The text graph's sequence length when it is fixed (MobileCLIP's exports), else undefined. */
function fixedSequenceLength(session: ort.InferenceSession, input: string): number | undefined {
	const meta = (session as { inputMetadata?: readonly { name: string; shape?: readonly (number | string)[] }[] }).inputMetadata;
	const ids = meta?.find(m => m.name === input);
	const n = ids?.shape?.[1];
	return typeof n === 'number' && n > 0 ? n : undefined;
}

export class ClipEncoder {
	private text?: Promise<Tower>;
	private vision?: Promise<Tower>;
	private tokenizerPromise?: Promise<ClipTokenizer>;
	private readonly textCache = new Map<string, Float32Array>();
	/** Pixel blocks no request holds now, kept for the next batch of the same size (see [Note: one request, one buffer]). */
	private readonly freePixelBlocks: Float32Array[] = [];
	private disposed = false;
	/** The providers the towers actually run on, once created. */
	readonly providersUsed: { text?: ConcreteProvider; vision?: ConcreteProvider } = {};
	readonly providerFailures: string[] = [];
	/** How `auto` chose (measured, or why it kept the CPU), once known: for the log, stats and status. */
	providerChoice?: string;
	private webgpuCheck?: Promise<string | undefined>;
	/** When each tower was last used, and how many inferences run on it now (never released under one). */
	private readonly lastUsed = { text: 0, vision: 0 };
	private readonly inFlight = { text: 0, vision: 0 };
	private autoVerdict?: Promise<ProviderVerdict>;

	constructor(
		readonly spec: ModelSpec,
		private readonly options: EncoderOptions = {},
	) {}

	get dim(): number {
		return this.spec.dim;
	}

	private now(): number {
		return (this.options.now ?? Date.now)();
	}

	/** Which towers hold a session now (or are creating one). */
	get loaded(): { text: boolean; vision: boolean } {
		return { text: !!this.text, vision: !!this.vision };
	}

	/** Loads the text tower ahead of the first query (a search box's first keystroke). */
	async warmText(): Promise<void> {
		await this.textTower();
		this.lastUsed.text = this.now();
	}

	/**
	 * Releases the towers not used for at least their limit (0: never), none with an inference in
	 * flight; they are created again on their next use. Returns the parts released.
	 */
	async releaseIdle(limits: { text: number; vision: number }, now = this.now()): Promise<('text' | 'vision')[]> {
		const released: ('text' | 'vision')[] = [];
		for (const which of ['vision', 'text'] as const) {
			const tower = which === 'text' ? this.text : this.vision;
			const limit = limits[which];
			if (!tower || limit <= 0 || this.inFlight[which] > 0 || now - this.lastUsed[which] < limit) {
				continue;
			}
			if (which === 'text') {
				this.text = undefined;
			} else {
				this.vision = undefined;
				this.freePixelBlocks.length = 0;
			}
			const t = await tower.catch(() => undefined);
			await t?.session.release().catch(() => undefined);
			released.push(which);
			this.options.log?.(`${which} model released at ${new Date(now).toTimeString().slice(0, 8)}, unused for ${Math.round((now - this.lastUsed[which]) / 1000)} s; loaded again when needed`);
		}
		return released;
	}

	tokenizer(): Promise<ClipTokenizer> {
		this.tokenizerPromise ??= ClipTokenizer.load(tokenizerFilesOf(this.spec));
		return this.tokenizerPromise;
	}

	/** The provider the image tower runs on (creates the session if needed). */
	async visionProvider(): Promise<ConcreteProvider> {
		return (await this.visionTower()).provider;
	}

	/**
	 * Text embeddings, remembered: class prompts are embedded again on every auto-tag run and a
	 * query while it is refined; a text seen before costs a map lookup. Bounded (oldest out first).
	 */
	async encodeTexts(texts: string[]): Promise<Float32Array[]> {
		const found = new Map<string, Float32Array>();
		for (const t of texts) {
			const v = this.textCache.get(t);
			if (v) {
				found.set(t, v);
			}
		}
		const missing = [...new Set(texts.filter(t => !found.has(t)))];
		const vectors = await this.encodeTextsUncached(missing);
		missing.forEach((t, i) => {
			found.set(t, vectors[i]);
			this.textCache.set(t, vectors[i]);
			if (this.textCache.size > TEXT_CACHE_SIZE) {
				this.textCache.delete(this.textCache.keys().next().value!);
			}
		});
		// Copies: a caller may change what it gets.
		return texts.map(t => Float32Array.from(found.get(t)!));
	}

	private async encodeTextsUncached(texts: string[]): Promise<Float32Array[]> {
		if (texts.length === 0) {
			return [];
		}
		if (this.spec.batchOne && texts.length > 1) {
			// [Note: one at a time] Immich's graphs take a batch of one: the texts go in turn.
			const out: Float32Array[] = [];
			for (const t of texts) {
				out.push(...(await this.encodeTextsUncached([t])));
			}
			return out;
		}
		const [tokenizer, tower] = await Promise.all([this.tokenizer(), this.textTower()]);
		const names = tower.session.inputNames;
		const input = this.spec.inputs.text;
		if (!names.includes(input)) {
			throw new ClipError('ModelInvalid', `${this.spec.textModelPath}: the text model has no "${input}" input (it has: ${names.join(', ')}).`, {
				file: this.spec.textModelPath,
			});
		}
		const { data, length, lengths } = tokenizer.encodeBatch(texts, fixedSequenceLength(tower.session, input));
		const feeds: Record<string, ort.Tensor> = {};
		feeds[input] = this.spec.inputs.textType === 'int32' ? new ort.Tensor('int32', Int32Array.from(data, x => Number(x)), [texts.length, length]) : new ort.Tensor('int64', data, [texts.length, length]);
		if (names.includes('attention_mask')) {
			// Real tokens (up to and including the end token) 1, padding 0 — except where the Python
			// tokenizer returns no mask (SiglipTokenizer): the model then sees its padding, so a graph
			// that takes a mask gets ones everywhere (transformers.js would mask the padding).
			const mask = new BigInt64Array(data.length);
			if (this.spec.siglipTokenizer) {
				mask.fill(1n);
			} else {
				lengths.forEach((n, r) => mask.fill(1n, r * length, r * length + n));
			}
			feeds.attention_mask = new ort.Tensor('int64', mask, [texts.length, length]);
		}
		const out = await this.runOrFallBack('text', feeds, this.spec.textModelPath);
		return this.embeddings(out, this.spec.outputs.text, this.spec.textModelPath, texts.length);
	}

	async encodeText(text: string): Promise<Float32Array> {
		return (await this.encodeTexts([text]))[0];
	}

	/** Embeds a batch of decoded images (already at the model's input size). */
	async encodeImages(images: DecodedImage[]): Promise<Float32Array[]> {
		if (images.length === 0) {
			return [];
		}
		const tower = await this.visionTower();
		if (this.spec.batchOne && !tower.batched && images.length > 1) {
			// [Note: one at a time] Immich's graphs take a batch of one; where no batched twin could be made
			// (batchTwin.ts), the images go in turn (the bench part `families` measures what that costs).
			const out: Float32Array[] = [];
			for (const image of images) {
				out.push(...(await this.encodeImages([image])));
			}
			return out;
		}
		if (this.spec.parts !== 'all') {
			throw new ClipError('ModelNotFound', `${this.spec.dir} was loaded without its image part (preprocessor_config.json and the vision model): it cannot embed images.`, {
				file: this.spec.dir,
			});
		}
		const { height, width } = this.spec.preprocess;
		// [Note: one request, one buffer] The pixel block is this call's own from here until its run has
		// returned: a block shared across the await was refilled by a concurrent call of the same batch
		// size before the first run read it, and each got the other's vector. Blocks go back to a small
		// free list only after the run, so reuse never crosses two requests in flight.
		const size = images.length * 3 * height * width;
		const i = this.freePixelBlocks.findIndex(b => b.length === size);
		const block = toPixelBatch(images, this.spec.preprocess, i >= 0 ? this.freePixelBlocks.splice(i, 1)[0] : undefined);
		try {
			const name = tower.session.inputNames.includes(this.spec.inputs.image) ? this.spec.inputs.image : tower.session.inputNames[0];
			const out = await this.runOrFallBack('vision', { [name]: new ort.Tensor('float32', block, [images.length, 3, height, width]) }, this.spec.visionModelPath);
			return this.embeddings(out, this.spec.outputs.image, this.spec.visionModelPath, images.length);
		} finally {
			if (this.vision && this.freePixelBlocks.length < MAX_FREE_PIXEL_BLOCKS) {
				this.freePixelBlocks.push(block);
			}
		}
	}

	/**
	 * One inference. [Note: a GPU that fails] A GPU provider that fails a run — its first batch, or
	 * mid-run when the device is lost — is dropped for the CPU and the batch is run again there: the
	 * run goes on, nothing indexed is lost, and the log says so. Only the CPU's failure is an error.
	 */
	private async runOrFallBack(which: 'text' | 'vision', feeds: Record<string, ort.Tensor>, file: string): Promise<ort.InferenceSession.OnnxValueMapType> {
		this.inFlight[which]++;
		try {
			return await this.runCounted(which, feeds, file);
		} finally {
			this.inFlight[which]--;
			this.lastUsed[which] = this.now();
		}
	}

	private async runCounted(which: 'text' | 'vision', feeds: Record<string, ort.Tensor>, file: string): Promise<ort.InferenceSession.OnnxValueMapType> {
		const tower = await (which === 'text' ? this.textTower() : this.visionTower());
		if (tower.provider === 'cpu') {
			return this.run(tower, feeds, file, which);
		}
		try {
			this.options.beforeRun?.(tower.provider, which);
			return await tower.session.run(feeds);
		} catch (err) {
			const reason = `${which} ${tower.provider}: failed while running (${describeError(err).split('\n')[0]})`;
			this.providerFailures.push(reason);
			(this.options.log ?? (() => undefined))(`${which} model: the ${tower.provider} execution provider failed while running (${describeError(err).split('\n')[0]}); continuing on the CPU`);
			this.providerChoice = `${tower.provider} failed while running → cpu`;
			void forgetVerdicts(this.options.cacheDir).catch(() => undefined); // measured again at the next start
			const cpu = this.createTower(tower.file, which, ['cpu'], tower.batched);
			if (which === 'text') {
				this.text = cpu;
			} else {
				this.vision = cpu;
			}
			void tower.session.release().catch(() => undefined);
			return this.run(await cpu, feeds, file, which);
		}
	}

	/** One inference; a graph that does not fit the folder's config (sizes, lengths) is named as such. */
	private async run(tower: Tower, feeds: Record<string, ort.Tensor>, file: string, which: 'text' | 'vision'): Promise<ort.InferenceSession.OnnxValueMapType> {
		try {
			this.options.beforeRun?.(tower.provider, which);
			return await tower.session.run(feeds);
		} catch (err) {
			throw new ClipError(
				'ModelInvalid',
				`${file}: the model failed to run (${describeError(err).split('\n')[0]}); its inputs do not fit what the folder's config.json and tokenizer_config.json say. Re-download the model or fix the folder.`,
				{ file, cause: err },
			);
		}
	}

	private embeddings(out: ort.InferenceSession.OnnxValueMapType, name: string, file: string, n: number): Float32Array[] {
		const tensor = out[name] as ort.Tensor | undefined;
		if (!tensor) {
			throw new ClipError(
				'ModelInvalid',
				`${file}: the model has no "${name}" output (it has: ${Object.keys(out).join(', ')}); a ${this.spec.family === 'clip' ? 'CLIP' : 'SigLIP'} graph (config.json's model_type) must have it. Export the towers as transformers.js does.`,
				{ file },
			);
		}
		const data = tensor.data as Float32Array;
		if (tensor.type !== 'float32' || data.length !== n * this.spec.dim) {
			throw new ClipError(
				'ModelInvalid',
				`${file}: "${name}" has shape [${tensor.dims.join(', ')}] (${tensor.type}); expected [${n}, ${this.spec.dim}] float32 as config.json says (${this.spec.family === 'clip' ? 'projection_dim' : 'text_config.hidden_size'}).`,
				{ file },
			);
		}
		try {
			return normalizedRows(data, this.spec.dim);
		} catch (err) {
			throw new ClipError('ModelInvalid', `${file}: the model produced an empty or non-finite embedding (${describeError(err)}).`, { file });
		}
	}

	// Asking for a tower counts as using it: one being created or about to run is not idle.
	private textTower(): Promise<Tower> {
		this.lastUsed.text = this.now();
		this.text ??= this.createTower(this.spec.textModelPath, 'text');
		return this.text;
	}

	private visionTower(): Promise<Tower> {
		this.lastUsed.vision = this.now();
		this.vision ??= this.visionFile().then(({ file, batched }) => this.createTower(file, 'vision', undefined, batched));
		return this.vision;
	}

	/** The image graph to load: a batch-1 graph's batched twin where it checks out ([Note: batching a batch-1 graph]). */
	private async visionFile(): Promise<{ file: string; batched: boolean }> {
		if (!this.spec.batchOne || this.options.batchTwin === false) {
			return { file: this.spec.visionModelPath, batched: false };
		}
		const twin = await batchedImageGraph(this.spec.visionModelPath, [1, 3, this.spec.preprocess.height, this.spec.preprocess.width], {
			log: this.options.log,
			onStage: m => this.options.onStage?.(m, this.spec.visionModelPath),
		});
		return { file: twin ?? this.spec.visionModelPath, batched: twin !== undefined };
	}

	/** Threads one inference uses (onnxruntime's intra-op pool). */
	get intraOpThreads(): number {
		return this.options.threads ?? Math.max(1, os.availableParallelism());
	}

	/** Why WebGPU does not start here ([Note: Dawn's own lines]), or undefined when it does; asked once. */
	private webgpuProblem(): Promise<string | undefined> {
		this.webgpuCheck ??= probeStarts(
			'webgpu',
			{
				file: this.spec.visionModelPath,
				input: this.spec.inputs.image, // rclip's graph names it input, Immich's image
				shape: [1, 3, this.spec.preprocess.height, this.spec.preprocess.width],
				threads: this.intraOpThreads,
			},
			this.options.probe,
		);
		return this.webgpuCheck;
	}

	/** `auto`'s providers for this model: see [Note: auto is never slower than the CPU] in providerChoice.ts. */
	private autoOrder(): Promise<ProviderVerdict> {
		this.autoVerdict ??= chooseAutoProvider({
			files: async provider => (provider === 'cpu' ? this.cpuFile(this.spec.visionModelPath) : this.spec.visionModelPath),
			input: this.spec.inputs.image, // rclip's graph names it input, Immich's image
			shape: [1, 3, this.spec.preprocess.height, this.spec.preprocess.width],
			modelKey: modelKey(this.spec),
			variant: this.spec.variant,
			threads: this.intraOpThreads,
			cacheDir: this.options.cacheDir,
			log: this.options.log,
			probe: this.options.probe,
			env: this.options.env,
		}).then(verdict => {
			this.providerChoice = `auto: ${verdict.reason}`;
			this.options.log?.(`execution provider: ${this.providerChoice}`);
			return verdict;
		});
		return this.autoVerdict;
	}

	/** The file the CPU loads: for int8 weights, their int8 (U8S8) twin where that conversion is on. */
	private async cpuFile(file: string): Promise<string> {
		if (this.spec.variant !== 'quantized') {
			return file;
		}
		const kernels = this.options.int8Kernels ?? 'auto';
		return fastInt8Model(file, { log: this.options.log ?? (() => undefined), kernels, onStage: m => this.options.onStage?.(m, file), env: this.options.env });
	}

	private async createTower(file: string, which: 'text' | 'vision', only?: ConcreteProvider[], batched = false): Promise<Tower> {
		if (this.disposed) {
			throw new ClipError('Cancelled', 'The encoder was disposed.');
		}
		if (!ortLogLevelSet) {
			// Our own log reports provider failures; ORT's native logger would print them to stderr too.
			ort.env.logLevel = 'fatal';
			ortLogLevelSet = true;
		}
		const log = this.options.log ?? (() => undefined);
		const threads = this.intraOpThreads;
		const setting = this.options.provider ?? 'auto';
		let candidates = only ?? (setting === 'auto' ? (await this.autoOrder()).order : providerCandidates(setting));
		if (setting === 'webgpu' && this.spec.variant === 'quantized' && !only) {
			// [Note: int8 on WebGPU] Its kernel registry has no MatMulInteger, ConvInteger or
			// DynamicQuantizeLinear (onnxruntime's placement log lists every one falling back), so an
			// int8 graph would run its matrix work on the CPU with a GPU round trip around every layer:
			// no faster than the CPU, and its vectors drift (dynamic quantization amplifies the GPU's
			// float rounding: cosine 0.99989). int8 weights therefore run on the CPU; fp32 on a GPU.
			candidates = ['cpu'];
			this.providerChoice = 'cpu: int8 weights run on the CPU (WebGPU has no kernels for their integer operators); choose the fp32 variant to use the GPU';
			log(`${which} model: ${this.providerChoice}`);
		}
		if (!only && setting !== 'auto' && candidates.includes('webgpu')) {
			// [Note: Dawn's own lines] Started in this process, WebGPU without a usable adapter prints
			// Dawn's warnings to stderr (three lines with a stack location), where no JavaScript can
			// catch them. So a WebGPU that is asked for is first started in the probe child, whose
			// stderr is a pipe: if it does not start there, it is not started here; one line of ours says why.
			const why = await this.webgpuProblem();
			if (why) {
				candidates = candidates.filter(p => p !== 'webgpu');
				this.providerChoice ??= `webgpu did not start (${why}) → ${candidates[0] ?? 'cpu'}`;
				this.providerFailures.push(`${which} webgpu: ${why}`);
				log(`${which} model: the webgpu execution provider did not start in the probe (${why}); not started here`);
			}
		}
		const errors: string[] = [];
		for (const provider of candidates) {
			if (provider === 'webgpu') {
				quietDawn();
			}
			const started = Date.now();
			try {
				const load = provider === 'cpu' ? await this.cpuFile(file) : file;
				const session = await ort.InferenceSession.create(load, {
					executionProviders: [provider],
					intraOpNumThreads: threads,
					interOpNumThreads: 1,
					graphOptimizationLevel: 'all',
					logSeverityLevel: 3,
				});
				this.providersUsed[which] = provider;
				if (setting !== 'auto' && !only) {
					this.providerChoice ??= provider === setting ? `${provider} (as set)` : `${setting} did not start → ${provider}`;
				}
				log(`${which} model: ${provider} execution provider, ${threads} threads, session created in ${Date.now() - started} ms (${load})`);
				return { session, provider, file, batched };
			} catch (err) {
				const reason = `${provider}: ${describeError(err)}`;
				errors.push(reason);
				this.providerFailures.push(`${which} ${reason}`);
				log(`${which} model: the ${provider} execution provider did not start (${describeError(err)}); trying the next one`);
			}
		}
		const invalid = errors.find(e => /protobuf|invalid model|load model/i.test(e));
		if (invalid) {
			throw new ClipError('ModelInvalid', `${file}: not a valid ONNX model (${invalid}). Re-download the model.`, { file });
		}
		throw new ClipError('ProviderUnavailable', `${file}: no execution provider could run the model (${errors.join('; ')}). Try --provider cpu.`, {
			file,
		});
	}

	async dispose(): Promise<void> {
		this.disposed = true;
		const towers = [this.text, this.vision];
		this.text = this.vision = undefined;
		for (const tower of towers) {
			const t = await tower?.catch(() => undefined);
			await t?.session.release();
		}
	}
}
