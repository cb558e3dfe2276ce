/**
 * @file Crash-safe file writes: write a temporary sibling, fsync it, then rename over the target.
 * A reader (or a process that starts after a crash) sees either the old file or the new one.
 *
 * [Note: replacing a person's file] A file a person keeps (a tags file, a classes file) may be a
 * symbolic link, or read-only on purpose. The write goes through the link to its target (the link
 * stays a link, its target is updated), keeps the file's mode, and refuses a read-only file rather
 * than replacing it with a writable one. The temporary file is removed whatever fails (a full disk
 * leaves nothing behind).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { confinePath } from './confine';
import { ClipError, describeError } from './errors';

export function tempSibling(file: string): string {
	return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** The file a write to `file` should replace: `file` itself, or what its symbolic link(s) point to. */
async function writeTarget(file: string): Promise<string> {
	let target = path.resolve(file);
	for (let hops = 0; hops < 40; hops++) {
		const st = await fs.lstat(target).catch(() => undefined);
		if (!st?.isSymbolicLink()) {
			return target;
		}
		target = path.resolve(path.dirname(target), await fs.readlink(target));
	}
	throw new ClipError('InvalidArgument', `${file}: too many levels of symbolic links.`, { file });
}

function failure(file: string, err: unknown): Error {
	const code = (err as NodeJS.ErrnoException).code;
	if (code === 'ENOSPC' || code === 'EDQUOT') {
		return new ClipError('NoSpace', `No space left on the disk to write ${file}: it was not changed. Free some space and try again.`, { file, cause: err });
	}
	if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
		return new ClipError('ReadOnly', `Cannot write ${file} (${code}): it was not changed.`, { file, cause: err });
	}
	return ClipError.is(err) ? err : new ClipError('FileUnreadable', `Cannot write ${file}: ${describeError(err)}. It was not changed.`, { file, cause: err });
}

/**
 * Writes `file` atomically. With `within`, the file (through its links) and its folder must stay
 * inside that folder ([Note: confinement] in confine.ts): a tags file is never written through
 * `.vscode -> /outside`. The folder is created when missing (inside `within` only).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[], options: { within?: string } = {}): Promise<void> {
	if (options.within !== undefined) {
		await confinePath(options.within, file, 'file');
	}
	const target = await writeTarget(file);
	if (options.within !== undefined) {
		await confinePath(options.within, target, 'file');
		await fs.mkdir(path.dirname(target), { recursive: true });
	}
	let existing: Stats | undefined;
	try {
		existing = await fs.stat(target);
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw failure(file, err);
		}
	}
	if (existing && !existing.isFile()) {
		throw new ClipError('WouldOverwrite', `${file} is not a regular file: it was not replaced.`, { file });
	}
	// Checked on the mode bits, not by trying: root may write anything, and a person's 0444 still means "keep".
	if (existing && (existing.mode & 0o222) === 0) {
		throw new ClipError('ReadOnly', `${file} is read-only: it was not changed. Make it writable (chmod u+w) to let it be updated, or choose another file.`, { file });
	}
	const mode = existing ? existing.mode & 0o7777 : 0o666;
	const tmp = tempSibling(target);
	let handle: fs.FileHandle | undefined;
	try {
		handle = await fs.open(tmp, 'wx', mode);
		if (Array.isArray(data)) {
			// A file given in parts (a large model with a few fields replaced): written in turn, never joined.
			for (const part of data as readonly Uint8Array[]) {
				for (let at = 0; at < part.length; ) {
					at += (await handle.write(part, at, part.length - at)).bytesWritten;
				}
			}
		} else {
			await handle.writeFile(data as string | Uint8Array);
		}
		if (existing) {
			await handle.chmod(mode); // the umask may have taken bits away
		}
		await handle.sync();
		await handle.close();
		handle = undefined;
		await fs.rename(tmp, target);
	} catch (err) {
		await handle?.close().catch(() => undefined);
		await fs.rm(tmp, { force: true }).catch(() => undefined);
		throw failure(file, err);
	}
}

/** Atomically moves a finished temporary file into place, after fsyncing it; the temporary file is removed on failure. */
export async function commitFile(tmp: string, file: string): Promise<void> {
	try {
		const handle = await fs.open(tmp, 'r+');
		try {
			await handle.sync();
		} finally {
			await handle.close();
		}
		await fs.rename(tmp, file);
	} catch (err) {
		await fs.rm(tmp, { force: true }).catch(() => undefined);
		throw failure(file, err);
	}
}
