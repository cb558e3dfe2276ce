/**
 * The Linux VSIXs as they ship: `npm run package -- --target linux-x64` and `linux-arm64` each hold
 * only their own platform's native files, and every native file needs no more than the glibc floor
 * VS Code Server supports (GLIBC_2.28, GLIBCXX_3.4.25), read from the packed files with readelf.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing =
	process.platform !== 'linux' || process.arch !== 'x64'
		? 'the Linux VSIXs are packaged on Linux x64'
		: !has('aarch64-linux-gnu-g++')
			? 'needs the arm64 cross compiler (apt-get install g++-aarch64-linux-gnu; .ci/run installs it)'
			: !has('readelf') || !has('unzip')
				? 'needs readelf and unzip (binutils, unzip)'
				: undefined;

const FLOOR: Record<string, string> = { GLIBC: '2.28', GLIBCXX: '3.4.25' };
const above = (v: string, floor: string): boolean => {
	const a = v.split('.').map(Number);
	const b = floor.split('.').map(Number);
	for (let i = 0; i < Math.max(a.length, b.length); i++) {
		if ((a[i] ?? 0) !== (b[i] ?? 0)) {
			return (a[i] ?? 0) > (b[i] ?? 0);
		}
	}
	return false;
};

describe('platform VSIXs (Linux, packaged here)', { skip: missing ?? false }, () => {
	for (const [target, machine, other] of [
		['linux-x64', 'X86-64', 'arm64'],
		['linux-arm64', 'AArch64', 'x64'],
	] as const) {
		it(`${target}: only its own natives, all under the glibc floor`, () => {
			execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'package.mjs'), '--target', target], { cwd: repoRoot, stdio: 'pipe' });
			const vsix = path.join(repoRoot, `clip-image-search-${target}.vsix`);
			const entries = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8', maxBuffer: 1 << 24 }).split('\n').filter(Boolean);
			const natives = entries.filter(e => /\.(node|so(\.\d+)*|dll|dylib)$/.test(e));
			assert.ok(natives.length >= 5, natives.join('\n'));
			for (const e of natives) {
				assert.ok(!e.includes(`/${other}/`) && !e.includes(`-${other}`) && !/win32|darwin|musl/.test(e), `${e} is not ${target}'s`);
			}
			assert.ok(entries.includes(`extension/node_modules/onnxruntime-node/bin/napi-v6/linux/${target.split('-')[1]}/libonnxruntime.so.1`));
			assert.ok(entries.some(e => e.startsWith(`extension/node_modules/@img/sharp-libvips-${target}/`)));
			assert.ok(entries.includes('extension/node_modules/hnswlib-node/build/Release/addon.node'));
			assert.ok(entries.includes('extension/changelog.md') && entries.includes('extension/LICENSE.txt'), 'changelog and licence ship (vsce names them so)');
			assert.ok(entries.includes('extension/package.nls.json') && entries.includes('extension/skills/clip-search/SKILL.md'));
			// Licences: every shipped native's, the generated notices of everything bundled or shipped; nothing a user cannot use.
			for (const licence of ['extension/node_modules/hnswlib-node/LICENSE.txt', 'extension/node_modules/sharp/LICENSE', 'extension/third-party/LGPL-3.0.txt', 'extension/third-party/GPL-3.0.txt', 'extension/THIRD-PARTY-NOTICES.txt']) {
				assert.ok(entries.includes(licence), `${licence} ships`);
			}
			assert.ok(entries.some(e => new RegExp(`^extension/node_modules/@img/sharp-libvips-${target}/README\\.md$`).test(e)), "libvips' table of its libraries' licences ships");
			assert.deepEqual(entries.filter(e => /\.(map|d\.ts|d\.cts|d\.mts)$/.test(e)), [], 'no source maps, no typings');
			const notices = execFileSync('unzip', ['-p', vsix, 'extension/THIRD-PARTY-NOTICES.txt'], { encoding: 'utf8', maxBuffer: 1 << 24 });
			const shipped = new Set(entries.map(e => /^extension\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(e)?.[1]).filter((x): x is string => !!x));
			const pkg = JSON.parse(execFileSync('unzip', ['-p', vsix, 'extension/package.json'], { encoding: 'utf8' })) as { dependencies: Record<string, string> };
			for (const name of new Set([...shipped, ...Object.keys(pkg.dependencies)])) {
				if (name.startsWith(`@img/sharp-${target}`) || name.startsWith(`@img/sharp-libvips-${target}`)) {
					continue; // fetched for the target; the host's twin is listed, and libvips' notice names every platform
				}
				assert.ok(notices.includes(` - ${name}@`), `THIRD-PARTY-NOTICES.txt lists ${name}`);
			}
			assert.match(notices, /Copyright \(c\) Microsoft Corporation/);
			assert.match(notices, /PP-OCRv4 models[\s\S]*Apache License 2\.0/);
			// The Marketplace page is the user's page, with no relative link the web Marketplace cannot show.
			const readme = execFileSync('unzip', ['-p', vsix, 'extension/readme.md'], { encoding: 'utf8' });
			assert.match(readme, /^# CLIP Image Search\n\nFind and tag the images/);
			assert.doesNotMatch(readme, /npm ci|npm test/);
			const dir = mkdtempSync(path.join(tmpdir(), 'clip-vsix-'));
			execFileSync('unzip', ['-q', vsix, ...natives, '-d', dir]);
			for (const e of natives) {
				const file = path.join(dir, e);
				const header = execFileSync('readelf', ['-h', file], { encoding: 'utf8' });
				assert.match(header, new RegExp(`Machine:.*${machine}`), `${e} is built for ${machine}`);
				const versions = execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8' });
				for (const [, lib, v] of versions.matchAll(/Name: (GLIBC|GLIBCXX)_([0-9.]+)/g)) {
					assert.ok(!above(v, FLOOR[lib]), `${e} needs ${lib}_${v} (the floor is ${lib}_${FLOOR[lib]})`);
				}
			}
		});
	}
});
