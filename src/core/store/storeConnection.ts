/**
 * @file Connecting to a team store: the options, the client for the parsed address (its password
 * looked up for that host, TLS as the URL and the CA file say), and one line for any failure.
 */
import * as os from 'node:os';
import pg from 'pg';
import { readRegularFileSync } from '../common/confine';
import { ClipError, describeError } from '../common/errors';
import type { StoreAddress } from './storeUrl';

export interface StoreOptions {
	url: string;
	/** From SecretStorage; else PGPASSWORD or ~/.pgpass. Never from the URL. */
	password?: string;
	/** A CA certificate file for TLS with a managed server (sslmode=verify-full in the URL too). */
	caFile?: string;
	/** Push what the store lacks (needs INSERT). */
	push?: boolean;
	/** Also publish the files of this library (mode 2). */
	library?: string;
	log?: (message: string) => void;
	/** Where the setting or option came from, for errors. */
	where?: string;
	connectTimeoutMs?: number;
}

/** One line for a failure, never a stack trace: unreachable, credentials, TLS, privileges. */
export function describeStoreError(err: unknown, addr: Pick<StoreAddress, 'label' | 'host' | 'port' | 'user'>): string {
	const e = err as { code?: string; message?: string };
	const code = e.code ?? '';
	if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE'].includes(code) || /timeout|Connection terminated|ended unexpectedly/i.test(e.message ?? '')) {
		return `cannot reach the team store at ${addr.host}:${addr.port} (${code || describeError(err)})`;
	}
	if (/client password must be a non-empty string/.test(e.message ?? '')) {
		// The server asked for a password (SCRAM) and none was found for this user and host.
		return `the team store asks user "${addr.user}" for a password and none is set: set PGPASSWORD or a ~/.pgpass line for ${addr.host}, or the password saved with CLIP: Set Team Store Password…`;
	}
	if (code === '28P01' || code === '28000') {
		return `the team store refused user "${addr.user}" (${describeError(err)}): check PGPASSWORD, ~/.pgpass, or the password saved with CLIP: Set Team Store Password…`;
	}
	if (/CERT|SSL|TLS|self.signed|certificate/i.test(`${code} ${e.message ?? ''}`)) {
		return `TLS with the team store at ${addr.host} failed (${describeError(err)}): give its CA certificate (--store-ca / clipSearch.storeCaFile) or check sslmode in the URL`;
	}
	if (code === '42501') {
		return `the team store's role "${addr.user}" may not do this (${describeError(err)}): pulling needs SELECT on schema clip_search, pushing INSERT (and CREATE the first time)`;
	}
	return `the team store at ${addr.label} failed: ${describeError(err)}`;
}

/** The password: SecretStorage's (given), else PGPASSWORD, else ~/.pgpass (or PGPASSFILE), read as libpq does. */
async function storePassword(options: Pick<StoreOptions, 'password'>, addr: StoreAddress): Promise<string | undefined> {
	if (options.password) {
		return options.password;
	}
	if (process.env.PGPASSWORD) {
		return process.env.PGPASSWORD;
	}
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const pgpass = require('pgpass') as (conn: Record<string, unknown>, cb: (pass?: string) => void) => void;
	return new Promise(resolve => pgpass({ host: addr.host, port: addr.port, database: addr.database, user: addr.user }, pass => resolve(pass ?? undefined)));
}

/** A CA bundle: a few KB; the system's whole bundle is about 200 KB. */
const MAX_CA_FILE_BYTES = 4 * 1024 * 1024;

/**
 * A client for the address as parsed ([Note: one address] in storeUrl.ts): host, port, database and
 * user from it, never from the string again (the driver would let a query parameter override them,
 * and the empty password it parses would replace the password function); the password looked up for
 * that same host; TLS as sslmode and the CA file say.
 */
export function newClient(options: StoreOptions, addr: StoreAddress): pg.Client {
	let ca: string | undefined;
	if (options.caFile) {
		try {
			ca = readRegularFileSync(options.caFile, { maxBytes: MAX_CA_FILE_BYTES, what: 'the CA certificate' }).toString('utf8');
		} catch (err) {
			throw new ClipError('InvalidArgument', `The team store's CA certificate ${options.caFile} cannot be read (${describeError(err)}): give a PEM file (--store-ca, clipSearch.storeCaFile).`, { file: options.caFile });
		}
	}
	const ssl = addr.tls === 'no-verify' ? { rejectUnauthorized: false } : addr.tls === 'verify' || ca ? { rejectUnauthorized: true, ...(ca ? { ca } : {}) } : undefined;
	const client = new pg.Client({
		host: addr.host,
		port: addr.port,
		database: addr.database,
		user: addr.user,
		password: async () => (await storePassword(options, addr)) ?? '',
		...(ssl ? { ssl } : {}),
		connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
		application_name: `clip-search ${os.hostname()}`,
	});
	client.on('error', () => undefined); // a dropped connection fails the query in flight; that is where it is reported
	return client;
}
