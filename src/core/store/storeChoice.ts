/**
 * @file Which team store the editor uses, decided from where the setting came from: the person's own
 * settings are used as they are; a store named by a workspace's settings (a cloned repository's
 * .vscode/settings.json) is used only once the person has said yes to that address, because using it
 * sends the hashes and paths of their images to that server. Also the key a store's password is kept
 * under in SecretStorage: the address without the password (user, host, port, database).
 */
import { describeError } from '../common/errors';
import { parseStoreUrl } from './storeUrl';

/** Where the effective value of the store setting came from. */
export type StoreSettingSource = 'default' | 'user' | 'workspace';

export type StoreDecision =
	| { kind: 'local' }
	| { kind: 'use'; url: string; label: string; secretKey: string }
	/** A workspace names a store the person has not approved: ask once (its label is what to show). */
	| { kind: 'ask'; url: string; label: string }
	| { kind: 'invalid'; message: string };

/** SecretStorage's key for the password of the store at `url`. */
export function storeSecretKey(url: string): string {
	const a = parseStoreUrl(url, 'clipSearch.store');
	return `clipSearch.store.password:${a.user}@${a.host}:${a.port}/${a.database}`;
}

/** `approved` and `declined`: the store URLs the person said yes (kept) or no (this session) to. */
export function decideStore(value: string | undefined, source: StoreSettingSource, approved: ReadonlySet<string>, declined: ReadonlySet<string> = new Set()): StoreDecision {
	const url = (value ?? '').trim();
	if (!url || url === 'local') {
		return { kind: 'local' };
	}
	let label: string;
	try {
		label = parseStoreUrl(url, 'clipSearch.store').label;
	} catch (err) {
		return { kind: 'invalid', message: describeError(err) };
	}
	if (source === 'workspace' && !approved.has(url)) {
		return declined.has(url) ? { kind: 'local' } : { kind: 'ask', url, label };
	}
	return { kind: 'use', url, label, secretKey: storeSecretKey(url) };
}
