/**
 * @file Sizes as people read them, in decimal units as Hugging Face and the README list files
 * (156 MB, not 148.6 MiB). The one formatter of the CLI and the extension.
 */

export function formatBytes(bytes: number): string {
	if (bytes < 1e3) {
		return `${bytes} B`;
	}
	if (bytes < 1e6) {
		return `${(bytes / 1e3).toFixed(bytes < 1e4 ? 1 : 0)} kB`;
	}
	if (bytes < 1e9) {
		return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
	}
	return `${(bytes / 1e9).toFixed(1)} GB`;
}
