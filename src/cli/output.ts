/**
 * @file What the CLI prints: tables, progress bars, result lists, download progress, the verbose log.
 * Text that comes from outside (names, recognised text, messages that quote them) goes through
 * printable() ([Note: names printed raw] in core/common/printable.ts); --json output needs nothing.
 */
import { whyText } from '../core/search/hitOrder';
import { printable } from '../core/common/printable';
import { formatBytes } from '../core/common/sizes';
import type { DownloadProgress } from '../core/model/hub/download';

export function progressBar(fraction: number, width = 24): string {
	const f = Math.max(0, Math.min(1, fraction));
	const full = Math.round(f * width);
	return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

/** A table of cells, each made printable. */
export function table(headers: string[], cells: string[][]): string {
	const rows = cells.map(r => r.map(printable));
	const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
	const line = (cells: string[]): string =>
		cells
			.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
			.join('  ')
			.trimEnd();
	return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** A stage the engine says while it prepares something once (an int8 twin): one line on stderr. */
export const stage = (m: string | undefined): void => {
	if (m) {
		process.stderr.write(`clip-search: ${printable(m)}\n`);
	}
};

/** The engine's log, on stderr when CLIP_SEARCH_VERBOSE is set (stdout is for results). */
export const log = (m: string): void => {
	if (process.env.CLIP_SEARCH_VERBOSE) {
		process.stderr.write(`[clip-search] ${printable(m)}\n`);
	}
};

export function downloadReporter(json: boolean): (p: DownloadProgress) => void {
	return p => {
		if (json) {
			return;
		}
		if (p.status === 'start') {
			process.stderr.write(`Downloading ${p.file}${p.total ? ` (${formatBytes(p.total)})` : ''}…\n`);
		} else if (p.status === 'progress' && process.stderr.isTTY && p.total) {
			process.stderr.write(`\r  ${progressBar(p.loaded / p.total)} ${formatBytes(p.loaded)} / ${formatBytes(p.total)}`);
		} else if (p.status === 'done' && process.stderr.isTTY) {
			process.stderr.write('\n');
		}
	};
}

export function printResults(results: { path: string; score: number; text?: string; why?: Parameters<typeof whyText>[0] }[], json: boolean): void {
	if (json) {
		process.stdout.write(`${JSON.stringify(results)}\n`);
		return;
	}
	if (!results.length) {
		process.stdout.write('No matching images.\n');
		return;
	}
	// The text match is in `why` when there is one; older callers give it as `text`.
	const why = results.map(r => whyText(r.why ?? (r.text !== undefined ? { text: r.text } : undefined)));
	process.stdout.write(
		why.some(Boolean)
			? table(['score', 'path', 'why'], results.map((r, i) => [r.score.toFixed(4), r.path, why[i]]))
			: table(['score', 'path'], results.map(r => [r.score.toFixed(4), r.path])),
	);
}

export function printFailures(failed: { path: string; error: string }[]): void {
	for (const f of failed) {
		process.stdout.write(`  failed: ${printable(f.error.includes(f.path) ? f.error : `${f.path}: ${f.error}`)}\n`);
	}
}
