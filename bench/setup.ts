/**
 * @file What the bench runs on, made once and cached in ~/.cache/clip-image-search/bench: the
 * random-weight models (Python tools in a venv), the image corpus (Debian's clip art, wallpapers
 * and icons), and the corpus line of the table.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { benchCache, median, opt, repo, results, rows, say } from './common';

export function python(): string {
	const venv = path.join(benchCache, 'venv');
	const py = path.join(venv, 'bin', 'python');
	if (!existsSync(py)) {
		say('creating a Python venv with torch, transformers, onnx, onnxruntime (pip, once)');
		execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
		execFileSync(py, ['-m', 'pip', 'install', '-q', 'torch', 'transformers', 'onnx', 'onnxruntime', 'onnxscript', 'pillow', 'numpy'], {
			stdio: 'inherit',
			env: { ...process.env, PIP_RETRIES: '0' },
		});
	}
	return py;
}

export function benchModel(): string {
	const given = opt('model');
	if (given) {
		return path.resolve(given);
	}
	const dir = path.join(benchCache, 'clip-vit-b32-random');
	if (!existsSync(path.join(dir, 'onnx', 'vision_model_quantized.onnx'))) {
		const tok = path.resolve(repo, '..', 'shared', 'clip-tokenizer');
		if (!existsSync(path.join(tok, 'tokenizer.json'))) {
			throw new Error(`the bench model needs CLIP's tokenizer files in ${tok}`);
		}
		say(`building the random-weight ViT-B/32 into ${dir} (a few minutes, once)`);
		execFileSync(python(), [path.join(repo, 'tools', 'make_bench_model.py'), '--out', dir, '--tokenizer', tok], { stdio: 'inherit' });
	}
	return dir;
}

/** A random-weight model of another family's architecture, built once (tools/make_family_bench_models.py). */
export function familyModel(family: 'siglip2' | 'siglip-multilingual' | 'mobileclip-s2'): string {
	const dir = path.join(benchCache, `${family}-random`);
	if (!existsSync(path.join(dir, 'onnx', 'vision_model_quantized.onnx'))) {
		const py = python();
		if (family === 'mobileclip-s2') {
			// MobileCLIP's image tower is timm's fastvit_mci2 (timm needs torchvision).
			execFileSync(py, ['-m', 'pip', 'install', '-q', 'timm', 'torchvision'], { stdio: 'inherit', env: { ...process.env, PIP_RETRIES: '0' } });
		}
		say(`building the random-weight ${family} into ${dir} (a few minutes, once)`);
		execFileSync(py, [path.join(repo, 'tools', 'make_family_bench_models.py'), '--out', dir, '--family', family], { stdio: 'inherit' });
	}
	return dir;
}

/** A random-weight model in Immich's or rclip's layout, real size, built once (tools/make_layout_bench_models.py). */
export function layoutModel(model: 'immich-b32' | 'rclip-b32-256' | 'immich-siglip2-b32-256'): string {
	const dir = path.join(benchCache, `${model}-random`);
	const done = model === 'rclip-b32-256' ? path.join(dir, 'tokenizer', 'bpe_simple_vocab_16e6.txt.gz') : path.join(dir, 'textual', 'tokenizer.json');
	if (!existsSync(done)) {
		const py = python();
		execFileSync(py, ['-m', 'pip', 'install', '-q', 'open-clip-torch', 'timm', 'torchvision'], { stdio: 'inherit', env: { ...process.env, PIP_RETRIES: '0' } });
		say(`building the random-weight ${model} into ${dir} (a few minutes, once)`);
		execFileSync(py, [path.join(repo, 'tools', 'make_layout_bench_models.py'), '--out', dir, '--model', model], { stdio: 'inherit' });
	}
	return dir;
}

/** Installs Debian packages (once) when one of `paths` is missing. */
function aptInstall(paths: string[], packages: string[]): void {
	if (paths.every(s => existsSync(s))) {
		return;
	}
	say(`installing bench images with apt: ${packages.join(', ')}`);
	execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update', '-qq'], { stdio: 'inherit' });
	execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function list(root: string, re: RegExp): string[] {
	const out: string[] = [];
	const walk = (d: string): void => {
		for (const e of readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, e.name);
			if (e.isDirectory() || (e.isSymbolicLink() && statSync(p).isDirectory())) {
				walk(p);
			} else if (re.test(e.name)) {
				out.push(p);
			}
		}
	};
	walk(root);
	return out.sort();
}

const every = (xs: string[], n: number): string[] => xs.filter((_, i) => i % Math.max(1, Math.floor(xs.length / n)) === 0).slice(0, n);

/**
 * A corpus like a photographer's or a design team's: 300 images of which the big wallpapers and
 * photos of Debian's wallpaper and background packages (JPEG and WebP, up to 15 MP) make about
 * 190 MP, the rest clip art and icons from the main corpus. Where decoding, not inference, bounds
 * the speed (issue: the product indexed such a corpus at 1.86× transformers.js against 2.32× on clip art).
 */
export async function photoCorpus(): Promise<string> {
	const dir = path.join(benchCache, 'photos');
	if (existsSync(path.join(dir, '.complete'))) {
		return dir;
	}
	const sources = ['/usr/share/wallpapers', '/usr/share/backgrounds'];
	aptInstall(['/usr/share/wallpapers', '/usr/share/backgrounds/gnome', '/usr/share/backgrounds/mate', '/usr/share/backgrounds/2004default.jpg'], ['plasma-workspace-wallpapers', 'gnome-backgrounds', 'mate-backgrounds', 'ukui-wallpapers']);
	const photos = [...new Set(sources.flatMap(s => (existsSync(s) ? list(s, /\.(jpe?g|webp)$/i) : [])))];
	mkdirSync(dir, { recursive: true });
	let mp = 0;
	let n = 0;
	for (const f of photos) {
		const meta = await sharp(f).metadata().catch(() => undefined);
		const size = meta?.width && meta.height ? meta.width * meta.height : undefined;
		if (!size || size > 15e6 || mp + size / 1e6 > 195) {
			continue;
		}
		mp += size / 1e6;
		execFileSync('cp', [f, path.join(dir, `p${String(n++).padStart(3, '0')}-${path.basename(f)}`)]);
	}
	const rest = readdirSync(corpus()).filter(f => !f.startsWith('.') && /\.png$/i.test(f));
	for (const f of every(rest, 300 - n)) {
		execFileSync('cp', [path.join(corpus(), f), path.join(dir, f)]);
	}
	execFileSync('touch', [path.join(dir, '.complete')]);
	return dir;
}

export function corpus(): string {
	const given = opt('images');
	if (given) {
		return path.resolve(given);
	}
	const dir = path.join(benchCache, 'corpus');
	if (existsSync(path.join(dir, '.complete'))) {
		return dir;
	}
	const sources = ['/usr/share/openclipart/png', '/usr/share/wallpapers', '/usr/share/icons/oxygen'];
	aptInstall(sources, ['openclipart-png', 'plasma-workspace-wallpapers', 'oxygen-icon-theme']);
	const clipart = every(list(sources[0], /\.png$/i), 120);
	const wallpapers = every(
		list(sources[1], /\.(jpg|jpeg|png)$/i).filter(p => !p.includes('images_dark')),
		24,
	);
	const icons = every(list(sources[2], /\.png$/i), 60);
	mkdirSync(dir, { recursive: true });
	for (const [i, f] of [...clipart, ...wallpapers, ...icons].entries()) {
		execFileSync('cp', [f, path.join(dir, `${String(i).padStart(3, '0')}-${path.basename(f)}`)]);
	}
	execFileSync('touch', [path.join(dir, '.complete')]);
	return dir;
}

export async function describeCorpus(dir: string): Promise<string[]> {
	const files = readdirSync(dir)
		.filter(f => !f.startsWith('.'))
		.map(f => path.join(dir, f));
	const formats = new Map<string, number>();
	const mps: number[] = [];
	for (const f of files) {
		const m = await sharp(f).metadata().catch(() => undefined);
		const key = `${m?.format ?? '?'}${m?.channels === 2 ? ' grey+alpha' : m?.channels === 4 ? ' rgba' : ''}`;
		formats.set(key, (formats.get(key) ?? 0) + 1);
		if (m?.width && m.height) {
			mps.push((m.width * m.height) / 1e6);
		}
	}
	const mix = [...formats].map(([k, v]) => `${v} ${k}`).join(', ');
	results.corpus = { dir, count: files.length, formats: Object.fromEntries(formats), medianMegapixels: median(mps) };
	rows.push({ figure: 'corpus', value: `${files.length} images (${mix}); median ${median(mps).toFixed(3)} MP` });
	return files;
}

// ------------------------------------------------------------------------------------ figures
