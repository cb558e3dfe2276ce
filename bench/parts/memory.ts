/**
 * @file Bench part `memory`: what the product holds ([Note: light in the background] in
 * src/core/model/runtime/idleRelease.ts), as resident memory (RSS) of whole processes with the real-size
 * ViT-B/32 (random weights) over the 300-image photo corpus: the peak of `clip-search index` (int8,
 * fp32), the peak of a search-only process, and a long-running `clip-search mcp` (the extension's
 * worker runs the same core in the same kind of process) after a text search, after an image needed
 * the vision tower, after the idle time let the towers go, and how long the next search takes then.
 */
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import sharp from 'sharp';
import type { ModelVariant } from '../../src/core/model/layouts/modelSpec';
import { lowMemoryEnv } from '../../src/core/model/runtime/idleRelease';
import { repo, results, rows, say } from '../common';

const cli = path.join(repo, 'dist', 'cli.js');
const MB = (kb: number): number => kb / 1024;

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
	try {
		return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
	} catch {
		return NaN;
	}
}

/** A process and every process below it (the whole tree an MCP client starts). */
function processTree(pid: number): number[] {
	const out = [pid];
	for (let i = 0; i < out.length; i++) {
		try {
			const children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
			out.push(...children);
		} catch {
			// gone
		}
	}
	return out;
}

/** Runs a CLI command to the end, sampling its peak resident memory (VmHWM) until it exits. */
async function peakOf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ mb: number; stdout: string; seconds: number }> {
	const started = performance.now();
	const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	child.stdout.on('data', d => (stdout += d));
	let peak = 0;
	const timer = setInterval(() => (peak = Math.max(peak, statusKb(child.pid!, 'VmHWM') || 0)), 50);
	await new Promise(resolve => child.on('exit', resolve));
	clearInterval(timer);
	return { mb: MB(peak), stdout, seconds: (performance.now() - started) / 1000 };
}

export async function figureMemory(modelDir: string, imagesDir: string): Promise<void> {
	if (process.platform !== 'linux') {
		rows.push({ figure: 'memory', value: 'measured from /proc: Linux only' });
		return;
	}
	const work = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-bench-memory-'));
	const images = path.join(work, 'images');
	await fs.cp(imagesDir, images, { recursive: true });
	const mem: Record<string, number> = {};
	try {
		// 1. Indexing peaks, int8 (the extension's default) and fp32.
		for (const variant of ['quantized', 'fp32'] as ModelVariant[]) {
			const index = path.join(work, `index-${variant}`);
			const r = await peakOf(['index', images, '--model', modelDir, '--variant', variant, '--index', index, '--provider', 'cpu', '--json']);
			const out = JSON.parse(r.stdout || '{}') as { embedded?: number };
			mem[`indexPeak_${variant}_MB`] = r.mb;
			rows.push({
				figure: `memory: peak RSS of clip-search index, ${variant === 'quantized' ? 'int8' : 'fp32'} (${out.embedded} images)`,
				value: `${r.mb.toFixed(0)} MB`,
				target: variant === 'quantized' ? '≤ 500 MB' : undefined,
				pass: variant === 'quantized' ? r.mb <= 500 : undefined,
			});
		}
		const index = path.join(work, 'index-quantized');
		// 2. A search-only process (the CLI): the text tower and the index, never the image tower.
		const search = await peakOf(['search', 'a photo of a mountain lake', '--index', index, '--provider', 'cpu', '--json']);
		mem.searchPeak_int8_MB = search.mb;
		rows.push({ figure: 'memory: peak RSS of clip-search search (int8)', value: `${search.mb.toFixed(0)} MB` });

		// 3. A long-running server: the extension's worker and `clip-search mcp` hold the same things.
		const idleS = 4;
		const fresh = path.join(images, 'not-indexed.png');
		await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3a7' } }).png().toFile(fresh);
		const transport = new StdioClientTransport({
			command: process.execPath,
			args: [cli, 'mcp', images, '--index', index, '--provider', 'cpu'],
			// As the extension's MCP definition and the README's configurations start it: the allocator setting from the client.
			env: { ...(lowMemoryEnv(process.env) as Record<string, string>), CLIP_SEARCH_IDLE_UNLOAD_S: String(idleS) },
			stderr: 'pipe',
		});
		let stderr = '';
		transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
		const client = new Client({ name: 'bench', version: '1' });
		await client.connect(transport);
		// Over the whole tree the client started (one process: src/cli/lowMemoryExec.ts).
		const tree = (): number[] => processTree(transport.pid!);
		const rss = (): number => MB(tree().reduce((kb, p) => kb + (statusKb(p, 'VmRSS') || 0), 0));
		const settle = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 1000));
		const waitFor = async (re: RegExp, seconds: number): Promise<boolean> => {
			for (let t = 0; t < seconds * 10; t++) {
				if (re.test(stderr)) {
					return true;
				}
				await new Promise(resolve => setTimeout(resolve, 100));
			}
			return false;
		};
		try {
			await client.callTool({ name: 'search_images', arguments: { query: 'a photo of a mountain lake' } });
			await settle();
			mem.afterTextSearch_MB = rss();
			mem.processes = tree().length;
			await client.callTool({ name: 'find_similar_images', arguments: { path: 'not-indexed.png' } });
			await settle();
			mem.withBothTowers_MB = rss();
			const visionGone = await waitFor(/released after \d+ s unused: .*vision/, idleS * 3 + 20);
			await settle();
			mem.afterVisionReleased_MB = rss();
			const textGone = await waitFor(/released after \d+ s unused: .*text/, idleS * 3 * 3 + 20);
			await settle();
			mem.afterAllReleased_MB = rss();
			const t = performance.now();
			await client.callTool({ name: 'search_images', arguments: { query: 'a red flower' } });
			mem.firstQueryAfterRelease_ms = performance.now() - t;
			say(`memory: released vision ${visionGone}, text ${textGone}`);
		} finally {
			await client.close();
		}
		rows.push(
			{
				figure: `memory: long-running server after one text search (int8; ${mem.processes} process${mem.processes === 1 ? '' : 'es'}, the whole tree)`,
				value: `${mem.afterTextSearch_MB.toFixed(0)} MB`,
				target: '≤ 250 MB',
				pass: mem.afterTextSearch_MB <= 250,
			},
			{ figure: 'memory: … after an image needed the vision tower', value: `${mem.withBothTowers_MB.toFixed(0)} MB` },
			{
				figure: `memory: … after ${idleS} s idle (vision tower released)`,
				value: `${mem.afterVisionReleased_MB.toFixed(0)} MB (${(mem.afterVisionReleased_MB - mem.afterTextSearch_MB).toFixed(0)} MB above the text-search figure)`,
				target: 'within 60 MB of it',
				pass: mem.afterVisionReleased_MB - mem.afterTextSearch_MB <= 60,
			},
			{ figure: `memory: … after ${idleS * 3} s idle (text tower released too)`, value: `${mem.afterAllReleased_MB.toFixed(0)} MB` },
			{ figure: 'memory: the next text search after a release, end to end', value: `${mem.firstQueryAfterRelease_ms.toFixed(0)} ms`, target: '< 2000 ms', pass: mem.firstQueryAfterRelease_ms < 2000 },
		);
		results.memory = mem;
	} finally {
		await fs.rm(work, { recursive: true, force: true });
	}
}
