/**
 * @file Downloads a known model from Hugging Face into the model cache: one file at a time into
 * `<file>.part`, resumed with an HTTP range request after a drop, retried with backoff on
 * network errors and 5xx answers, verified, then renamed into place. Progress is reported per file
 * in bytes; an AbortSignal cancels and keeps the partial file for the next try.
 *
 * [Note: what a download is checked against] Every completed file is verified whole — the bytes
 * kept from an earlier try included — against its pinned SHA-256 (the registry's, from a public
 * source), else the hash the hub states (X-Linked-Etag: the SHA-256 of an LFS file; ETag: the Git
 * blob SHA-1 of a plain file), else it is refused: a file no hash vouches for is never used, unless
 * CLIP_SEARCH_ALLOW_UNVERIFIED=1 says so. The hub is reached over https; plain http:// is refused
 * (for HF_ENDPOINT and for every redirect) except on this machine's loopback addresses (a local
 * mirror) or with CLIP_SEARCH_ALLOW_HTTP=1.
 */
import { createHash, type Hash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile';
import { openRegularFile } from '../../common/confine';
import { ClipError, describeError } from '../../common/errors';
import { formatBytes } from '../../common/sizes';
import { filesForVariant, type KnownModel, type ModelFile } from './modelRegistry';
import type { ModelVariant } from '../layouts/modelSpec';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** No model file is larger (the biggest fp32 towers are about 1.5 GB; ONNX files without external data stop at 2 GB). */
export const MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3;

export interface DownloadProgress {
	file: string;
	/** Bytes of this file on disk so far. */
	loaded: number;
	/** Bytes of this file in all, when known. */
	total: number | undefined;
	/** 'start' | 'progress' | 'done' per file. */
	status: 'start' | 'progress' | 'done';
}

export interface DownloadOptions {
	/** Accept a file that neither a pinned nor a stated hash vouches for (CLIP_SEARCH_ALLOW_UNVERIFIED=1). */
	allowUnverified?: boolean;
	/** Accept plain http:// to other machines (CLIP_SEARCH_ALLOW_HTTP=1). */
	allowHttp?: boolean;
	/** The hub's base URL; HF_ENDPOINT in the environment overrides the default. */
	endpoint?: string;
	signal?: AbortSignal;
	onProgress?: (p: DownloadProgress) => void;
	/** Attempts per file for retryable failures (network errors, 5xx). */
	retries?: number;
	/** First backoff delay; doubled after each failed attempt. */
	backoffMs?: number;
	/** The most one file may have when no size is pinned or stated (MAX_DOWNLOAD_BYTES; tests set less). */
	maxBytes?: number;
	log?: (message: string) => void;
}

/** The folder a known model's revision lives in, under the model cache. */
export function modelCacheDir(cacheDir: string, model: KnownModel): string {
	return path.join(cacheDir, model.id.replace(/[\\/]/g, '--'), model.revision);
}

export function fileUrl(endpoint: string, model: KnownModel, file: string): string {
	return `${endpoint.replace(/\/+$/, '')}/${model.repo ?? model.id}/resolve/${model.revision}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

/** Files of the variant not yet complete in `dir`. */
export async function missingFiles(dir: string, model: KnownModel, variant: ModelVariant): Promise<ModelFile[]> {
	const missing: ModelFile[] = [];
	for (const f of filesForVariant(model, variant)) {
		const st = await fs.stat(path.join(dir, f.path)).catch(() => undefined);
		if (!st?.isFile() || (f.size !== undefined && st.size !== f.size)) {
			missing.push(f);
		}
	}
	return missing;
}

/** Refuses a URL the download must not use (see [Note: what a download is checked against]). */
export function checkTransport(url: string, options: Pick<DownloadOptions, 'allowHttp'> = {}): void {
	let u: URL;
	try {
		u = new URL(url);
	} catch {
		throw new ClipError('Unverifiable', `${url} is not a URL: set HF_ENDPOINT to the hub's address (https://…).`);
	}
	const loopback = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(u.hostname);
	const allowHttp = options.allowHttp ?? process.env.CLIP_SEARCH_ALLOW_HTTP === '1';
	if (u.protocol === 'https:' || (u.protocol === 'http:' && (loopback || allowHttp))) {
		return;
	}
	throw new ClipError(
		'Unverifiable',
		u.protocol === 'http:'
			? `Refusing to download from ${u.origin} over plain http:// (anyone on the way could change the files). Use https://, or set CLIP_SEARCH_ALLOW_HTTP=1 if you mean it.`
			: `Cannot download from ${url}: only https:// (and http:// on this machine) are used.`,
	);
}

/** Downloads whatever the variant still lacks into `dir`. Returns the folder. */
export async function downloadModel(model: KnownModel, variant: ModelVariant, dir: string, options: DownloadOptions = {}): Promise<string> {
	const endpoint = options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT;
	checkTransport(endpoint, options);
	const todo = await missingFiles(dir, model, variant);
	// The hint names this model's own files (an Immich folder is config.json, visual/…, textual/…).
	const files = filesForVariant(model, variant).map(f => f.path);
	const offlineHint = `To work offline, copy the model folder (${files.join(', ')}) to this machine and pass its path as the model (--model /path/to/folder, or the clipSearch.model setting).`;
	for (const file of todo) {
		await downloadFile(model, file, dir, endpoint, options, offlineHint);
	}
	if (todo.length) {
		await writeFileAtomic(
			path.join(dir, 'download.json'),
			JSON.stringify({ id: model.id, repo: model.repo ?? model.id, revision: model.revision, endpoint, completed: new Date().toISOString() }, null, 2),
		);
	}
	return dir;
}

class RetryableError extends Error {}

async function downloadFile(model: KnownModel, file: ModelFile, dir: string, endpoint: string, options: DownloadOptions, offlineHint: string): Promise<void> {
	const url = fileUrl(endpoint, model, file.path);
	const dest = path.join(dir, file.path);
	const part = `${dest}.part`;
	await fs.mkdir(path.dirname(dest), { recursive: true });
	const retries = options.retries ?? 4;
	let delay = options.backoffMs ?? 1000;
	options.onProgress?.({ file: file.path, loaded: 0, total: file.size, status: 'start' });
	for (let attempt = 1; ; attempt++) {
		try {
			await fetchInto(url, part, file, options);
			break;
		} catch (err) {
			if (ClipError.is(err)) {
				throw err;
			}
			if (options.signal?.aborted) {
				throw new ClipError('Cancelled', `Download of ${model.id} (${file.path}) was cancelled; the partial file is kept and the next try resumes it.`);
			}
			const retryable = err instanceof RetryableError || err instanceof TypeError || (err as NodeJS.ErrnoException).code !== undefined;
			if (!retryable || attempt >= retries) {
				throw new ClipError('DownloadFailed', `Cannot download ${model.id} file ${file.path} from ${url}: ${describeError(err)}. ${offlineHint}`, {
					file: file.path,
					cause: err,
				});
			}
			options.log?.(`download ${file.path}: ${describeError(err)}; retrying in ${delay} ms (attempt ${attempt + 1} of ${retries})`);
			await sleep(delay, options.signal);
			delay *= 2;
		}
	}
	await fs.rename(part, dest);
	const size = (await fs.stat(dest)).size;
	options.onProgress?.({ file: file.path, loaded: size, total: size, status: 'done' });
}

/** One attempt: fetch (resuming from the .part file), append, verify. */
async function fetchInto(url: string, part: string, file: ModelFile, options: DownloadOptions): Promise<void> {
	const have = (await fs.stat(part).catch(() => undefined))?.size ?? 0;
	// The first answer of an LFS file is a redirect whose headers state the content hash and size;
	// follow redirects by hand so that those headers are not lost.
	let response: Response;
	let stated: { sha256?: string; gitSha1?: string; size?: number } = {};
	let target = url;
	for (let hop = 0; ; hop++) {
		checkTransport(target, options);
		response = await fetch(target, {
			redirect: 'manual',
			signal: options.signal,
			headers: have > 0 ? { Range: `bytes=${have}-` } : {},
		});
		stated = { ...statedHashes(response), ...stated };
		const location = response.headers.get('location');
		if (response.status >= 300 && response.status < 400 && location && hop < 5) {
			await response.body?.cancel();
			target = new URL(location, target).toString();
			continue;
		}
		break;
	}
	if (response.status === 404 || response.status === 401 || response.status === 403) {
		await response.body?.cancel();
		throw new ClipError(
			'DownloadFailed',
			`Cannot download ${file.path} from ${url}: the server answered ${response.status} (${response.status === 404 ? 'no such file at this revision' : 'access denied'}).`,
			{ file: file.path },
		);
	}
	if (response.status >= 500 || response.status === 429 || response.status === 408) {
		await response.body?.cancel();
		throw new RetryableError(`the server answered ${response.status}`);
	}
	if (response.status === 416 && have > 0) {
		// The partial file is already complete (or longer than the file): start again.
		await response.body?.cancel();
		await fs.rm(part, { force: true });
		throw new RetryableError('the saved partial file does not fit the file on the server');
	}
	if (response.status !== 200 && response.status !== 206) {
		await response.body?.cancel();
		throw new ClipError('DownloadFailed', `Cannot download ${file.path} from ${url}: unexpected answer ${response.status}.`, { file: file.path });
	}
	const resuming = response.status === 206 && have > 0;
	const contentLength = Number(response.headers.get('content-length') ?? NaN);
	const total = file.size ?? stated.size ?? (Number.isFinite(contentLength) ? contentLength + (resuming ? have : 0) : undefined);
	// [Note: a body without end] A hostile or broken mirror can send bytes for ever and fill the disk:
	// the body stops at the pinned size, else the size the server states (X-Linked-Size, then
	// Content-Length), and never passes MAX_DOWNLOAD_BYTES.
	// (A compressed body's Content-Length counts compressed bytes: no limit from it then.)
	const encoded = !['', 'identity'].includes((response.headers.get('content-encoding') ?? '').toLowerCase());
	const bound = file.size ?? stated.size ?? (encoded ? undefined : total);
	const ceiling = options.maxBytes ?? MAX_DOWNLOAD_BYTES;
	const limit = Math.min(ceiling, bound ?? ceiling);
	const sha256 = createHash('sha256');
	let loaded = 0;
	if (resuming) {
		await hashFile(part, [sha256], have); // the kept bytes are verified with the rest, never trusted
		loaded = have;
	}
	const handle = await fs.open(part, resuming ? 'a' : 'w');
	try {
		let lastReport = 0;
		for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
			const buf = Buffer.from(chunk);
			if (loaded + buf.length > limit) {
				throw new ClipError(
					'DownloadFailed',
					`${file.path} from ${url}: the server sent more than ${formatBytes(limit)} (${bound !== undefined ? 'the size it should have' : 'the most a model file may have'}); the download was stopped and discarded.`,
					{ file: file.path },
				);
			}
			await handle.write(buf);
			sha256.update(buf);
			loaded += buf.length;
			if (loaded - lastReport >= 1 << 20) {
				lastReport = loaded;
				options.onProgress?.({ file: file.path, loaded, total, status: 'progress' });
			}
		}
		await handle.sync();
	} catch (err) {
		await handle.close().catch(() => undefined);
		if (ClipError.is(err, 'DownloadFailed')) {
			await fs.rm(part, { force: true });
			throw err;
		}
		throw err instanceof Error && err.name === 'AbortError' ? err : new RetryableError(`the connection broke after ${loaded} bytes (${describeError(err)})`);
	}
	await handle.close();
	if (total !== undefined && loaded < total) {
		throw new RetryableError(`the connection closed after ${loaded} of ${total} bytes`);
	}
	// [Note: what a download is checked against]: the whole file, whatever came from where.
	const actual = sha256.digest('hex');
	const expected = file.sha256 ?? stated.sha256;
	let problem: string | undefined;
	if (file.size !== undefined && loaded !== file.size) {
		problem = `size is ${loaded} bytes, expected ${file.size}`;
	} else if (expected) {
		if (actual !== expected) {
			problem = `SHA-256 is ${actual}, expected ${expected}${file.sha256 ? ' (pinned)' : ' (stated by the server)'}`;
		}
	} else if (stated.gitSha1) {
		const sha1 = createHash('sha1').update(`blob ${loaded}\0`);
		await hashFile(part, [sha1], loaded);
		const blob = sha1.digest('hex');
		if (blob !== stated.gitSha1) {
			problem = `Git blob SHA-1 is ${blob}, the server states ${stated.gitSha1}`;
		}
	} else if (!(options.allowUnverified ?? process.env.CLIP_SEARCH_ALLOW_UNVERIFIED === '1')) {
		await fs.rm(part, { force: true });
		throw new ClipError(
			'Unverifiable',
			`${file.path} from ${url} cannot be verified: no hash is pinned for it and the server stated none (Hugging Face states one for every file). It was discarded. Set CLIP_SEARCH_ALLOW_UNVERIFIED=1 to accept such files from a mirror you trust.`,
			{ file: file.path },
		);
	}
	if (problem) {
		await fs.rm(part, { force: true });
		throw new ClipError('ChecksumMismatch', `Downloaded ${file.path} from ${url} is corrupt (${problem}); it was discarded. Try again.`, {
			file: file.path,
		});
	}
}

/** Hashes Hugging Face states in headers: X-Linked-Etag (LFS, SHA-256) or ETag (Git blob SHA-1). */
function statedHashes(response: Response): { sha256?: string; gitSha1?: string; size?: number } {
	const clean = (v: string | null): string | undefined => v?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase() || undefined;
	const linked = clean(response.headers.get('x-linked-etag'));
	const etag = clean(response.headers.get('etag'));
	const size = Number(response.headers.get('x-linked-size') ?? NaN);
	const out: { sha256?: string; gitSha1?: string; size?: number } = {};
	if (linked && /^[0-9a-f]{64}$/.test(linked)) {
		out.sha256 = linked;
	} else if (etag && /^[0-9a-f]{64}$/.test(etag)) {
		out.sha256 = etag;
	} else if (etag && /^[0-9a-f]{40}$/.test(etag)) {
		out.gitSha1 = etag;
	}
	if (Number.isFinite(size)) {
		out.size = size;
	}
	return out;
}

async function hashFile(file: string, hashes: Hash[], length: number): Promise<void> {
	const handle = await openRegularFile(file, 'the downloaded file');
	try {
		const buf = Buffer.alloc(1 << 20);
		let pos = 0;
		while (pos < length) {
			const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, length - pos), pos);
			if (bytesRead === 0) {
				break;
			}
			for (const h of hashes) {
				h.update(buf.subarray(0, bytesRead));
			}
			pos += bytesRead;
		}
	} finally {
		await handle.close();
	}
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		const t = setTimeout(resolve, ms);
		signal?.addEventListener(
			'abort',
			() => {
				clearTimeout(t);
				reject(new ClipError('Cancelled', 'The download was cancelled.'));
			},
			{ once: true },
		);
	});
}
