#!/usr/bin/env node
// The native files a Linux VSIX ships, built and checked so that they load where VS Code Server runs.
//
//   node tools/natives.mjs build <linux-x64|linux-arm64>   # natives/<target>/addon.node (hnswlib-node)
//   node tools/natives.mjs check <file>...                 # fails when a file needs more than the floor
//
// [Note: the glibc floor] VS Code Server supports hosts from glibc 2.28 (Ubuntu 20.04, Debian 10,
// RHEL 8); libstdc++ there is GCC 8's (GLIBCXX_3.4.25). onnxruntime's and sharp's prebuilt Linux
// binaries stay under it; hnswlib-node has no prebuilds and `npm ci` compiles it against this
// machine's glibc 2.36 and GCC 12, which made it need GLIBC_2.29 (libm's `log`) and GLIBCXX_3.4.29
// (one helper, std::__throw_bad_array_new_length). The addon is therefore compiled again here, with
// `log` bound to its oldest version (a .symver in hnswlib-compat.h) and that helper defined inside
// the addon (hnswlib-compat.cc); libstdc++ stays dynamic (linked statically it brought in glibc
// 2.32–2.36 symbols of its own). linux-arm64 is built the same way with Debian's cross compiler
// (g++-aarch64-linux-gnu) and the same Node headers (N-API is the same on every architecture).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
export const FLOOR = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11' };
const COMPILERS = { 'linux-x64': 'g++', 'linux-arm64': 'aarch64-linux-gnu-g++' };

const newer = (a, b) => {
	const x = a.split('.').map(Number);
	const y = b.split('.').map(Number);
	for (let i = 0; i < Math.max(x.length, y.length); i++) {
		if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
	}
	return false;
};

/** The GLIBC / GLIBCXX / CXXABI versions an ELF file needs (readelf -V), and those above the floor. */
export function symbolVersions(file) {
	const out = execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8' });
	const needed = {};
	for (const [, lib, version] of out.matchAll(/Name: (GLIBC|GLIBCXX|CXXABI)_([0-9.]+)/g)) {
		if (!needed[lib] || newer(version, needed[lib])) needed[lib] = version;
	}
	const above = Object.entries(needed)
		.filter(([lib, v]) => newer(v, FLOOR[lib]))
		.map(([lib, v]) => `${lib}_${v}`);
	return { needed, above };
}

export function checkFloor(files) {
	const problems = [];
	for (const file of files) {
		const { needed, above } = symbolVersions(file);
		console.log(`  ${file.replace(`${root}/`, '')}: ${Object.entries(needed).map(([l, v]) => `${l}_${v}`).join(', ') || 'no versioned symbols'}${above.length ? `  ✗ above the floor: ${above.join(', ')}` : ''}`);
		if (above.length) problems.push(`${file}: ${above.join(', ')}`);
	}
	return problems;
}

/** Compiles hnswlib-node's addon for a Linux target under the floor; returns its path. */
export function buildHnswlib(target) {
	const cxx = COMPILERS[target];
	if (!cxx) throw new Error(`natives: hnswlib is built here for ${Object.keys(COMPILERS).join(' and ')} only; ${target} builds on its own runner`);
	const nodeHeaders = ['/usr/include/node', join(dirname(process.execPath), '..', 'include', 'node')].find(d => existsSync(join(d, 'node_api.h')));
	if (!nodeHeaders) throw new Error('natives: the Node headers (node_api.h) are not installed (Debian: apt-get install libnode-dev; or a Node from nodejs.org)');
	const hnswlib = dirname(require.resolve('hnswlib-node/package.json'));
	const out = join(root, 'natives', target, 'addon.node');
	mkdirSync(dirname(out), { recursive: true });
	execFileSync(
		cxx,
		[
			'-shared', '-fPIC', '-O3', '-std=c++17', '-fvisibility=hidden',
			'-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DBUILDING_NODE_EXTENSION',
			`-I${nodeHeaders}`, `-I${require('node-addon-api').include_dir}`,
			'-include', join(root, 'tools', 'hnswlib-compat.h'),
			join(hnswlib, 'src', 'addon.cc'), join(root, 'tools', 'hnswlib-compat.cc'),
			'-o', out, '-s',
		],
		{ stdio: 'inherit' },
	);
	return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const [verb, ...rest] = process.argv.slice(2);
	if (verb === 'build') {
		for (const target of rest) {
			const file = buildHnswlib(target);
			const problems = checkFloor([file]);
			if (problems.length) process.exit(1);
		}
	} else if (verb === 'check') {
		process.exit(checkFloor(rest).length ? 1 : 0);
	} else {
		console.error('usage: node tools/natives.mjs build <linux-x64|linux-arm64>... | check <file>...');
		process.exit(2);
	}
}
