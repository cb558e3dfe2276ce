#!/usr/bin/env node
// `npm run demo`: indexes the fixture images with the bundled tiny test model, then prints a
// search, a similar-image search and a zero-shot labelling. Works offline on a fresh clone.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const images = join(root, 'test', 'fixtures', 'images');
const model = join(root, 'test', 'fixtures', 'tiny-clip');
const index = mkdtempSync(join(tmpdir(), 'clip-demo-'));

const step = (title, args) => {
	console.log(`\n$ clip-search ${args.map(a => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}   # ${title}`);
	execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
};

step('index the fixture images with the tiny test model', ['index', images, '--model', model, '--index', index]);
step('search by text', ['search', 'a photo of a blue star', '--index', index, '-k', '3']);
step('combined query', ['search', '"red circle" - "red" + "green"', '--index', index, '-k', '3']);
step('similar images', ['similar', join(images, 'red-circle.png'), '--index', index, '-k', '3']);
step('zero-shot labelling', ['label', '--classes', 'circle,square,triangle,star,cross', '--index', index]);
