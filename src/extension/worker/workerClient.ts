/**
 * @file The extension host's side of the worker: starts the worker process on first use, sends typed
 * requests, routes responses and events. A worker that dies fails its pending requests with a
 * clear error and is started again on the next request.
 *
 * [Note: a process, not a thread] The worker is a child process (node, or the editor's own runtime
 * with ELECTRON_RUN_AS_NODE), started with lowMemoryEnv() so that models it releases when idle give
 * their memory back to the system (core/model/runtime/idleRelease.ts): a thread shares the editor's
 * allocator, which keeps freed pages. Its stderr (Dawn writes there) is a pipe, read into the log.
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { ClipError, type ClipErrorCode } from '../../core/common/errors';
import { quietDawn } from '../../core/model/runtime/dawn';
import { lowMemoryEnv } from '../../core/model/runtime/idleRelease';
import type { EventMessage, RequestMap, RequestType, WorkerConfig, WorkerMessage } from './protocol';

type Listener = (event: EventMessage) => void;

export class WorkerClient {
	private worker: ChildProcess | undefined;
	private nextId = 1;
	private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
	private readonly listeners = new Set<Listener>();
	private config: WorkerConfig | undefined;
	private disposed = false;

	constructor(
		private readonly distDir: string,
		/** Where the worker's stderr lines go (the log). */
		private readonly onStderr: (line: string) => void = () => undefined,
	) {}

	onEvent(listener: Listener): { dispose(): void } {
		this.listeners.add(listener);
		return { dispose: () => this.listeners.delete(listener) };
	}

	/** Sets the configuration (sent now if the worker runs, else when it starts). */
	async configure(config: WorkerConfig): Promise<void> {
		this.config = config;
		if (this.worker) {
			await this.request('configure', config);
		}
	}

	async request<T extends RequestType>(type: T, params: RequestMap[T]['params']): Promise<RequestMap[T]['result']> {
		if (this.disposed) {
			throw new ClipError('Cancelled', 'CLIP Image Search is shutting down.');
		}
		const worker = this.ensureWorker();
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
			this.post(worker, { kind: 'request', id, type, params });
		});
	}

	private post(worker: ChildProcess, message: unknown): void {
		worker.send(message as never, err => {
			if (err) {
				this.failAll(`The inference worker could not be reached: ${err.message}`);
			}
		});
	}

	private ensureWorker(): ChildProcess {
		if (this.worker) {
			return this.worker;
		}
		const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
		if (this.config?.provider === 'webgpu') {
			quietDawn(env);
		}
		// [Note: a process, not a thread]
		const worker = fork(path.join(this.distDir, 'inferenceWorker.js'), [], {
			env: lowMemoryEnv(env),
			execArgv: [],
			serialization: 'advanced',
			stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
		});
		this.worker = worker;
		let rest = '';
		worker.stderr?.on('data', (d: Buffer) => {
			const lines = (rest + d.toString()).split('\n');
			rest = lines.pop() ?? '';
			lines.filter(l => l.trim()).forEach(l => this.onStderr(l));
		});
		worker.on('message', (message: WorkerMessage) => this.onMessage(message));
		worker.on('error', err => this.failAll(`The inference worker crashed: ${err.message}`));
		worker.on('exit', (code, signal) => {
			if (this.worker === worker) {
				this.worker = undefined;
			}
			this.failAll(`The inference worker stopped (${signal ? `signal ${signal}` : `exit code ${code}`}).`);
			// Whatever it was preparing is not being prepared any more.
			this.listeners.forEach(l => l({ kind: 'event', type: 'stage' }));
		});
		if (this.config) {
			const id = this.nextId++;
			this.pending.set(id, { resolve: () => undefined, reject: () => undefined });
			this.post(worker, { kind: 'request', id, type: 'configure', params: this.config });
		}
		return worker;
	}

	private onMessage(message: WorkerMessage): void {
		if (message.kind === 'event') {
			for (const l of this.listeners) {
				l(message);
			}
			return;
		}
		const waiter = this.pending.get(message.id);
		if (!waiter) {
			return;
		}
		this.pending.delete(message.id);
		if (message.ok) {
			waiter.resolve(message.result);
		} else {
			waiter.reject(new ClipError(message.error.code as ClipErrorCode, message.error.message, { file: message.error.file }));
		}
	}

	private failAll(reason: string): void {
		for (const [, w] of this.pending) {
			w.reject(new ClipError('Cancelled', reason));
		}
		this.pending.clear();
	}

	async dispose(): Promise<void> {
		this.disposed = true;
		const worker = this.worker;
		this.worker = undefined;
		this.failAll('CLIP Image Search is shutting down.');
		if (worker && worker.exitCode === null && worker.signalCode === null) {
			const exited = new Promise(resolve => worker.once('exit', resolve));
			worker.kill();
			await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 2000))]);
		}
	}
}
