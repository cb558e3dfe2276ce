/**
 * @file A team store's address: a postgres:// URL, printed with any password masked, and the rule
 * that a password never travels in it (settings files are committed and logged): it comes from
 * PGPASSWORD, ~/.pgpass, or VS Code's SecretStorage.
 */
import { ClipError } from '../common/errors';

export interface StoreAddress {
	url: string;
	/** The URL as it may be shown and logged. */
	label: string;
	host: string;
	port: number;
	database: string;
	user: string;
}

/** The URL with its password replaced by ***. */
export function maskUrl(url: string): string {
	try {
		const u = new URL(url);
		if (u.password) {
			u.password = '***';
		}
		return u.toString();
	} catch {
		return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
	}
}

/** Parses and checks a store URL (postgres:// or postgresql://, no password in it). */
export function parseStoreUrl(url: string, where = '--store'): StoreAddress {
	let u: URL;
	try {
		u = new URL(url);
	} catch {
		throw new ClipError('InvalidArgument', `${where}: "${maskUrl(url)}" is not a URL. Give postgres://user@host:5432/database (sslmode=… as a query parameter).`);
	}
	if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
		throw new ClipError('InvalidArgument', `${where}: ${maskUrl(url)} is not a postgres:// URL.`);
	}
	if (u.password) {
		throw new ClipError(
			'InvalidArgument',
			`${where}: the URL holds a password, which would end up in settings, shell history and logs (${maskUrl(url)}). Remove it and set PGPASSWORD or a ~/.pgpass line${where.startsWith('clipSearch') ? ', or run CLIP: Set Team Store Password…' : ''}.`,
		);
	}
	return {
		url,
		label: maskUrl(url),
		host: u.hostname || 'localhost',
		port: Number(u.port) || 5432,
		database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
		user: decodeURIComponent(u.username) || process.env.PGUSER || 'postgres',
	};
}
