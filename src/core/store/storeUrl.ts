/**
 * @file A team store's address: a postgres:// URL, read with the driver's own parser
 * (pg-connection-string), shown as scheme, user, host, port and database only, and the rule that a
 * password never travels in it (settings files are committed and logged): it comes from PGPASSWORD,
 * ~/.pgpass, or VS Code's SecretStorage.
 *
 * [Note: one address] The host a password is looked up for, saved under, shown and sent to must be
 * the host the client connects to. The driver lets query parameters override the URL's authority
 * (`?host=127.0.0.1` connected there while every message and ~/.pgpass named the authority's host),
 * read files (`sslrootcert=…`) and carry a password (`?password=…`). So the address is parsed once,
 * here, with the driver's parser; only sslmode, connect_timeout and application_name are taken from
 * the query, and `host` only where the authority names none (a Unix socket folder); everything else
 * is refused, naming the parameter. The client is configured from this address, never from the string.
 */
import { parse as parseConnectionString } from 'pg-connection-string';
import { ClipError } from '../common/errors';

export interface StoreAddress {
	url: string;
	/** The address as it may be shown and logged: scheme, user, host, port and database. */
	label: string;
	host: string;
	port: number;
	database: string;
	user: string;
	/** TLS as sslmode asks: off, on with verification, or on without it ('no-verify'). */
	tls: 'off' | 'verify' | 'no-verify';
}

const ALLOWED_PARAMS = new Set(['sslmode', 'connect_timeout', 'application_name', 'host']);
const SSL_MODES: Record<string, StoreAddress['tls']> = { disable: 'off', allow: 'off', prefer: 'verify', require: 'verify', 'verify-ca': 'verify', 'verify-full': 'verify', 'no-verify': 'no-verify' };

/** scheme://user@host:port/database: nothing else of a URL is ever shown (no password, no query). */
export function maskUrl(url: string): string {
	try {
		const u = new URL(url);
		const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
		return `${u.protocol}//${user}${u.hostname}${u.port ? `:${u.port}` : ''}${decodeURIComponent(u.pathname)}`;
	} catch {
		return /^[a-z]+:\/\//i.test(url) ? `${url.slice(0, url.indexOf('://') + 3)}…` : 'the store URL';
	}
}

/** Parses and checks a store URL (postgres:// or postgresql://, no password, no overrides: [Note: one address]). */
export function parseStoreUrl(url: string, where = '--store'): StoreAddress {
	let u: URL;
	try {
		u = new URL(url);
	} catch {
		throw new ClipError('InvalidArgument', `${where}: ${maskUrl(url)} is not a URL. Give postgres://user@host:5432/database (sslmode=… as a query parameter).`);
	}
	if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
		throw new ClipError('InvalidArgument', `${where}: ${maskUrl(url)} is not a postgres:// URL.`);
	}
	const passwordAdvice = `Remove it and set PGPASSWORD or a ~/.pgpass line${where.startsWith('clipSearch') ? ', or run CLIP: Set Team Store Password…' : ''}.`;
	if (u.password || u.searchParams.has('password')) {
		throw new ClipError('InvalidArgument', `${where}: the URL holds a password, which would end up in settings, shell history and logs (${maskUrl(url)}). ${passwordAdvice}`);
	}
	for (const key of u.searchParams.keys()) {
		if (!ALLOWED_PARAMS.has(key)) {
			const why = /^ssl(cert|key|rootcert|password)$/.test(key) ? 'give a CA certificate with --store-ca or clipSearch.storeCaFile instead' : 'only sslmode, connect_timeout and application_name are taken';
			throw new ClipError('InvalidArgument', `${where}: the URL's parameter "${key}" is not taken (${why}): ${maskUrl(url)}.`);
		}
	}
	if (u.searchParams.getAll('host').length > (u.hostname ? 0 : 1)) {
		throw new ClipError(
			'InvalidArgument',
			`${where}: the URL names its host twice (${u.hostname} and host=${u.searchParams.get('host')}): a password for one must never be sent to the other. Put the server's host in the URL itself: ${maskUrl(url)}.`,
		);
	}
	const sslmode = u.searchParams.get('sslmode') ?? undefined;
	if (sslmode !== undefined && !(sslmode in SSL_MODES)) {
		throw new ClipError('InvalidArgument', `${where}: sslmode=${sslmode} is not one of ${Object.keys(SSL_MODES).join(', ')}.`);
	}
	// The driver's own reading, so that what we check is what it would have used.
	const parsed = parseConnectionString(url);
	if (parsed.password) {
		throw new ClipError('InvalidArgument', `${where}: the URL holds a password (${maskUrl(url)}). ${passwordAdvice}`);
	}
	const host = parsed.host || 'localhost';
	const port = Number(parsed.port) || 5432;
	const database = parsed.database || 'postgres';
	const user = parsed.user || process.env.PGUSER || 'postgres';
	return {
		url,
		label: `${u.protocol}//${user}@${host.startsWith('/') ? `[${host}]` : host}:${port}/${database}`,
		host,
		port,
		database,
		user,
		tls: sslmode ? SSL_MODES[sslmode] : 'off',
	};
}
