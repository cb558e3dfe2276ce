import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideStore, storeSecretKey } from '../../../src/core/store/storeChoice';

describe('which team store the editor uses', () => {
	const url = 'postgres://dev@db.example:6543/assets?sslmode=verify-full';

	it('local (the default, or "local") needs nothing', () => {
		assert.deepEqual(decideStore(undefined, 'default', new Set()), { kind: 'local' });
		assert.deepEqual(decideStore(' local ', 'user', new Set()), { kind: 'local' });
	});

	it("the person's own setting is used; a workspace's is asked about once, then remembered either way", () => {
		assert.equal(decideStore(url, 'user', new Set()).kind, 'use');
		assert.deepEqual(decideStore(url, 'workspace', new Set()), { kind: 'ask', url, label: 'postgres://dev@db.example:6543/assets' }, 'shown as scheme, user, host, port, database');
		assert.equal(decideStore(url, 'workspace', new Set([url])).kind, 'use');
		assert.deepEqual(decideStore(url, 'workspace', new Set(), new Set([url])), { kind: 'local' }, 'a "no" keeps it local');
		assert.equal(decideStore('postgres://dev@evil.example/assets', 'workspace', new Set([url])).kind, 'ask', 'approval is per address');
	});

	it('a URL with a password, or not a postgres URL, is refused with a message that never shows the password', () => {
		const withPassword = decideStore('postgres://dev:hunter2@db.example/assets', 'user', new Set());
		assert.equal(withPassword.kind, 'invalid');
		assert.match((withPassword as { message: string }).message, /clipSearch\.store: the URL holds a password.*CLIP: Set Team Store Password…/);
		assert.doesNotMatch((withPassword as { message: string }).message, /hunter2/);
		assert.equal(decideStore('https://db.example', 'user', new Set()).kind, 'invalid');
	});

	it('a password is kept per user, host, port and database (not per query parameters)', () => {
		assert.equal(storeSecretKey(url), 'clipSearch.store.password:dev@db.example:6543/assets');
		assert.equal(storeSecretKey('postgres://dev@db.example:6543/assets'), storeSecretKey(url));
		assert.notEqual(storeSecretKey('postgres://ci@db.example:6543/assets'), storeSecretKey(url));
	});
});
