/**
 * @file Whether a path exists in a folder, letter case included, from the folders' own listings.
 *
 * [Note: case on every disk] `Logo.PNG` for `logo.png` opens on macOS and Windows and breaks on
 * Linux, in a browser served from Linux and in git. A `stat` says yes on a case-insensitive disk, so
 * each segment is looked up in its parent's listing: an exact name, or a name that differs only in
 * case (reported as such, with the real path), or none. Listings are read once and forgotten for
 * the folders a change touched.
 */
import type { Dirent } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

interface Listing {
	names: Map<string, Dirent>;
	lower: Map<string, string>;
}

export type Found = { exact: true } | { exact: false; real: string } | undefined;

export class FolderListing {
	private readonly listings = new Map<string, Promise<Listing | undefined>>();
	/** Answers of find(), kept until a change touches their folder (forget): most questions are asked again unchanged. */
	private readonly finds = new Map<string, Found>();
	/** Raised by every forget and clear: an answer looked up before one is not kept after it. */
	private generation = 0;

	constructor(readonly root: string) {}

	private listing(dir: string): Promise<Listing | undefined> {
		let known = this.listings.get(dir);
		if (!known) {
			known = fs.readdir(path.join(this.root, ...dir.split('/').filter(Boolean)), { withFileTypes: true }).then(
				entries => {
					const names = new Map(entries.map(e => [e.name, e]));
					const lower = new Map<string, string>();
					for (const e of entries) {
						if (!lower.has(e.name.toLowerCase())) {
							lower.set(e.name.toLowerCase(), e.name);
						}
					}
					return { names, lower };
				},
				() => undefined,
			);
			this.listings.set(dir, known);
		}
		return known;
	}

	/** find()'s answer when it is known, without waiting ('unknown' when it must be looked up). */
	known(rel: string): Found | 'unknown' {
		return this.finds.has(rel) ? this.finds.get(rel) : 'unknown';
	}

	/** Whether `rel` is a file of the folder: exactly, only in another case (with its real path), or not at all. */
	async find(rel: string): Promise<Found> {
		if (this.finds.has(rel)) {
			return this.finds.get(rel);
		}
		const generation = this.generation;
		const found = await this.lookUp(rel);
		if (generation === this.generation) {
			this.finds.set(rel, found);
		}
		return found;
	}

	private async lookUp(rel: string): Promise<Found> {
		const parts = rel.split('/').filter(Boolean);
		if (!parts.length) {
			return undefined;
		}
		let dir = '';
		let exact = true;
		for (const [i, part] of parts.entries()) {
			const listing = await this.listing(dir);
			if (!listing) {
				return undefined;
			}
			let name = part;
			let entry = listing.names.get(part);
			if (!entry) {
				const real = listing.lower.get(part.toLowerCase());
				if (real === undefined) {
					return undefined;
				}
				exact = false;
				name = real;
				entry = listing.names.get(real)!;
			}
			const last = i === parts.length - 1;
			if (!last && !entry.isDirectory()) {
				return undefined;
			}
			if (last && entry.isDirectory()) {
				return undefined;
			}
			dir = dir ? `${dir}/${name}` : name;
		}
		return exact ? { exact: true } : { exact: false, real: dir };
	}

	/**
	 * Forgets the listings of the folders that hold `rels` (and of the paths themselves, for folders),
	 * and the answers under the folder each changed in (compared without case: a wrong-case answer
	 * names the real path).
	 */
	forget(rels: Iterable<string>): void {
		this.generation++;
		const prefixes: string[] = [];
		for (const rel of rels) {
			const parent = path.posix.dirname(rel);
			prefixes.push(parent === '.' ? '' : `${parent.toLowerCase()}/`);
			this.listings.delete(rel);
			let dir = path.posix.dirname(rel);
			for (;;) {
				this.listings.delete(dir === '.' ? '' : dir);
				if (dir === '.' || dir === '' || dir === '/') {
					break;
				}
				dir = path.posix.dirname(dir);
			}
		}
		if (prefixes.includes('')) {
			this.finds.clear();
			return;
		}
		for (const key of [...this.finds.keys()]) {
			const lower = key.toLowerCase();
			if (prefixes.some(p => lower.startsWith(p))) {
				this.finds.delete(key);
			}
		}
	}

	/** Forgets every listing. */
	clear(): void {
		this.generation++;
		this.listings.clear();
		this.finds.clear();
	}
}
