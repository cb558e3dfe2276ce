// Bundles the CLI, the extension and its inference worker with esbuild. Native modules stay
// external: they are loaded from node_modules at run time (and shipped in the platform VSIX).
// Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints errors as `✘ [ERROR] file:line:col` so VS Code's problem matcher can read them. */
const problemMatcher = {
	name: 'problem-matcher',
	setup(build) {
		build.onEnd(result => {
			for (const { text, location } of result.errors) {
				console.error(`✘ [ERROR] ${text}`);
				if (location) {
					console.error(`    ${location.file}:${location.line}:${location.column}:`);
				}
			}
		});
	},
};

const common = {
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'cjs',
	minify: production,
	sourcemap: !production,
	sourcesContent: false,
	external: ['vscode', 'onnxruntime-node', 'sharp', 'hnswlib-node'],
	// jsonc-parser's "main" is a UMD build whose require('./impl/…') calls esbuild cannot follow.
	alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
	logLevel: 'warning',
	plugins: [problemMatcher],
};

const builds = [
	{ ...common, entryPoints: ['src/cli/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
	{ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
	{ ...common, entryPoints: ['src/extension/worker/inferenceWorker.ts'], outfile: 'dist/inferenceWorker.js' },
	// The execution-provider probe, run as a child process (src/core/model/runtime/providerChoice.ts).
	{ ...common, entryPoints: ['src/core/model/runtime/providerProbe.ts'], outfile: 'dist/providerProbe.js' },
];

if (watch) {
	for (const b of builds) {
		await (await esbuild.context(b)).watch();
	}
} else {
	await Promise.all(builds.map(b => esbuild.build(b)));
}
