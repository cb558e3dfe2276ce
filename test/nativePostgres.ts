/**
 * @file A native PostgreSQL (Debian's `postgresql` package: 15, no pgvector) for what PGlite cannot
 * test: password authentication with scram-sha-256. A throwaway cluster in a temporary folder, on a
 * free port of 127.0.0.1, owned by the `postgres` user (the server refuses to run as root); local
 * socket connections trust the superuser (to create the roles), TCP asks every role for a password.
 * .ci/run installs the package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface NativePostgres {
	port: number;
	/** Runs SQL as the superuser over the cluster's socket. */
	psql(sql: string): string;
	stop(): Promise<void>;
}

function binDir(): string | undefined {
	const base = '/usr/lib/postgresql';
	if (!existsSync(base)) {
		return undefined;
	}
	const version = readdirSync(base).filter(v => existsSync(path.join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))[0];
	return version ? path.join(base, version, 'bin') : undefined;
}

/** Why a native server cannot be started here, or undefined when it can. */
export function nativePostgresMissing(): string | undefined {
	if (process.platform !== 'linux') {
		return 'a native PostgreSQL is started on Linux only';
	}
	if (!binDir()) {
		return "needs Debian's postgresql package (apt-get install postgresql; .ci/run installs it)";
	}
	if (process.getuid?.() !== 0) {
		return 'starts the server as the postgres user, which needs root (CI runs as root)';
	}
	return undefined;
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

export async function startNativePostgres(): Promise<NativePostgres> {
	const bin = binDir()!;
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-native-pg-'));
	await fs.chmod(dir, 0o755);
	const data = path.join(dir, 'data');
	await fs.mkdir(data);
	execFileSync('chown', ['-R', 'postgres:postgres', dir]);
	const as = (cmd: string, args: string[]): string => execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { encoding: 'utf8', cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
	as('initdb', ['-D', data, '--auth-local=trust', '--auth-host=scram-sha-256', '-U', 'postgres']);
	const port = await freePort();
	as('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
	return {
		port,
		psql: sql => as('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atc', sql]),
		stop: async () => {
			try {
				as('pg_ctl', ['-D', data, '-w', '-m', 'immediate', 'stop']);
			} finally {
				await fs.rm(dir, { recursive: true, force: true });
			}
		},
	};
}
