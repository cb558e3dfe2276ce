/**
 * @file The extension host's side of the worker: starts the worker thread on first use, sends typed
 * requests, routes responses and events. A worker that dies fails its pending requests with a
 * clear error and is started again on the next request.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ClipError, type ClipErrorCode } from '../core/common/errors';
import { quietDawn } from '../core/model/dawn';
import type { EventMessage, RequestMap, RequestType, WorkerConfig, WorkerMessage } from './worker/protocol';

type Listener = (event: EventMessage) => void;

export class WorkerClient {
	private worker: Worker | undefined;
	private nextId = 1;
	private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
	private readonly listeners = new Set<Listener>();
	private config: WorkerConfig | undefined;
	private disposed = false;

	constructor(private readonly distDir: string) {}

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
			worker.postMessage({ kind: 'request', id, type, params });
		});
	}

	private ensureWorker(): Worker {
		if (this.worker) {
			return this.worker;
		}
		if (this.config?.provider === 'webgpu') {
			quietDawn(); // before the thread starts: its environment is a copy of this one
		}
		const worker = new Worker(path.join(this.distDir, 'inferenceWorker.js'));
		this.worker = worker;
		worker.on('message', (message: WorkerMessage) => this.onMessage(message));
		worker.on('error', err => this.failAll(`The inference worker crashed: ${err.message}`));
		worker.on('exit', code => {
			if (this.worker === worker) {
				this.worker = undefined;
			}
			this.failAll(`The inference worker stopped (exit code ${code}).`);
		});
		if (this.config) {
			const id = this.nextId++;
			this.pending.set(id, { resolve: () => undefined, reject: () => undefined });
			worker.postMessage({ kind: 'request', id, type: 'configure', params: this.config });
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
		await worker?.terminate();
	}
}
