/** @file Shared paths and helpers for the tests (compiled to out/test/, run by node --test). */
import { existsSync, mkdirSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
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

export { cosine } from '../src/core/common/vectors';

/**
 * A real GPU API without a GPU: onnxruntime-node's WebGPU (Dawn on Vulkan) on SwiftShader, the
 * software Vulkan driver in Debian's chromium package, through the system's Vulkan loader (libvulkan1).
 * Why it cannot run here, or undefined when it can.
 */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
export function swiftShaderMissing(): string | undefined {
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		return 'the WebGPU tests run on Linux x64 (SwiftShader from Debian\'s chromium)';
	}
	if (!existsSync(SWIFTSHADER_ICD)) {
		return `needs SwiftShader's Vulkan driver (${SWIFTSHADER_ICD}: apt-get install chromium; .ci/run installs it)`;
	}
	if (!['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/lib/x86_64-linux-gnu/libvulkan.so.1'].some(f => existsSync(f))) {
		return 'needs the Vulkan loader (apt-get install libvulkan1; .ci/run installs it)';
	}
	return undefined;
}

/**
 * tiny-rclip's merge file (`tokenizer/bpe_simple_vocab_16e6.txt.gz`): the header and first 2,000 of
 * OpenAI's merges, made here from ../shared/clip-tokenizer as tools/make_layout_models.py cuts them
 * (never committed: the tokenizer files stay in ../shared). Returns why a test must skip, or false.
 */
export function ensureRclipMerges(): string | false {
	const dest = path.join(fixturesDir, 'tiny-rclip', 'tokenizer', 'bpe_simple_vocab_16e6.txt.gz');
	if (existsSync(dest)) {
		return false;
	}
	const source = path.join(sharedDir, 'clip-tokenizer', 'bpe_simple_vocab_16e6.txt.gz');
	if (!existsSync(source)) {
		return `needs ../shared/clip-tokenizer (OpenAI's merges, cut for the tiny rclip fixture), not found at ${source}`;
	}
	const lines = gunzipSync(readFileSync(source)).toString('utf8').split('\n');
	mkdirSync(path.dirname(dest), { recursive: true });
	writeFileSync(dest, gzipSync(Buffer.from(lines.slice(0, 2001).join('\n'), 'utf8')));
	return false;
}

/** Fails when `p` takes longer than `ms`: a hang guard, not a timing measurement. */
export async function withinMs<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
	} finally {
		clearTimeout(timer);
	}
}
