/**
 * @file What `auto` runs on: a GPU provider only where it is measured faster than the CPU.
 *
 * [Note: auto is never slower than the CPU] A GPU provider that starts is not necessarily fast: a
 * machine whose only Vulkan device is a software one (SwiftShader, lavapipe: VMs, containers, CI, a
 * Remote-SSH host) ran WebGPU 75× slower than its CPU, and an integrated GPU or a small model can
 * lose too. So `auto`:
 *   1. skips what cannot help, without starting it: no Vulkan loader; only software Vulkan drivers
 *      installed; int8 weights (WebGPU has no kernels for MatMulInteger, ConvInteger and
 *      DynamicQuantizeLinear — each layer would go back to the CPU between GPU ops);
 *   2. measures the rest against the CPU once, in a child process (providerProbe.ts; Dawn's stderr
 *      noise stays in its pipe), on the model's own image graph, about a second each;
 *   3. keeps the fastest, and remembers the verdict per machine, model, variant, providers and
 *      onnxruntime version (provider-verdicts.json in the cache folder), so later starts measure
 *      nothing. A setting or --provider other than auto is obeyed as it is, never measured.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile';
import { MAX_JSON_BYTES, readRegularText } from '../../common/confine';
import { describeError } from '../../common/errors';
import { cacheHome } from '../../common/paths';
import type { ProbeRequest, ProbeResult } from './providerProbe';
import { type ConcreteProvider, providerCandidates, skipReason } from './providers';

export interface ProviderVerdict {
	/** The providers to create sessions with, in order (the last is always the CPU). */
	order: ConcreteProvider[];
	/** One line for the log, `stats` and Show Index Status, e.g. "webgpu 1.6 img/s vs cpu 120 img/s → cpu". */
	reason: string;
	/** Images per second per provider, when measured. */
	measured?: Record<string, number>;
}

export interface ChoiceOptions {
	/** The graph files: what each provider would load (the CPU may load a converted int8 twin). */
	files: (provider: ConcreteProvider) => Promise<string>;
	input: string;
	shape: [number, number, number, number];
	/** The model's key (id@revision#variant) and variant. */
	modelKey: string;
	variant: string;
	threads: number;
	cacheDir?: string;
	platform?: NodeJS.Platform;
	env?: NodeJS.ProcessEnv;
	/** Runs the probe (default: the child process); tests give a stand-in. */
	probe?: (request: ProbeRequest) => Promise<ProbeResult[]>;
	log?: (message: string) => void;
}

function ortVersion(): string {
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		return (require('onnxruntime-node/package.json') as { version: string }).version;
	} catch {
		return 'unknown';
	}
}

/** The verdict's key: what, if it changed, could change which provider is faster. */
function verdictKey(options: ChoiceOptions, gpus: ConcreteProvider[]): string {
	const env = options.env ?? process.env;
	const parts = [
		os.hostname(),
		os.cpus()[0]?.model ?? '',
		String(os.availableParallelism()),
		options.platform ?? process.platform,
		process.arch,
		ortVersion(),
		options.modelKey,
		options.variant,
		gpus.join(','),
		String(options.threads),
		env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES ?? '',
	];
	return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);
}

/** The probe child: the bundle beside this one (dist/providerProbe.js), or the compiled file beside this (tests). */
export function runProbe(request: ProbeRequest, timeoutMs = 120_000): Promise<ProbeResult[]> {
	const script = path.join(__dirname, 'providerProbe.js');
	return new Promise(resolve => {
		execFile(
			process.execPath,
			[script, JSON.stringify(request)],
			// ELECTRON_RUN_AS_NODE: in desktop VS Code, process.execPath is Electron.
			{ env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: timeoutMs, maxBuffer: 1 << 20 },
			(err, stdout) => {
				const last = stdout.trim().split('\n').pop() ?? '';
				try {
					resolve(JSON.parse(last) as ProbeResult[]);
				} catch {
					resolve(Object.keys(request.files).map(provider => ({ provider, error: `the probe failed (${err ? describeError(err) : 'no answer'})` })));
				}
			},
		);
	});
}

/**
 * Why `provider` does not start on `file` (in the probe child, so its native messages stay in a
 * pipe), or undefined when it starts. A failure to read the graph itself says nothing about the
 * provider: it is reported as starting, and the session here meets the same error with its own message.
 */
export async function probeStarts(provider: ConcreteProvider, graph: { file: string; input: string; shape: [number, number, number, number]; threads: number }, probe = runProbe): Promise<string | undefined> {
	const [result] = await probe({ files: { [provider]: graph.file }, input: graph.input, shape: graph.shape, threads: graph.threads, seconds: 0 });
	if (!result?.error || /protobuf|invalid model|load model|no such file|ENOENT/i.test(result.error)) {
		return undefined;
	}
	return shortReason(result.error);
}

const fmt = (x: number): string => String(x >= 100 ? Math.round(x) : Number(x.toPrecision(2)));

/** The end of a native error message, where its reason is ("No supported adapters"). */
function shortReason(error: string): string {
	const tail = error.split(/: |\. /).filter(Boolean).pop() ?? error;
	return tail.length > 80 ? `${tail.slice(0, 77)}…` : tail;
}

/** Picks the fastest of the measured providers (the CPU on a tie or when nothing else ran). */
export function decide(results: ProbeResult[]): ProviderVerdict {
	const ran = results.filter(r => r.imagesPerSecond !== undefined);
	const cpu = ran.find(r => r.provider === 'cpu');
	const best = ran.filter(r => r.provider !== 'cpu').sort((a, b) => b.imagesPerSecond! - a.imagesPerSecond!)[0];
	const measured = Object.fromEntries(ran.map(r => [r.provider, r.imagesPerSecond!]));
	const failed = results.filter(r => r.error).map(r => `${r.provider} did not start (${shortReason(r.error!)})`);
	if (!best || (cpu && best.imagesPerSecond! <= cpu.imagesPerSecond!)) {
		const line = [...ran.filter(r => r.provider !== 'cpu').map(r => `${r.provider} ${fmt(r.imagesPerSecond!)} img/s`), ...failed].join(', ');
		return { order: ['cpu'], reason: `${line}${line ? ' vs ' : ''}cpu ${cpu ? `${fmt(cpu.imagesPerSecond!)} img/s` : ''} → cpu`.replace(/ +/g, ' '), measured };
	}
	return { order: [best.provider as ConcreteProvider, 'cpu'], reason: `${best.provider} ${fmt(best.imagesPerSecond!)} img/s vs cpu ${cpu ? `${fmt(cpu.imagesPerSecond!)} img/s` : 'not measured'} → ${best.provider}`, measured };
}

interface CacheFile {
	verdicts: Record<string, ProviderVerdict & { at: string }>;
}

/** The providers `auto` uses for this model on this machine: see [Note: auto is never slower than the CPU]. */
export async function chooseAutoProvider(options: ChoiceOptions): Promise<ProviderVerdict> {
	const log = options.log ?? (() => undefined);
	const skipped: string[] = [];
	const gpus = providerCandidates('auto', options.platform).filter((p): p is ConcreteProvider => {
		if (p === 'cpu') {
			return false;
		}
		const why = options.variant === 'quantized' ? 'int8 weights run on the CPU (no GPU kernels for the integer operators)' : skipReason(p, options.platform, options.env);
		if (why) {
			skipped.push(`${p}: ${why}`);
		}
		return !why;
	});
	if (!gpus.length) {
		return { order: ['cpu'], reason: `cpu (${skipped.join('; ') || 'no GPU provider on this platform'})` };
	}
	const cacheFile = path.join(options.cacheDir ?? cacheHome(options.env), 'provider-verdicts.json');
	const key = verdictKey(options, gpus);
	const cache: CacheFile = await readRegularText(cacheFile, { maxBytes: MAX_JSON_BYTES })
		.then(t => JSON.parse(t) as CacheFile)
		.catch(() => ({ verdicts: {} }));
	const known = cache.verdicts?.[key];
	if (known && Array.isArray(known.order) && known.order.at(-1) === 'cpu') {
		return { order: known.order, reason: `${known.reason} (measured ${known.at.slice(0, 10)})`, measured: known.measured };
	}
	log(`measuring ${gpus.join(', ')} against the CPU on this model's image graph (once for this machine and model)`);
	const files: Record<string, string> = {};
	for (const p of [...gpus, 'cpu' as const]) {
		files[p] = await options.files(p);
	}
	const results = await (options.probe ?? runProbe)({ files, input: options.input, shape: options.shape, threads: options.threads, seconds: 1 });
	const decided = decide(results);
	const verdict = skipped.length ? { ...decided, reason: `${decided.reason}; ${skipped.join('; ')}` } : decided;
	cache.verdicts = { ...(cache.verdicts ?? {}), [key]: { ...verdict, at: new Date().toISOString() } };
	await fs.mkdir(path.dirname(cacheFile), { recursive: true }).catch(() => undefined);
	await writeFileAtomic(cacheFile, JSON.stringify(cache, null, 2)).catch(err => log(`cannot remember the provider verdict in ${cacheFile}: ${describeError(err)}`));
	return verdict;
}

/** Forget a verdict whose provider then failed mid-run: the next start measures again. */
export async function forgetVerdicts(cacheDir?: string): Promise<void> {
	await fs.rm(path.join(cacheDir ?? cacheHome(), 'provider-verdicts.json'), { force: true });
}
