/** @file Runs the built CLI (dist/cli.js) for the CLI tests: exit code, stdout and stderr. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers';

const run = promisify(execFile);
export const cli = path.join(repoRoot, 'dist', 'cli.js');

export interface Ran {
	code: number;
	stdout: string;
	stderr: string;
}

/** `timeoutMs`: a hang guard (the run is killed and its code is null), not a timing measurement. */
export async function clip(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Ran> {
	try {
		const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 1 << 26, timeout: options.timeoutMs ?? 0 });
		return { code: 0, stdout, stderr };
	} catch (err) {
		const e = err as { code?: number; stdout?: string; stderr?: string };
		return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
	}
}
