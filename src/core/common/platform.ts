/**
 * @file Platforms onnxruntime-node 1.30 ships no binaries for, said plainly before anything tries
 * to load it: Intel Macs (darwin-x64, dropped after 1.23.2) and musl Linux (Alpine).
 */

/** `glibc`: the C library's version on Linux, null for musl. */
export function unsupportedPlatform(platform: NodeJS.Platform = process.platform, arch: string = process.arch, glibc: string | null = glibcVersion()): string | undefined {
	if (platform === 'darwin' && arch === 'x64') {
		return 'CLIP Image Search needs onnxruntime-node 1.30, which has no build for Intel Macs (darwin-x64). Use an Apple silicon Mac, or run the command line elsewhere (e.g. a Linux machine over Remote-SSH, where the extension runs beside the files).';
	}
	if (platform === 'linux' && glibc === null) {
		return 'CLIP Image Search needs glibc: onnxruntime-node 1.30 has no build for musl Linux (Alpine). Use a glibc-based distribution or container (Debian, Ubuntu, Fedora…).';
	}
	return undefined;
}

function glibcVersion(): string | null {
	if (process.platform !== 'linux') {
		return '';
	}
	return (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime ?? null;
}
