/**
 * @file A real PostgreSQL with pgvector for the team-store tests, from npm alone: PGlite (Postgres
 * compiled to WASM, pgvector 0.8) behind pglite-socket's wire-protocol server on a free local port,
 * so the product's `pg` client talks to it exactly as to a server. Every connection shares one
 * session underneath, so no test measures concurrency on it. CLIP_SEARCH_TEST_PG_URL runs the same
 * tests against a native server instead (one whose database the tests may fill).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { repoRoot } from './helpers';
import { seeded } from './shapes';

export interface TestPostgres {
	url: string;
	native: boolean;
	stop(): Promise<void>;
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.listen(0, '127.0.0.1', () => {
			const port = (s.address() as { port: number }).port;
			s.close(() => resolve(port));
		});
		s.on('error', reject);
	});
}

export async function startPostgres(): Promise<TestPostgres> {
	if (process.env.CLIP_SEARCH_TEST_PG_URL) {
		return { url: process.env.CLIP_SEARCH_TEST_PG_URL, native: true, stop: async () => undefined };
	}
	const port = await freePort();
	const server = path.join(repoRoot, 'node_modules', '@electric-sql', 'pglite-socket', 'dist', 'scripts', 'server.js');
	const child: ChildProcess = spawn(process.execPath, [server, '-d', 'memory://', '-p', String(port), '-m', '8', '-e', '@electric-sql/pglite-pgvector:vector'], {
		cwd: repoRoot,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '';
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`pglite-server did not start in 60 s:\n${out}`)), 60_000);
		const onData = (d: Buffer): void => {
			out += d.toString();
			if (out.includes('listening on')) {
				clearTimeout(timer);
				resolve();
			}
		};
		child.stdout!.on('data', onData);
		child.stderr!.on('data', onData);
		child.on('exit', code => {
			clearTimeout(timer);
			reject(new Error(`pglite-server exited (${code}):\n${out}`));
		});
	});
	return {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		native: false,
		stop: async () => {
			child.kill('SIGTERM');
			await new Promise(resolve => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
		},
	};
}

/**
 * `n` unit vectors of `dim` components for the store tests, seeded: vector i leans on axis i mod dim,
 * with noise of ± spread / 2, keyed `${prefix}${seed}-${i}` (content hashes need only be distinct).
 */
export function leaningUnitVectors(n: number, dim: number, seed: number, spread: number, prefix: string): Map<string, Float32Array> {
	const rand = seeded(seed);
	const out = new Map<string, Float32Array>();
	for (let i = 0; i < n; i++) {
		const v = Float32Array.from({ length: dim }, (_, d) => (d === i % dim ? 1 : 0) + (rand() - 0.5) * spread);
		const norm = Math.hypot(...v);
		out.set(`${prefix}${seed}-${i}`, v.map(x => x / norm));
	}
	return out;
}
