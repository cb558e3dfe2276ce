/**
 * @file One process for `clip-search mcp`, with the allocator setting that lets released models
 * give their memory back.
 *
 * [Note: giving memory back] in core/model/runtime/idleRelease.ts: `mcp`, which holds models for
 * hours, should run with lowMemoryEnv()'s setting, which glibc reads only at start. Where the MCP
 * client set it (the extension's MCP definition and the README's configurations do), nothing more
 * is needed; else, on a Node with process.execve (22.15, 23.11 and later), the process replaces
 * itself with the same command and the setting (the same PID: the client still sees one process);
 * else it runs as it is, and released models give back less memory. No second process either way.
 * (`index` never re-executes: a kill must stop the writer at once, which the crash tests rely on.)
 */
import { lowMemoryEnv } from '../core/model/runtime/idleRelease';

export type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Re-executes `argv` (process.argv) with the setting when it is `mcp` and the setting is missing; returns only when it did not. */
export function reexecWithLowMemoryEnv(argv: readonly string[], env: NodeJS.ProcessEnv, execve: Execve | undefined, execPath = process.execPath, execArgv = process.execArgv): void {
	const wanted = lowMemoryEnv(env);
	if (argv[2] !== 'mcp' || wanted === env || env.CLIP_SEARCH_NO_REEXEC || typeof execve !== 'function') {
		return;
	}
	try {
		execve(execPath, [execPath, ...execArgv, ...argv.slice(1)], { ...wanted, CLIP_SEARCH_NO_REEXEC: '1' });
	} catch {
		// Not allowed here (a sandbox, Node's permission model): go on in this process as it is.
	}
}
