#!/usr/bin/env node
// `npm run package [-- --target <t>]`: builds the production bundle and one VSIX for one platform,
// holding only that platform's native files (default target: this machine's).
//
//   linux-x64, linux-arm64   built on a Linux x64 machine: hnswlib-node's addon is compiled for the
//                            target under the glibc floor (tools/natives.mjs; arm64 with Debian's
//                            cross compiler), sharp's packages for the target are fetched with
//                            `npm pack` when absent, and every native file is checked against the
//                            floor before it is packed.
//   darwin-arm64, win32-x64, win32-arm64
//                            built on a machine of that target (the release workflow's matrix):
//                            hnswlib-node is compiled there by `npm ci`.
//
// Not offered: darwin-x64 and Alpine (musl), which onnxruntime-node 1.30 does not ship (README).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHnswlib, checkFloor } from './natives.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS = {
	'linux-x64': ['linux', 'x64'],
	'linux-arm64': ['linux', 'arm64'],
	'darwin-arm64': ['darwin', 'arm64'],
	'win32-x64': ['win32', 'x64'],
	'win32-arm64': ['win32', 'arm64'],
};
const argIndex = process.argv.indexOf('--target');
const host = `${process.platform}-${process.arch}`;
const target = argIndex > 0 ? process.argv[argIndex + 1] : host;
if (!TARGETS[target]) {
	console.error(
		`package: unknown target "${target}"; one of ${Object.keys(TARGETS).join(', ')}. (darwin-x64 and Alpine/musl are not offered: onnxruntime-node 1.30 has no binaries for them; see the README.)`,
	);
	process.exit(2);
}
const [os, arch] = TARGETS[target];
const linux = os === 'linux';
if (linux ? host !== 'linux-x64' && host !== target : host !== target) {
	console.error(`package: ${target} is built ${linux ? 'on a Linux x64 machine (or on itself)' : `on a ${target} machine, where npm ci compiles hnswlib-node`}. This machine is ${host}.`);
	process.exit(2);
}

const nm = join(root, 'node_modules');
const sharpVersion = JSON.parse(readFileSync(join(nm, 'sharp', 'package.json'), 'utf8')).version;
const sharpPackages = os === 'win32' ? [`@img/sharp-win32-${arch}`] : [`@img/sharp-${os}-${arch}`, `@img/sharp-libvips-${os}-${arch}`];
const addon = join(nm, 'hnswlib-node', 'build', 'Release', 'addon.node');
const restore = [];

/** sharp's packages for the target, unpacked from the registry when this machine has not got them. */
function fetchSharp() {
	for (const name of sharpPackages) {
		const dest = join(nm, name);
		if (existsSync(dest)) {
			continue;
		}
		const tmp = mkdtempSync(join(tmpdir(), 'clip-pack-'));
		const version = name.includes('libvips') ? JSON.parse(readFileSync(join(nm, '@img', `sharp-${os}-${arch}`, 'package.json'), 'utf8')).optionalDependencies?.[name] : sharpVersion;
		const tgz = execFileSync('npm', ['pack', '--silent', `${name}@${version ?? sharpVersion}`], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop();
		execFileSync('tar', ['-xzf', join(tmp, tgz), '-C', tmp]);
		mkdirSync(dirname(dest), { recursive: true });
		renameSync(join(tmp, 'package'), dest);
		rmSync(tmp, { recursive: true, force: true });
		restore.push(() => rmSync(dest, { recursive: true, force: true }));
		console.log(`package: fetched ${name}@${version ?? sharpVersion} for ${target}`);
	}
}

/** Every native file the VSIX holds for the target. */
function nativeFiles() {
	const dirs = [join(nm, 'onnxruntime-node', 'bin', 'napi-v6', os, arch), ...sharpPackages.map(p => join(nm, p))];
	const files = [addon];
	const walk = d => {
		for (const e of readdirSync(d, { withFileTypes: true })) {
			const p = join(d, e.name);
			if (e.isDirectory()) walk(p);
			else if (/\.(node|so(\.\d+)*|dll|dylib)$/.test(e.name)) files.push(p);
		}
	};
	dirs.forEach(walk);
	return files;
}

const out = join(root, `clip-image-search-${target}.vsix`);
const ignoreFile = join(root, '.vscodeignore.target');
try {
	fetchSharp();
	if (linux) {
		const built = buildHnswlib(target);
		const saved = `${addon}.host`;
		copyFileSync(addon, saved);
		copyFileSync(built, addon);
		restore.push(() => renameSync(saved, addon));
		console.log(`package: the native files of ${target} against the glibc floor (tools/natives.mjs):`);
		const problems = checkFloor(nativeFiles());
		if (problems.length) {
			throw new Error(`native files above the floor (GLIBC_2.28, GLIBCXX_3.4.25):\n${problems.join('\n')}`);
		}
	}
	const natives = [`!node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/**`, ...sharpPackages.map(p => `!node_modules/${p}/**`)];
	writeFileSync(ignoreFile, `${readFileSync(join(root, '.vscodeignore'), 'utf8')}\n# added for ${target}\n${natives.join('\n')}\n`);
	execFileSync(process.execPath, [join(root, 'esbuild.mjs'), '--production'], { stdio: 'inherit', cwd: root });
	// The licences of everything the VSIX holds or bundles into dist/*.js, from the installed
	// dependencies (generate-license-file; .glf.json adds what their packages lack: onnxruntime's
	// MIT text, libvips' LGPL notice, the OCR models' licence).
	execFileSync(process.execPath, [join(nm, 'generate-license-file', 'bin', 'generate-license-file'), '--input', 'package.json', '--output', 'THIRD-PARTY-NOTICES.txt', '--overwrite', '--ci', '--eol', 'lf'], { cwd: root, stdio: 'pipe' });
	restore.push(() => rmSync(join(root, 'THIRD-PARTY-NOTICES.txt'), { force: true }));
	// The Marketplace page is the user's page (docs/marketplace.md); README.md stays the developers'.
	execFileSync(process.execPath, [join(nm, '@vscode/vsce/vsce'), 'package', '--target', target, '--ignoreFile', ignoreFile, '--readme-path', 'docs/marketplace.md', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out], {
		stdio: 'inherit',
		cwd: root,
	});
} finally {
	rmSync(ignoreFile, { force: true });
	for (const undo of restore.reverse()) {
		undo();
	}
}
if (existsSync(out)) {
	console.log(`${out}: ${(statSync(out).size / 1e6).toFixed(1)} MB (target ${target}, model not included)`);
}
