/**
 * @file What every bench part shares: the command line (--quick, --runs, --model, --images), the
 * table of rows the runner prints, results.json's record, and small statistics.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { cacheHome } from '../src/core/common/paths';
import type { ModelSpec } from '../src/core/model/layouts/modelSpec';
import { type DecodedImage, decodeImage } from '../src/core/model/inputs/preprocess';

export const repo = path.resolve(__dirname, '..', '..');
export const args = process.argv.slice(2);
export const opt = (name: string): string | undefined => {
	const i = args.indexOf(`--${name}`);
	return i >= 0 ? args[i + 1] : undefined;
};
export const QUICK = args.includes('--quick');
export const RUNS = Number(opt('runs') ?? (QUICK ? 1 : 3));
export const benchCache = path.join(cacheHome(), 'bench');

export interface Row {
	figure: string;
	value: string;
	target?: string;
	pass?: boolean;
}
/** The printed table, in the order the parts add to it. */
export const rows: Row[] = [];
/** What bench/results.json records beside the rows. */
export const results: Record<string, unknown> = {};
export const say = (m: string): void => console.error(`[bench] ${m}`);

/** The CPU features int8 speed depends on (from /proc/cpuinfo; empty elsewhere): printed beside int8 figures. */
export function cpuFlags(): string {
	let flags: string[] = [];
	try {
		flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
	} catch {
		return 'flags unknown';
	}
	const has = (f: string): boolean => flags.includes(f);
	const named = [has('avx2') && 'AVX2', has('avx512f') && 'AVX-512', has('avx512_vnni') && 'AVX-512 VNNI', has('avx_vnni') && 'AVX-VNNI'].filter(Boolean);
	return `${named.join(', ') || 'no AVX2'}${has('avx512_vnni') || has('avx_vnni') ? '' : ', no VNNI'}`;
}
export const median = (xs: number[]): number => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const pct = (xs: number[], p: number): number => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
	const t = performance.now();
	const value = await fn();
	return { ms: performance.now() - t, value };
}

export async function decodeAll(files: string[], spec: ModelSpec, concurrency = 4): Promise<DecodedImage[]> {
	const out: DecodedImage[] = [];
	let next = 0;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < files.length) {
				const f = files[next++];
				try {
					out.push(await decodeImage(f, await fs.readFile(f), spec.preprocess));
				} catch {
					// counted by the end-to-end figure
				}
			}
		}),
	);
	return out;
}
