#!/usr/bin/env node
// `npm run package [-- --target <t>]`: builds the production bundle and one VSIX for one
// platform, holding only that platform's native binaries (onnxruntime-node ships every
// platform's in its npm package; the others are left out here).
//
// Targets: linux-x64, linux-arm64, darwin-arm64, win32-x64 (default: this machine's).
// hnswlib-node is compiled at `npm ci` and sharp installs the binaries of the platform it runs
// on, so a target's VSIX is built on a machine of that target (a CI matrix); asked for another
// target, this script says so and stops.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = { 'linux-x64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'], 'darwin-arm64': ['darwin', 'arm64'], 'win32-x64': ['win32', 'x64'] };
const argIndex = process.argv.indexOf('--target');
const host = `${process.platform}-${process.arch}`;
const target = argIndex > 0 ? process.argv[argIndex + 1] : host;
if (!TARGETS[target]) {
	console.error(`package: unknown target "${target}"; one of ${Object.keys(TARGETS).join(', ')}`);
	process.exit(2);
}
if (target !== host) {
	console.error(`package: ${target} must be built on a ${target} machine: hnswlib-node is compiled there by npm ci, and sharp installs that platform's libvips. This machine is ${host}.`);
	process.exit(2);
}
const [os, arch] = TARGETS[target];

// The target's native binaries (the allow-list in .vscodeignore names everything else).
const natives = [
	`!node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/**`,
	`!node_modules/@img/sharp-${os}-${arch}/**`,
	`!node_modules/@img/sharp-libvips-${os}-${arch}/**`,
	`!node_modules/@img/sharp-win32-${arch}/**`,
];
const ignoreFile = join(root, '.vscodeignore.target');
writeFileSync(ignoreFile, `${readFileSync(join(root, '.vscodeignore'), 'utf8')}\n# added for ${target}\n${natives.join('\n')}\n`);

const out = join(root, `clip-image-search-${target}.vsix`);
try {
	execFileSync(process.execPath, [join(root, 'esbuild.mjs'), '--production'], { stdio: 'inherit', cwd: root });
	execFileSync(process.execPath, [join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--target', target, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '-o', out], {
		stdio: 'inherit',
		cwd: root,
	});
} finally {
	rmSync(ignoreFile, { force: true });
}
if (existsSync(out)) {
	console.log(`${out}: ${(statSync(out).size / 1e6).toFixed(1)} MB (target ${target}, model not included)`);
}
