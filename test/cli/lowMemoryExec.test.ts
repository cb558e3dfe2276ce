/**
 * `clip-search mcp` is one process (issue 38): it re-executes itself in place (process.execve) for
 * the allocator setting where Node has it, takes the setting from its client where it is set, and
 * never starts a second process.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type Execve, reexecWithLowMemoryEnv } from '../../src/cli/lowMemoryExec';
import { copyFixtureImages, tempDir } from '../helpers';
import { cli } from './runCli';

describe('one process for clip-search mcp', () => {
	const calls: { file: string; args: string[]; env: NodeJS.ProcessEnv }[] = [];
	const execve = ((file: string, args: string[], env: NodeJS.ProcessEnv) => void calls.push({ file, args, env })) as unknown as Execve;

	it('re-executes mcp in place with the allocator setting, once; other commands and a set variable are left alone', { skip: process.platform !== 'linux' && 'glibc only' }, () => {
		const argv = ['/usr/bin/node', '/x/dist/cli.js', 'mcp', '/project'];
		reexecWithLowMemoryEnv(argv, { PATH: '/bin' }, execve, '/usr/bin/node', ['--max-old-space-size=512']);
		assert.equal(calls.length, 1);
		assert.deepEqual(calls[0].args, ['/usr/bin/node', '--max-old-space-size=512', '/x/dist/cli.js', 'mcp', '/project']);
		assert.match(calls[0].env.GLIBC_TUNABLES!, /mmap_threshold/);
		assert.equal(calls[0].env.CLIP_SEARCH_NO_REEXEC, '1', 'the new image does not do it again');
		assert.equal(calls[0].env.PATH, '/bin');
		reexecWithLowMemoryEnv(['/usr/bin/node', '/x/dist/cli.js', 'index', '.'], {}, execve);
		reexecWithLowMemoryEnv(argv, { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' }, execve);
		reexecWithLowMemoryEnv(argv, { CLIP_SEARCH_NO_REEXEC: '1' }, execve);
		reexecWithLowMemoryEnv(argv, {}, undefined);
		assert.equal(calls.length, 1);
		const refusing = (() => {
			throw new Error('EPERM');
		}) as unknown as Execve;
		assert.doesNotThrow(() => reexecWithLowMemoryEnv(argv, {}, refusing), 'a refused execve goes on as it is');
	});

	it('the server answers from one process, with or without the variable from its client', { skip: (!existsSync(cli) && `needs ${cli}: run npm run build`) || (process.platform !== 'linux' && 'reads /proc') }, async () => {
		const root = await tempDir('clip-mcp-one-');
		await copyFixtureImages(root);
		for (const tunables of [undefined, 'glibc.malloc.mmap_threshold=131072']) {
			const env: Record<string, string> = { ...(process.env as Record<string, string>), CLIP_SEARCH_CACHE: await tempDir('clip-mcp-one-cache-') };
			delete env.GLIBC_TUNABLES;
			delete env.CLIP_SEARCH_NO_REEXEC;
			if (tunables) {
				env.GLIBC_TUNABLES = tunables;
			}
			const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'mcp'], cwd: root, env, stderr: 'pipe' });
			const client = new Client({ name: 'one-process', version: '1' });
			await client.connect(transport);
			try {
				assert.equal((await client.listTools()).tools.length, 9);
				const pid = transport.pid!;
				const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
				assert.equal(children, '', 'no second process');
				const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
				if (tunables || typeof (process as unknown as { execve?: unknown }).execve === 'function') {
					assert.ok(environ.some(e => e.startsWith('GLIBC_TUNABLES=')), 'the allocator setting is in force');
				}
			} finally {
				await client.close();
			}
		}
	});
});
