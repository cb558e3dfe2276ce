/** @file Plain-text output helpers for the CLI. */

export function formatBytes(n: number): string {
	const units = ['B', 'KB', 'MB', 'GB'];
	let v = n;
	let u = 0;
	while (v >= 1024 && u < units.length - 1) {
		v /= 1024;
		u++;
	}
	return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export function progressBar(fraction: number, width = 24): string {
	const f = Math.max(0, Math.min(1, fraction));
	const full = Math.round(f * width);
	return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

export function table(headers: string[], rows: string[][]): string {
	const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
	const line = (cells: string[]): string =>
		cells
			.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
			.join('  ')
			.trimEnd();
	return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}
