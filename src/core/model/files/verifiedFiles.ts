/**
 * @file Derived files (int8 and batched twins) checked against their source once a process: a file
 * checked byte for byte is trusted again, in this process, while its identity is unchanged (device,
 * inode, size, modification and change times: the change time cannot be set back by a program, so
 * a file rewritten or replaced since is checked again). Nothing is kept on disk: a record there could
 * be planted with the file ([Note: derived files] in int8Twin.ts).
 */
import { promises as fs, type Stats } from 'node:fs';

const checked = new Map<string, string>();

const identity = (s: Stats): string => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;

/** True when `file` was checked in this process and has not changed since. */
export async function stillVerified(file: string): Promise<boolean> {
	const known = checked.get(file);
	if (!known) {
		return false;
	}
	const now = await fs.stat(file).catch(() => undefined);
	return now !== undefined && identity(now) === known;
}

/** Records that `file`, as it is now, was checked against its source. */
export async function markVerified(file: string): Promise<void> {
	const now = await fs.stat(file).catch(() => undefined);
	if (now) {
		checked.set(file, identity(now));
	}
}

/** Forgets every check (as a new process would: the bench measures that). */
export function forgetVerified(): void {
	checked.clear();
}
