/** @file Shared paths and helpers for the tests (compiled to out/test/, run by node --test). */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root (tests run from out/test/...). */
export const repoRoot = path.resolve(__dirname, existsSync(path.resolve(__dirname, '../../package.json')) ? '../..' : '../../..');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');
export const tinyModelDir = path.join(fixturesDir, 'tiny-clip');
export const fixtureImagesDir = path.join(fixturesDir, 'images');
/** ../shared beside the checkout (CI has it); tests that need it say so when they skip. */
export const sharedDir = path.resolve(repoRoot, '..', 'shared');

export const COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
export const SHAPES = ['circle', 'square', 'triangle', 'star', 'cross'];

export async function tempDir(prefix = 'clip-test-'): Promise<string> {
	return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Copies the fixture images (top level and copies/) into a fresh folder. */
export async function copyFixtureImages(dest: string): Promise<void> {
	await fs.cp(fixtureImagesDir, dest, { recursive: true });
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
	let d = 0;
	let na = 0;
	let nb = 0;
	for (let i = 0; i < a.length; i++) {
		d += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	return d / Math.sqrt(na * nb);
}
