/**
 * @file The provider probe: a child process (bundled as dist/providerProbe.js) that starts the
 * image graph on each execution provider it is given, runs it on a synthetic batch, and prints one
 * JSON line of what started and how fast it ran. It runs apart from the product's process because
 * Dawn (WebGPU) writes warnings and errors straight to the process's stderr, where JavaScript cannot
 * catch them; here they land in a pipe the parent reads, and the person sees one line of ours.
 *
 * Usage: node providerProbe.js '<ProbeRequest as JSON>'
 */
import * as ort from 'onnxruntime-node';
import { quietDawn } from './dawn';

export interface ProbeRequest {
	/** Graph file per provider (the CPU may load a converted int8 twin). */
	files: Record<string, string>;
	/** The image input's name and shape [batch, 3, height, width]. */
	input: string;
	shape: [number, number, number, number];
	threads: number;
	/** Time budget per provider for the timed runs, after one warm-up run. */
	seconds: number;
}

export interface ProbeResult {
	provider: string;
	/** Images per second, when it started and ran. */
	imagesPerSecond?: number;
	/** Why it did not start or run. */
	error?: string;
}

async function measure(provider: string, request: ProbeRequest): Promise<ProbeResult> {
	let session: ort.InferenceSession | undefined;
	try {
		session = await ort.InferenceSession.create(request.files[provider], {
			executionProviders: [provider],
			intraOpNumThreads: request.threads,
			interOpNumThreads: 1,
			graphOptimizationLevel: 'all',
			logSeverityLevel: 3,
		});
		const [n, c, h, w] = request.shape;
		const data = new Float32Array(n * c * h * w);
		for (let i = 0; i < data.length; i++) {
			data[i] = Math.sin(i * 12.9898) * 0.5; // a fixed, image-like spread of values
		}
		const feeds = { [request.input]: new ort.Tensor('float32', data, request.shape) };
		await session.run(feeds); // warm-up: shader compilation, allocations
		let runs = 0;
		const started = performance.now();
		do {
			await session.run(feeds);
			runs++;
		} while (performance.now() - started < request.seconds * 1000 && runs < 50);
		return { provider, imagesPerSecond: (runs * n) / ((performance.now() - started) / 1000) };
	} catch (err) {
		return { provider, error: (err instanceof Error ? err.message : String(err)).split('\n')[0] };
	} finally {
		await session?.release().catch(() => undefined);
	}
}

async function main(): Promise<void> {
	const request = JSON.parse(process.argv[2]) as ProbeRequest;
	ort.env.logLevel = 'fatal';
	quietDawn(); // its stderr is a pipe anyway; this keeps the pipe for what matters
	const results: ProbeResult[] = [];
	for (const provider of Object.keys(request.files)) {
		results.push(await measure(provider, request));
	}
	process.stdout.write(`${JSON.stringify(results)}\n`);
}

if (require.main === module) {
	main().then(
		() => process.exit(0),
		err => {
			process.stdout.write(`${JSON.stringify([{ provider: 'probe', error: String(err) }])}\n`);
			process.exit(1);
		},
	);
}
