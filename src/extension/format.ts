/** @file Sizes as the extension shows them (decimal units, as Hugging Face lists files). */

export function megabytes(bytes: number): string {
	return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(0)} MB`;
}
