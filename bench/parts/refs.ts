/**
 * @file Bench part `refs`: where each image is used (issue 37) on a generated repository of 20,000
 * text files (Markdown, HTML, CSS, TSX, JSON, YAML) and 2,000 images: a cold scan that answers
 * `unused`, and one changed file read again with the answers after it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { FolderUses } from '../../src/core/refs/folderUses';
import { benchCache, median, QUICK, rows, RUNS, say } from '../common';

/** A small deterministic generator (the same repository every run). */
function rng(seed: number): () => number {
	let s = seed >>> 0;
	return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const FILLER = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';

/** One text file of `kind` that uses `images` (paths relative to the repository). */
function textFile(kind: string, dir: string, images: string[], r: () => number): string {
	const rel = (image: string): string => path.posix.relative(dir, image) || image;
	const filler = FILLER.repeat(4 + Math.floor(r() * 20));
	switch (kind) {
		case 'md':
			return `# Page\n\n${filler}\n\n${images.map(i => `![an image](${rel(i)})\n\n${filler.slice(0, 200)}`).join('\n')}\n[ref]: ${rel(images[0])}\n`;
		case 'html':
			return `<!doctype html><html><body><p>${filler}</p>${images.map(i => `<img src="/${i.replace(/^public\//, '')}" srcset="${rel(i)} 1x, ${rel(i)} 2x">`).join('\n')}</body></html>\n`;
		case 'css':
			return `${images.map((i, n) => `.c${n} { background: url("${rel(i)}") no-repeat; }\n/* ${filler.slice(0, 120)} */`).join('\n')}\n`;
		case 'tsx':
			return `import React from 'react';\n${images.map((i, n) => `import img${n} from './${rel(i)}';`).join('\n')}\n// ${filler}\nexport const C = () => <div>{[${images.map((_, n) => `img${n}`).join(', ')}].map(s => <img src={s} />)}</div>;\nconst icon = (name: string) => \`./icons/\${name}.png\`;\n`;
		case 'json':
			return `${JSON.stringify({ name: 'x', description: filler, icons: images.map(i => ({ src: `/${i.replace(/^public\//, '')}`, sizes: '192x192' })) }, null, 2)}\n`;
		default:
			return `title: page\ndescription: ${filler.slice(0, 300)}\nimages:\n${images.map(i => `  - ${i}`).join('\n')}\n`;
	}
}

/** Writes the repository once (cached): `texts` text files over 200 folders, `images` tiny images. */
async function makeRepo(texts: number, images: number): Promise<string> {
	const dir = path.join(benchCache, `refs-${texts}-${images}`);
	if (existsSync(path.join(dir, '.complete'))) {
		return dir;
	}
	say(`writing ${texts} text files and ${images} images for the refs figure (once)`);
	await fs.rm(dir, { recursive: true, force: true });
	const r = rng(37);
	const imagePaths = Array.from({ length: images }, (_, i) => (i % 4 === 0 ? `public/img/${i % 40}/image-${i}.png` : `src/assets/${i % 50}/image-${i}.png`));
	for (const [i, p] of imagePaths.entries()) {
		mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
		// A PNG signature and a few bytes: walked and listed, never decoded here.
		await fs.writeFile(path.join(dir, p), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64 + (i % 512))]));
	}
	const kinds = ['md', 'md', 'md', 'md', 'html', 'html', 'css', 'tsx', 'tsx', 'tsx', 'json', 'yaml'];
	// Nine tenths of the images are used; a tenth nothing names (the unused answer).
	const used = imagePaths.slice(0, Math.floor(images * 0.9));
	const writes: Promise<void>[] = [];
	for (let i = 0; i < texts; i++) {
		const kind = kinds[i % kinds.length];
		const folder = i % 3 === 0 ? `docs/${i % 200}` : `src/pages/${i % 200}`;
		const ext = kind === 'yaml' ? 'yml' : kind;
		const refs = Array.from({ length: 1 + Math.floor(r() * 5) }, () => used[Math.floor(r() * used.length)]);
		if (i % 50 === 0) {
			refs.push(`${folder}/missing-${i}.png`); // a broken one now and then
		}
		const file = path.join(dir, folder, `file-${i}.${ext}`);
		mkdirSync(path.dirname(file), { recursive: true });
		writes.push(fs.writeFile(file, textFile(kind, folder, refs, r)));
		if (writes.length >= 256) {
			await Promise.all(writes.splice(0));
		}
	}
	await Promise.all(writes);
	await fs.writeFile(path.join(dir, 'tsconfig.json'), '{ "compilerOptions": { "baseUrl": ".", "paths": { "@/*": ["src/*"] } } }\n');
	execFileSync('touch', [path.join(dir, '.complete')]);
	return dir;
}

export async function figureRefs(): Promise<void> {
	const texts = QUICK ? 5_000 : 20_000;
	const images = QUICK ? 500 : 2_000;
	const dir = await makeRepo(texts, images);
	const cold: number[] = [];
	let uses: FolderUses | undefined;
	let answer: Awaited<ReturnType<FolderUses['unused']>> | undefined;
	for (let run = 0; run < Math.max(1, Math.min(RUNS, 3)); run++) {
		const t = performance.now();
		uses = await FolderUses.open(dir);
		answer = await uses.unused();
		cold.push(performance.now() - t);
	}
	const stats = uses!.refs.stats;
	say(`refs: ${stats.references} references in ${stats.files} text files; ${answer!.unused.length} unused images`);
	rows.push({
		figure: `12a. refs: cold scan of ${texts.toLocaleString()} text files (${stats.references.toLocaleString()} references) and ${images.toLocaleString()} images, then unused`,
		value: `${(median(cold) / 1000).toFixed(2)} s`,
		target: '< 10 s',
		pass: median(cold) < 10_000,
	});
	// One file changes (a use of an unused image is added): read again alone, and the answers after it.
	const changedRel = 'docs/3/file-3.md';
	const changedAbs = path.join(dir, changedRel);
	const original = await fs.readFile(changedAbs, 'utf8');
	const unusedImage = answer!.unused[0].path;
	const update: number[] = [];
	const brokenAfter: number[] = [];
	try {
		for (let run = 0; run < Math.max(3, RUNS); run++) {
			await fs.writeFile(changedAbs, `${original}\n![now used](${path.posix.relative('docs/3', unusedImage)})\n<!-- ${run} -->\n`);
			const t = performance.now();
			await uses!.refs.update([changedRel]);
			const after = await uses!.unused();
			update.push(performance.now() - t);
			if (after.unused.some(u => u.path === unusedImage)) {
				throw new Error(`${unusedImage} is still unused after ${changedRel} named it`);
			}
			const b = performance.now();
			await uses!.broken();
			brokenAfter.push(performance.now() - b);
			await fs.writeFile(changedAbs, original);
			await uses!.refs.update([changedRel]);
		}
	} finally {
		await fs.writeFile(changedAbs, original);
	}
	rows.push({
		figure: '12b. refs: one changed file read again, then unused answered',
		value: `${median(update).toFixed(0)} ms`,
		target: '< 100 ms',
		pass: median(update) < 100,
	});
	rows.push({ figure: '12c. refs: broken answered (after a change)', value: `${median(brokenAfter).toFixed(0)} ms` });
}
