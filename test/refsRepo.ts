/**
 * @file A generated repository that uses its images every way the reference scanner reads (issue 37),
 * with the answers known: which images each file uses, which images nothing uses (and which a
 * pattern may use), and which references are broken and why.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

/** A small PNG of one colour (different colours: different contents, different vectors). */
async function png(rgb: [number, number, number], size = 24, extra = 0): Promise<Buffer> {
	const base = await sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
		.png()
		.toBuffer();
	// Padding after IEND (ignored by decoders) gives the "big" unused image its size.
	return extra ? Buffer.concat([base, Buffer.alloc(extra)]) : base;
}

/** Images of the repository (relative path → colour), all present at first. */
export const REPO_IMAGES: Record<string, [number, number, number]> = {
	'public/images/logo.png': [200, 30, 30],
	'public/images/og.png': [30, 200, 30],
	'public/images/icon-192.png': [30, 30, 200],
	'public/favicon.ico': [120, 120, 120],
	'src/assets/hero.jpg': [220, 220, 40],
	'src/assets/alias.png': [40, 220, 220],
	'src/assets/worker.png': [220, 40, 220],
	'src/assets/req.png': [90, 160, 30],
	'src/assets/vue.png': [160, 90, 30],
	'src/icons/icon-a.png': [10, 10, 10],
	'src/icons/icon-b.png': [250, 250, 250],
	'assets/bg.png': [100, 150, 200],
	'assets/pattern@2x.png': [200, 150, 100],
	'assets/yaml.png': [60, 60, 160],
	'assets/unused-big.png': [5, 100, 5],
	'assets/unused-small.png': [100, 5, 5],
	'docs/diagram.png': [180, 30, 120],
	'docs/photo one.png': [30, 180, 120],
	'media/ext-icon.png': [130, 130, 30],
	'media/chart.png': [250, 128, 0],
	'img/small.png': [0, 128, 250],
	'node_modules/pkg/logo.png': [1, 2, 3],
};

const FILES: Record<string, string> = {
	'index.html': [
		'<!doctype html><html><head>',
		'<meta property="og:image" content="/images/og.png">',
		'<link rel="icon" href="/favicon.ico">',
		'<link rel="manifest" href="/manifest.webmanifest">',
		'</head><body>',
		'<img src="/images/logo.png" alt="logo">',
		'<img srcset="img/small.png 1x, img/large.png 2x" src="img/small.png">',
		'<img src="https://example.com/remote.png"><img src="data:image/png;base64,AAAA">',
		'</body></html>',
	].join('\n'),
	'README.md': ['# Project', '', '![Logo](public/images/logo.png "the logo")', '', 'See [the guide](docs/guide.md).'].join('\n'),
	'docs/guide.md': [
		'# Guide',
		'![Diagram](./diagram.png)',
		'![Photo](photo%20one.png)',
		'![Missing](./missing.png)',
		'![Wrong case](../assets/BG.png)',
		'![Outside](../../outside.png)',
		'![Chart](../media/chart.png)',
		'<img src="../public/images/logo.png" width="40">',
		'[logo]: ../public/images/logo.png',
	].join('\n'),
	'src/App.tsx': [
		"import hero from './assets/hero.jpg';",
		"import alias from '@/assets/alias.png';",
		"const worker = new URL('./assets/worker.png', import.meta.url);",
		"const req = require('./assets/req.png');",
		'export const App = () => <img src={hero} alt="" />;',
	].join('\n'),
	'src/Icon.tsx': ['export function Icon({ name }: { name: string }) {', '\treturn <img src={`./icons/${name}.png`} />;', '}'].join('\n'),
	'src/Widget.vue': ['<template>', '  <img src="./assets/vue.png" />', '</template>'].join('\n'),
	'styles/site.css': [
		'body { background: url("../assets/bg.png?v=2") no-repeat; }',
		'.hero { background-image: image-set("../assets/pattern@2x.png" 2x); }',
	].join('\n'),
	'public/manifest.webmanifest': JSON.stringify({ name: 'x', icons: [{ src: '/images/icon-192.png', sizes: '192x192' }] }, null, 2),
	'package.json': JSON.stringify({ name: 'repo', icon: 'media/ext-icon.png' }, null, 2),
	'config.yml': ['site:', '  image: assets/yaml.png', '  url: https://example.com/z.png'].join('\n'),
	'tsconfig.json': '{\n  // comments are allowed\n  "compilerOptions": { "baseUrl": ".", "paths": { "@/*": ["src/*"] } }\n}\n',
	'node_modules/pkg/README.md': '![](./logo.png) ![](./nope.png)',
	'dist/bundle.js': "const a = '/images/og.png'; const b = './nowhere.png';",
	// The product's own tags file names images: not a use.
	'.vscode/image-tags.json': JSON.stringify({ version: 1, images: { 'assets/unused-big.png': { label: 'x', score: 1 }, 'assets/gone.png': { label: 'x', score: 1 } } }),
};

/** The answers for the repository as written above. */
export const REPO_ANSWERS = {
	unused: ['assets/unused-big.png', 'assets/unused-small.png'],
	possiblyUsed: ['src/icons/icon-a.png', 'src/icons/icon-b.png'],
	broken: [
		{ file: 'docs/guide.md', target: './missing.png', reason: 'missing' },
		{ file: 'docs/guide.md', target: '../assets/BG.png', reason: 'wrong case', suggestion: '../assets/bg.png' },
		{ file: 'docs/guide.md', target: '../../outside.png', reason: 'outside the folder' },
		{ file: 'index.html', target: 'img/large.png', reason: 'missing srcset candidate' },
	],
	/** Uses of public/images/logo.png: index.html, README.md, docs/guide.md twice (an <img> and a reference definition), the minified bundle. */
	logoUses: ['README.md', 'docs/guide.md', 'docs/guide.md', 'index.html', 'src/vendor.min.js'],
};

/** Writes the repository into `root`: its images and text files, a minified bundle and a binary file with a text name. */
export async function writeRefsRepo(root: string): Promise<void> {
	for (const [rel, rgb] of Object.entries(REPO_IMAGES)) {
		await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
		await fs.writeFile(path.join(root, rel), await png(rgb, 24, rel === 'assets/unused-big.png' ? 40_000 : 0));
	}
	for (const [rel, text] of Object.entries(FILES)) {
		await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
		await fs.writeFile(path.join(root, rel), text);
	}
	// A minified one-line bundle of 1.5 MB (read within bounds), and a binary file named .js (passed over).
	const chunk = 'function a(b){return b+1};var c="x";'.repeat(40_000);
	await fs.writeFile(path.join(root, 'src', 'vendor.min.js'), `${chunk}var logo="/images/logo.png";`);
	await fs.writeFile(path.join(root, 'src', 'binary.js'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 2, 3]));
}
