/**
 * @file Which int8 file the CPU loads for a quantized model: its full-range or reduced-range twin
 * (int8Weights.ts), made in the product's cache, or the file itself.
 *
 * [Note: derived files] A twin is kept as `<name>.<u8s8|r7>-<sha256 of the source, 16 hex>-v<version>.onnx`
 * in the product's cache, never beside the model (a model folder may be the user's own). It is not
 * trusted for its name: the first load in a process converts the source again (about a second for
 * ViT-B/32's 88 MB) and uses the cached file only when its bytes are the conversion's, so a damaged
 * or planted twin is replaced, never loaded; later loads in the process trust it while it is
 * unchanged (verifiedFiles.ts). (The file is still needed: `auto`'s probe child loads models by path.)
 * A reduced twin is lossy: it is used only after checkTwinParity (int8Parity.ts) passed; the
 * verdict is kept beside it (`.parity.json`), and a twin that failed is not made again.
 *
 * [Note: ARM] MLAS has U8U8 and S8S8 paths on ARM64 but no U8S8 advantage like x86's, so no twin
 * is made there (not measured here: no ARM machine).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile';
import { readRegularText } from '../../common/confine';
import { describeError } from '../../common/errors';
import { cacheHome } from '../../common/paths';
import { cachedSha256 } from '../files/fileDigest';
import { MAX_GRAPH_BYTES, readModelBytes } from '../files/modelFiles';
import { markVerified, stillVerified } from '../files/verifiedFiles';
import { int8KernelsFromEnv, type Int8Kernels, type TwinKind, u8s8IsExact } from './int8Kernels';
import { checkTwinParity, type ParityResult } from './int8Parity';
import { convertMatMulWeights, CONVERTER_VERSION } from './int8Weights';
import { fileEqualsParts, hasUint8MatMulWeights } from './onnxBytes';

export interface FastInt8Options {
	log?: (message: string) => void;
	/** Said while a twin is made for the first time (the CLI's stderr, the status bar); undefined when done. */
	onStage?: (message: string | undefined) => void;
	/** The choice (clipSearch.int8Kernels); CLIP_SEARCH_INT8_KERNELS wins over it. Default auto. */
	kernels?: Int8Kernels;
	/** Where twins go: the product's cache (never the model's own folder). */
	cacheDir?: string;
	/** process.arch by default; twins are made on x64 only (see the note). */
	arch?: string;
	/** Whether U8S8 is exact on this CPU (int8Kernels.ts by default; tests inject it). */
	exact?: () => Promise<boolean>;
	/** The reduced twin's check (int8Parity.ts by default; tests inject a failing one). */
	parity?: (original: string, twin: string) => Promise<ParityResult>;
	/** The environment CLIP_SEARCH_INT8_KERNELS is read from (tests). */
	env?: NodeJS.ProcessEnv;
}

/** Where twins are kept by default. */
export function convertedCacheDir(): string {
	return path.join(cacheHome(), 'converted');
}

/** The kind of twin this machine and these options ask for, or undefined for the file as it is. */
export async function twinKindFor(options: FastInt8Options = {}): Promise<TwinKind | undefined> {
	if ((options.arch ?? process.arch) !== 'x64') {
		return undefined;
	}
	const choice = int8KernelsFromEnv(options.env) ?? options.kernels ?? 'auto';
	if (choice === 'off') {
		return undefined;
	}
	if (choice !== 'auto') {
		return choice;
	}
	return (await (options.exact ?? u8s8IsExact)()) ? 'full' : 'reduced';
}

/**
 * The file to load for a quantized ONNX model on this machine: its twin where it has uint8
 * MatMulInteger weights and a twin is chosen (twinKindFor), else the file itself. Never fails: on
 * any error the original file is used and the log says why.
 */
export async function fastInt8Model(file: string, options: FastInt8Options = {}): Promise<string> {
	const log = options.log ?? (() => undefined);
	const base = path.basename(file);
	try {
		const kind = await twinKindFor(options);
		if (!kind) {
			return file;
		}
		const sha = await cachedSha256(file);
		const dir = options.cacheDir ?? convertedCacheDir();
		const twin = path.join(dir, `${path.basename(file, '.onnx')}.${kind === 'full' ? 'u8s8' : 'r7'}-${sha.slice(0, 16)}-v${CONVERTER_VERSION}.onnx`);
		if (await exists(`${twin}.none`)) {
			return file; // nothing to convert in this model
		}
		const verdictFile = `${twin}.parity.json`;
		const kept = kind === 'reduced' ? await readVerdict(verdictFile) : undefined;
		if (kept && !kept.pass) {
			return file; // checked before: this model's reduced twin drifts too far
		}
		if ((kind === 'full' || kept?.pass) && (await stillVerified(twin))) {
			return twin; // checked against the model earlier in this process, unchanged since
		}
		const fresh = !(await exists(twin));
		if (fresh && !(await hasUint8MatMulWeights(file))) {
			// Nothing to convert, known from the nodes and the initializers' first bytes (the weights unread).
			await fs.mkdir(dir, { recursive: true });
			await writeFileAtomic(`${twin}.none`, '');
			return file;
		}
		if (fresh) {
			options.onStage?.(`preparing the int8 ${/vision|visual|image/i.test(base) ? 'image' : 'text'} model for this CPU (once)…`);
		}
		try {
			const started = performance.now();
			const { parts, report } = convertMatMulWeights(await readModelBytes(file, MAX_GRAPH_BYTES), kind, { inPlace: true });
			const ms = performance.now() - started;
			for (const s of report.skipped) {
				log(`int8 ${kind} twin of ${base}: kept uint8 for ${s}`);
			}
			await fs.mkdir(dir, { recursive: true });
			if (!report.nodes) {
				await writeFileAtomic(`${twin}.none`, '');
				return file;
			}
			if (fresh || !(await fileEqualsParts(twin, parts))) {
				if (!fresh) {
					log(`int8 twin of ${base}: ${twin} is not what the conversion makes from the model; making it again`);
				}
				await writeFileAtomic(twin, parts);
				log(
					`int8 ${kind} twin of ${base}: ${report.nodes} MatMulInteger nodes take int8 weights (${report.tensors} tensors rewritten${kind === 'full' ? ', lossless' : ', 7-bit'}) in ${ms.toFixed(0)} ms → ${twin}`,
				);
			}
			await markVerified(twin);
			if (kind === 'reduced') {
				let verdict = kept;
				if (!verdict) {
					const t = performance.now();
					verdict = await (options.parity ?? checkTwinParity)(file, twin);
					await writeFileAtomic(verdictFile, `${JSON.stringify(verdict)}\n`);
					log(`int8 reduced twin of ${base}: cosine to the uint8 model on ${verdict.images} images mean ${verdict.mean.toFixed(4)}, worst ${verdict.min.toFixed(4)} (${(performance.now() - t).toFixed(0)} ms)`);
				}
				if (!verdict.pass) {
					await fs.rm(twin, { force: true }); // never loaded: the verdict says so from now on
					log(`int8 reduced twin of ${base}: not used, its vectors drift from the model's (cosine mean ${verdict.mean.toFixed(4)}, worst ${verdict.min.toFixed(4)}; needed ≥ 0.995 and ≥ 0.98); the uint8 weights run as they are`);
					return file;
				}
			}
			return twin;
		} finally {
			if (fresh) {
				options.onStage?.(undefined);
			}
		}
	} catch (err) {
		log(`int8 twin of ${base} failed, using the original file: ${describeError(err)}`);
		return file;
	}
}

async function readVerdict(file: string): Promise<ParityResult | undefined> {
	try {
		const v = JSON.parse(await readRegularText(file, { maxBytes: 4096 })) as ParityResult;
		return typeof v.pass === 'boolean' && typeof v.mean === 'number' && typeof v.min === 'number' ? v : undefined;
	} catch {
		return undefined;
	}
}

async function exists(file: string): Promise<boolean> {
	return fs.access(file).then(
		() => true,
		() => false,
	);
}
