/**
 * @file The one gate for paths that enter from outside: an agent's tool arguments, image terms in a
 * query, previews and thumbnails of indexed paths, classes files, tags files and their folders. Every
 * surface asks here, so the next feature that takes a path gets the same rule.
 *
 * [Note: confinement] A path is inside a folder when its real path, after every symbolic link is
 * followed, lies inside the folder's real path; comparing the text alone lets `imgs/link.png ->
 * /outside/secret.png` through. A path that does not exist yet (a tags file to create) is judged by
 * the real path of its deepest existing ancestor, so `.vscode -> /outside` is caught before the
 * write. Reads are made once through an open file: a regular file only (a device such as /dev/zero
 * never ends, a FIFO blocks forever, and `stat` says 0 bytes for both), its size taken from the
 * open file, never more than a bound read, and — on Linux, where the open file's own path can be
 * asked — the opened file checked again, so a link swapped in after the check is caught too.
 */
import { closeSync, constants, fstatSync, openSync, promises as fs, readSync } from 'node:fs';
import * as path from 'node:path';
import { ClipError } from './errors';
import { isInside } from './safePaths';

/** A path inside a folder: absolute, relative to the folder ('/'-separated; '' is the folder), and real. */
export interface ConfinedPath {
	abs: string;
	rel: string;
	real: string;
}

async function realOrResolved(p: string): Promise<string> {
	return fs.realpath(p).catch(() => path.resolve(p));
}

/** The real path of `p`, or of its deepest existing ancestor joined with the rest; undefined for a dangling link. */
async function realOfDeepest(p: string): Promise<string | undefined> {
	let existing = path.resolve(p);
	let rest = '';
	for (;;) {
		const real = await fs.realpath(existing).catch((err: NodeJS.ErrnoException) => err);
		if (typeof real === 'string') {
			return rest ? path.join(real, rest) : real;
		}
		if (real.code !== 'ENOENT' && real.code !== 'ENOTDIR') {
			return undefined;
		}
		if (await fs.lstat(existing).then(st => st.isSymbolicLink(), () => false)) {
			return undefined; // a link to nothing: where a write through it would land is not ours to say
		}
		const up = path.dirname(existing);
		if (up === existing) {
			return undefined;
		}
		rest = path.join(path.basename(existing), rest);
		existing = up;
	}
}

export function outsideFolder(given: string, root: string, what = 'path'): ClipError {
	return new ClipError('OutsideFolder', `${given} is outside the folder ${root}: only ${what}s inside it are read or written.`, { file: given });
}

/**
 * Resolves `given` (relative to `root`, or absolute) to a path that stays inside `root` once links
 * are followed ([Note: confinement]); OutsideFolder otherwise. The path need not exist.
 */
export async function confinePath(root: string, given: string, what = 'path'): Promise<ConfinedPath> {
	const absRoot = path.resolve(root);
	const abs = path.resolve(absRoot, given);
	if (given.includes('\0') || !isInside(absRoot, abs)) {
		throw outsideFolder(given, absRoot, what);
	}
	const realRoot = await realOrResolved(absRoot);
	const real = await realOfDeepest(abs);
	if (real === undefined || !isInside(realRoot, real)) {
		throw outsideFolder(given, absRoot, what);
	}
	return { abs, rel: path.relative(absRoot, abs).split(path.sep).join('/'), real };
}

/** Whether `candidate` stays inside `root` once links are followed (see confinePath). */
export async function staysInside(root: string, candidate: string): Promise<boolean> {
	return confinePath(root, candidate).then(
		() => true,
		() => false,
	);
}

export interface BoundedRead {
	/** Refuse files larger than this (checked on the open file). */
	maxBytes: number;
	/** What the file is, for messages ("the image", "the classes file"). */
	what?: string;
	/** The error for a file over maxBytes (default LimitExceeded naming the size). */
	tooLarge?: (file: string, size: number) => ClipError;
	/** The folder the file must stay inside, links followed ([Note: confinement]). */
	within?: string;
	/** Read only the first maxBytes bytes of a larger file instead of refusing it (a header). */
	head?: boolean;
}

/**
 * [Note: every read is bounded] Files a folder, a repository or a model folder provides are read
 * only here (readRegularFile and the text readers below): a FIFO, a device, a folder or a link to
 * /dev/zero is refused at once, and no file is read past its bound. test/core/common/readers.test.ts
 * lists every other read in src/ with the reason it may stand, and fails on a new one.
 */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** A tags file: about 200 bytes an image, so 64 MiB is some 300,000 images. */
export const MAX_TAGS_FILE_BYTES = 64 * 1024 * 1024;

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

function unreadable(file: string, what: string, why: string, cause?: unknown): ClipError {
	return new ClipError('FileUnreadable', `Cannot read ${what} ${file}: ${why}.`, { file, cause });
}

/** A ClipError as it is; anything else (a system error) as FileUnreadable with its code. */
function asUnreadable(file: string, what: string, err: unknown): ClipError {
	return ClipError.is(err) ? err : unreadable(file, what, (err as NodeJS.ErrnoException).code ?? String(err), err);
}

/**
 * A regular file's bytes, read once through one open file ([Note: confinement]): not a device, a
 * FIFO or a folder; never more than `maxBytes`; inside `within` when given.
 */
export async function readRegularFile(file: string, options: BoundedRead): Promise<Buffer> {
	const what = options.what ?? 'the file';
	const realRoot = options.within !== undefined ? await realOrResolved(options.within) : undefined;
	if (realRoot !== undefined) {
		const real = await fs.realpath(file).catch(() => undefined);
		if (real !== undefined && !isInside(realRoot, real)) {
			throw outsideFolder(file, path.resolve(options.within!), what.replace(/^the /, ''));
		}
	}
	// Refused from its type before it is opened: opening some devices has effects of its own.
	const before = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
		throw unreadable(file, what, err.code ?? String(err), err);
	});
	if (!before.isFile()) {
		throw unreadable(file, what, before.isDirectory() ? 'it is a folder' : 'it is not a regular file (a device, a pipe or a socket)');
	}
	let handle: fs.FileHandle;
	try {
		handle = await fs.open(file, OPEN_FLAGS);
	} catch (err) {
		throw unreadable(file, what, (err as NodeJS.ErrnoException).code ?? String(err), err);
	}
	try {
		const st = await handle.stat();
		if (!st.isFile() || st.ino !== before.ino || st.dev !== before.dev) {
			throw unreadable(file, what, 'it changed while it was opened');
		}
		if (realRoot !== undefined && process.platform === 'linux') {
			const opened = await fs.readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
			if (opened !== undefined && !isInside(realRoot, opened)) {
				throw outsideFolder(file, path.resolve(options.within!), what.replace(/^the /, ''));
			}
		}
		if (st.size > options.maxBytes && !options.head) {
			throw options.tooLarge?.(file, st.size) ?? new ClipError('LimitExceeded', `${file}: ${st.size} bytes, more than ${options.maxBytes} allowed for ${what}; it was not read.`, { file });
		}
		// The size comes from the open file; a file that grows meanwhile is read up to that size.
		const out = Buffer.allocUnsafe(Math.min(st.size, options.maxBytes));
		let at = 0;
		while (at < out.length) {
			const { bytesRead } = await handle.read(out, at, out.length - at, at);
			if (bytesRead === 0) {
				break;
			}
			at += bytesRead;
		}
		return at === out.length ? out : out.subarray(0, at);
	} catch (err) {
		throw asUnreadable(file, what, err);
	} finally {
		await handle.close().catch(() => undefined);
	}
}

/** Whether a read failed because the file is not there (ENOENT), as opposed to unreadable. */
export function isMissingFile(err: unknown): boolean {
	const cause = ClipError.is(err) ? (err as ClipError & { cause?: unknown }).cause : err;
	return (cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** A regular file's text (UTF-8, a byte-order mark dropped), read as readRegularFile reads. */
export async function readRegularText(file: string, options: BoundedRead): Promise<string> {
	return (await readRegularFile(file, options)).toString('utf8').replace(/^\uFEFF/, '');
}

/** readRegularText, or undefined when the file is not there. */
export async function readRegularTextIfExists(file: string, options: BoundedRead): Promise<string | undefined> {
	try {
		return await readRegularText(file, options);
	} catch (err) {
		if (isMissingFile(err)) {
			return undefined;
		}
		throw err;
	}
}

/**
 * Feeds a regular file's bytes to `sink` in chunks, up to the size its open file has (a file too big
 * to hold: a big image's hash, a model's digest), checked as readRegularFile checks: a FIFO or a
 * device is refused, never streamed forever.
 */
export async function streamRegularFile(file: string, sink: (chunk: Uint8Array) => void, what = 'the file'): Promise<void> {
	const handle = await openRegularFile(file, what);
	try {
		const { size } = await handle.stat();
		const chunk = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, size)));
		for (let at = 0; at < size; ) {
			const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - at), at);
			if (bytesRead === 0) {
				break;
			}
			sink(chunk.subarray(0, bytesRead));
			at += bytesRead;
		}
	} catch (err) {
		throw asUnreadable(file, what, err);
	} finally {
		await handle.close().catch(() => undefined);
	}
}

/** readRegularFile for the few callers that must stay synchronous (a client built in a constructor): no link check, same type and size checks. */
export function readRegularFileSync(file: string, options: Pick<BoundedRead, 'maxBytes' | 'what'>): Buffer {
	const what = options.what ?? 'the file';
	let fd: number;
	try {
		fd = openSync(file, OPEN_FLAGS);
	} catch (err) {
		throw unreadable(file, what, (err as NodeJS.ErrnoException).code ?? String(err), err);
	}
	try {
		const st = fstatSync(fd);
		if (!st.isFile()) {
			throw unreadable(file, what, st.isDirectory() ? 'it is a folder' : 'it is not a regular file (a device, a pipe or a socket)');
		}
		if (st.size > options.maxBytes) {
			throw new ClipError('LimitExceeded', `${file}: ${st.size} bytes, more than ${options.maxBytes} allowed for ${what}; it was not read.`, { file });
		}
		const out = Buffer.allocUnsafe(st.size);
		let at = 0;
		while (at < out.length) {
			const n = readSync(fd, out, at, out.length - at, at);
			if (n === 0) {
				break;
			}
			at += n;
		}
		return out.subarray(0, at);
	} finally {
		closeSync(fd);
	}
}

/** An open regular file to read from (a graph's header, a download to hash): a FIFO or a device is refused at once, never waited on. */
export async function openRegularFile(file: string, what = 'the file'): Promise<fs.FileHandle> {
	let handle: fs.FileHandle;
	try {
		handle = await fs.open(file, OPEN_FLAGS);
	} catch (err) {
		throw unreadable(file, what, (err as NodeJS.ErrnoException).code ?? String(err), err);
	}
	const st = await handle.stat().catch(() => undefined);
	if (!st?.isFile()) {
		await handle.close().catch(() => undefined);
		throw unreadable(file, what, st?.isDirectory() ? 'it is a folder' : 'it is not a regular file (a device, a pipe or a socket)');
	}
	return handle;
}
