/** @file Extension entry point (placeholder until the extension layer lands). */
export function activate(): void {
	// Filled in by the extension layer.
}

export function deactivate(): void {
	// Nothing to release yet.
}
