/**
 * @file A second generated set for classes taught by example, drawn by another generator than
 * test/hardShapes.ts and never used to tune the method (fewShot.ts is tuned on the harder set and
 * the unit tests; this set only checks that what was tuned there holds elsewhere). The same eight
 * shape words (so that "a photo of a <shape>" means something to test/fixtures/tiny-clip-varied),
 * drawn otherwise: filled with hatching, dots or a gradient, or only outlined; in colours the model
 * never saw (teal, pink, brown, navy, olive, grey); over photo-like backgrounds (blurred bokeh
 * blobs, smooth noise, a sky over ground, a grainy vignette); and written as every kind of image
 * the product reads: JPEG at varied quality, JPEG whose pixels are stored rotated or mirrored with
 * the EXIF orientation (2-8) that turns them upright, PNG with alpha (the scene on transparency),
 * greyscale, and palette PNG. The classes are named opaquely (class-a … class-h), so the name gives
 * nothing away; their prompts are "a photo of a <shape>". Seeded: the same set on every run.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { polygonPoints, seeded } from './shapes';

/** Opaque class names and the shape each stands for (not in the shapes' order). */
export const HELD_BACK_CLASSES: { name: string; shape: string }[] = [
	{ name: 'class-a', shape: 'hexagon' },
	{ name: 'class-b', shape: 'circle' },
	{ name: 'class-c', shape: 'cross' },
	{ name: 'class-d', shape: 'triangle' },
	{ name: 'class-e', shape: 'ring' },
	{ name: 'class-f', shape: 'star' },
	{ name: 'class-g', shape: 'square' },
	{ name: 'class-h', shape: 'diamond' },
];

/** Colours tiny-clip-varied was never trained on. */
export const HELD_BACK_COLOURS: Record<string, [number, number, number]> = {
	teal: [0, 128, 128],
	pink: [240, 110, 180],
	brown: [130, 80, 40],
	navy: [25, 35, 110],
	olive: [128, 128, 20],
	maroon: [128, 20, 40],
};

export type Fill = 'solid' | 'outline' | 'hatch' | 'dots' | 'gradient';
export type Background = 'bokeh' | 'smooth' | 'horizon' | 'grain';
export type Kind = 'jpeg' | 'exif' | 'rgba' | 'grey' | 'palette';

export interface HeldBackItem {
	rel: string;
	/** The opaque class name. */
	cls: string;
	shape: string;
	colour: string;
	fill: Fill;
	background: Background;
	kind: Kind;
	/** EXIF orientation of the stored pixels (kind 'exif'). */
	orientation?: number;
}

/** Pink, brown and maroon against teal, navy and olive: a grouping no prompt names, in colours the model never saw. */
const WARMISH = new Set(['pink', 'brown', 'maroon']);
export const isWarmish = (item: HeldBackItem): boolean => WARMISH.has(item.colour);

const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
const rgb = (c: number[]): string => `rgb(${c.map(clamp).join(',')})`;
const BLACK = [0, 0, 0];
const mix = (a: number[], b: number[], t: number): number[] => a.map((v, i) => v * (1 - t) + b[i] * t);

/** An RGB raster, filled by the background painters below. */
class Raster {
	readonly data: Float32Array;
	constructor(
		readonly w: number,
		readonly h: number,
	) {
		this.data = new Float32Array(w * h * 3);
	}
	set(x: number, y: number, c: number[]): void {
		const i = 3 * (y * this.w + x);
		this.data[i] = c[0];
		this.data[i + 1] = c[1];
		this.data[i + 2] = c[2];
	}
	/** Sets (x, y) to a·(1 − t) + b·t. */
	setMix(x: number, y: number, a: number[], b: number[], t: number): void {
		const i = 3 * (y * this.w + x);
		this.data[i] = a[0] + (b[0] - a[0]) * t;
		this.data[i + 1] = a[1] + (b[1] - a[1]) * t;
		this.data[i + 2] = a[2] + (b[2] - a[2]) * t;
	}
	/** Blends `c` into (x, y) with weight t. */
	blend(x: number, y: number, c: number[], t: number): void {
		const i = 3 * (y * this.w + x);
		for (let k = 0; k < 3; k++) {
			this.data[i + k] = this.data[i + k] * (1 - t) + c[k] * t;
		}
	}
	grain(amount: number, rand: () => number): void {
		for (let i = 0; i < this.data.length; i += 3) {
			const g = (rand() - 0.5) * amount;
			this.data[i] += g;
			this.data[i + 1] += g;
			this.data[i + 2] += g;
		}
	}
	toBuffer(): Buffer {
		const out = Buffer.alloc(this.data.length);
		for (let i = 0; i < out.length; i++) {
			const v = this.data[i];
			out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
		}
		return out;
	}
}

const randomColour = (rand: () => number, lo = 30, hi = 230): number[] => [0, 0, 0].map(() => lo + rand() * (hi - lo));

/** Smooth value noise: a coarse grid of random colours, bilinearly interpolated. */
function smoothNoise(r: Raster, rand: () => number): void {
	const gx = 3 + Math.floor(rand() * 4);
	const gy = 3 + Math.floor(rand() * 4);
	const base = randomColour(rand, 50, 200);
	const grid = Array.from({ length: (gx + 1) * (gy + 1) }, () => mix(base, randomColour(rand), 0.5));
	for (let y = 0; y < r.h; y++) {
		for (let x = 0; x < r.w; x++) {
			const fx = (x / r.w) * gx;
			const fy = (y / r.h) * gy;
			const ix = Math.floor(fx);
			const iy = Math.floor(fy);
			const tx = fx - ix;
			const ty = fy - iy;
			// Smoothstep between the grid's colours.
			const sx = tx * tx * (3 - 2 * tx);
			const sy = ty * ty * (3 - 2 * ty);
			const a = grid[iy * (gx + 1) + ix];
			const b = grid[iy * (gx + 1) + Math.min(gx, ix + 1)];
			const c = grid[Math.min(gy, iy + 1) * (gx + 1) + ix];
			const d = grid[Math.min(gy, iy + 1) * (gx + 1) + Math.min(gx, ix + 1)];
			const i = 3 * (y * r.w + x);
			for (let k = 0; k < 3; k++) {
				const top = a[k] + (b[k] - a[k]) * sx;
				r.data[i + k] = top + (c[k] + (d[k] - c[k]) * sx - top) * sy;
			}
		}
	}
	r.grain(10, rand);
}

/** Out-of-focus lights: soft discs of random colours over a dark or mid gradient. */
function bokeh(r: Raster, rand: () => number): void {
	const top = randomColour(rand, 10, 120);
	const bottom = randomColour(rand, 10, 120);
	for (let y = 0; y < r.h; y++) {
		for (let x = 0; x < r.w; x++) {
			r.setMix(x, y, top, bottom, y / r.h);
		}
	}
	const n = 6 + Math.floor(rand() * 10);
	const s = Math.min(r.w, r.h);
	for (let i = 0; i < n; i++) {
		const cx = rand() * r.w;
		const cy = rand() * r.h;
		const rad = s * (0.08 + rand() * 0.25);
		const c = randomColour(rand, 80, 255);
		const strength = 0.25 + rand() * 0.5;
		for (let y = Math.max(0, Math.floor(cy - rad)); y < Math.min(r.h, Math.ceil(cy + rad)); y++) {
			for (let x = Math.max(0, Math.floor(cx - rad)); x < Math.min(r.w, Math.ceil(cx + rad)); x++) {
				const d = Math.hypot(x - cx, y - cy) / rad;
				if (d < 1) {
					// A disc with a soft edge, as a blurred light looks.
					r.blend(x, y, c, strength * Math.min(1, (1 - d) * 3));
				}
			}
		}
	}
	r.grain(8, rand);
}

/** A sky over the ground: a sky gradient above a slightly tilted horizon, textured ground below. */
function horizon(r: Raster, rand: () => number): void {
	const skies = [
		[
			[90, 150, 230],
			[200, 225, 250],
		],
		[
			[170, 170, 180],
			[225, 225, 230],
		],
		[
			[250, 150, 90],
			[120, 80, 140],
		],
	];
	const [skyTop, skyLow] = skies[Math.floor(rand() * skies.length)];
	const grounds = [
		[70, 120, 50],
		[150, 120, 80],
		[210, 190, 140],
		[60, 60, 65],
	];
	const ground = grounds[Math.floor(rand() * grounds.length)];
	const y0 = r.h * (0.35 + rand() * 0.3);
	const tilt = (rand() - 0.5) * 0.3;
	for (let y = 0; y < r.h; y++) {
		for (let x = 0; x < r.w; x++) {
			const line = y0 + tilt * (x - r.w / 2);
			if (y < line) {
				r.setMix(x, y, skyTop, skyLow, Math.max(0, y / line));
			} else {
				const depth = (y - line) / Math.max(1, r.h - line);
				r.setMix(x, y, ground, BLACK, 0.3 * depth);
			}
		}
	}
	r.grain(24, rand);
}

/** One muted colour, darker towards the corners, with film grain. */
function grain(r: Raster, rand: () => number): void {
	const c = randomColour(rand, 40, 220);
	for (let y = 0; y < r.h; y++) {
		for (let x = 0; x < r.w; x++) {
			const d = Math.hypot(x / r.w - 0.5, y / r.h - 0.5) / 0.7071;
			r.setMix(x, y, c, BLACK, 0.5 * d * d);
		}
	}
	r.grain(30, rand);
}

const PAINTERS: Record<Background, (r: Raster, rand: () => number) => void> = { bokeh, smooth: smoothNoise, horizon, grain };

/** The outline of a shape as an SVG element with the given paint attributes. */
function shapeElement(shape: string, cx: number, cy: number, r: number, paint: string): string {
	const f = (v: number): string => v.toFixed(1);
	if (shape === 'circle') {
		return `<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r)}" ${paint}/>`;
	}
	if (shape === 'square') {
		const q = r * 0.85;
		return `<rect x="${f(cx - q)}" y="${f(cy - q)}" width="${f(2 * q)}" height="${f(2 * q)}" ${paint}/>`;
	}
	const pts = polygonPoints(shape, cx, cy, r);
	return `<polygon points="${pts.map(([x, y]) => `${f(x)},${f(y)}`).join(' ')}" ${paint}/>`;
}

/** The shape with its fill, as an SVG over a transparent canvas. */
function shapeSvg(item: HeldBackItem, w: number, h: number, rand: () => number): string {
	const s = Math.min(w, h);
	const ox = (w - s) / 2;
	const oy = (h - s) / 2;
	const r = s * (0.24 + rand() * 0.12);
	// Anywhere in the central square that keeps the shape inside it (the centre crop keeps it).
	const cx = ox + r + rand() * (s - 2 * r);
	const cy = oy + r + rand() * (s - 2 * r);
	const base = HELD_BACK_COLOURS[item.colour].map(v => v + (rand() * 30 - 15));
	// A second tone: the colour towards white or black.
	const tone = mix(base, rand() < 0.5 ? [255, 255, 255] : [0, 0, 0], 0.45 + rand() * 0.2);
	let defs = '';
	let paint = `fill="${rgb(base)}"`;
	if (item.fill === 'outline') {
		paint = `fill="none" stroke="${rgb(base)}" stroke-width="${Math.max(2, r * (0.15 + rand() * 0.1)).toFixed(1)}" stroke-linejoin="round"`;
	} else if (item.fill === 'hatch') {
		const step = 3 + Math.floor(rand() * 4);
		defs = `<pattern id="p" width="${step}" height="${step}" patternUnits="userSpaceOnUse" patternTransform="rotate(${Math.floor(rand() * 180)})"><rect width="${step}" height="${step}" fill="${rgb(base)}"/><rect width="${Math.max(1, step / 3).toFixed(1)}" height="${step}" fill="${rgb(tone)}"/></pattern>`;
		paint = 'fill="url(#p)"';
	} else if (item.fill === 'dots') {
		const step = 4 + Math.floor(rand() * 4);
		defs = `<pattern id="p" width="${step}" height="${step}" patternUnits="userSpaceOnUse"><rect width="${step}" height="${step}" fill="${rgb(base)}"/><circle cx="${step / 2}" cy="${step / 2}" r="${(step * 0.25).toFixed(1)}" fill="${rgb(tone)}"/></pattern>`;
		paint = 'fill="url(#p)"';
	} else if (item.fill === 'gradient') {
		const a = rand() * 2 * Math.PI;
		defs = `<linearGradient id="p" x1="${(0.5 - 0.5 * Math.cos(a)).toFixed(2)}" y1="${(0.5 - 0.5 * Math.sin(a)).toFixed(2)}" x2="${(0.5 + 0.5 * Math.cos(a)).toFixed(2)}" y2="${(0.5 + 0.5 * Math.sin(a)).toFixed(2)}"><stop offset="0" stop-color="${rgb(base)}"/><stop offset="1" stop-color="${rgb(tone)}"/></linearGradient>`;
		paint = 'fill="url(#p)"';
	}
	if (item.shape === 'ring') {
		// A ring is a thick circle's stroke, whatever the fill: its paint goes to the stroke.
		const width = Math.max(2, r * 0.35);
		const strokePaint = item.fill === 'solid' ? rgb(base) : 'url(#p)';
		return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs>${defs}</defs><circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${(r - width / 2).toFixed(1)}" fill="none" stroke="${strokePaint}" stroke-width="${width.toFixed(1)}"/></svg>`;
	}
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs>${defs}</defs>${shapeElement(item.shape, cx, cy, r, paint)}</svg>`;
}

/** Stores upright pixels so that the EXIF orientation `o` turns them upright again (verified by a round trip through sharp's auto-orient). */
async function storedFor(upright: sharp.Sharp, o: number): Promise<sharp.Sharp> {
	const png = await upright.png().toBuffer();
	switch (o) {
		case 2:
			return sharp(png).flop();
		case 3:
			return sharp(png).rotate(180);
		case 4:
			return sharp(png).flip();
		case 5:
			return sharp(await sharp(png).rotate(90).png().toBuffer()).flop();
		case 6:
			return sharp(png).rotate(270);
		case 7:
			return sharp(await sharp(png).rotate(90).png().toBuffer()).flip();
		default:
			return sharp(png).rotate(90);
	}
}

/** How one image is written: everything random is drawn here, in order, so that encoding can run in parallel. */
interface Plan {
	w: number;
	h: number;
	background: Buffer;
	overlay: Buffer;
	/** RGBA: the background's alpha; JPEG: the quality; palette: colours and dither; grey: PNG or JPEG. */
	alpha: number;
	quality: number;
	colours: number;
	dither: number;
	greyPng: boolean;
}

function plan(item: HeldBackItem, rand: () => number): Plan {
	const w = 88 + Math.floor(rand() * 120);
	const h = Math.max(72, Math.floor(w * (0.7 + rand() * 0.6)));
	const bg = new Raster(w, h);
	PAINTERS[item.background](bg, rand);
	const overlay = Buffer.from(shapeSvg(item, w, h, rand));
	return {
		w,
		h,
		background: bg.toBuffer(),
		overlay,
		alpha: Math.floor(rand() * 100),
		quality: item.kind === 'exif' ? 60 + Math.floor(rand() * 35) : 35 + Math.floor(rand() * 60),
		colours: 8 + Math.floor(rand() * 56),
		dither: rand(),
		greyPng: rand() < 0.5,
	};
}

async function encode(item: HeldBackItem, p: Plan): Promise<Buffer> {
	const { w, h } = p;
	if (item.kind === 'rgba') {
		// The scene on transparency: the background kept only faintly (alpha under 40 %), the shape opaque.
		const rgba = Buffer.alloc(w * h * 4);
		for (let i = 0; i < w * h; i++) {
			rgba[4 * i] = p.background[3 * i];
			rgba[4 * i + 1] = p.background[3 * i + 1];
			rgba[4 * i + 2] = p.background[3 * i + 2];
			rgba[4 * i + 3] = p.alpha;
		}
		return sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
			.composite([{ input: p.overlay }])
			.png()
			.toBuffer();
	}
	const flat = await sharp(p.background, { raw: { width: w, height: h, channels: 3 } })
		.composite([{ input: p.overlay }])
		.png()
		.toBuffer();
	const scene = sharp(flat);
	if (item.kind === 'jpeg') {
		return scene.jpeg({ quality: p.quality }).toBuffer();
	}
	if (item.kind === 'exif') {
		const stored = await storedFor(scene, item.orientation!);
		return stored.jpeg({ quality: p.quality }).withMetadata({ orientation: item.orientation }).toBuffer();
	}
	if (item.kind === 'grey') {
		const grey = scene.greyscale();
		return p.greyPng ? grey.png().toBuffer() : grey.jpeg({ quality: p.quality }).toBuffer();
	}
	return scene.png({ palette: true, colours: p.colours, dither: p.dither }).toBuffer();
}

const EXTENSIONS: Record<Kind, string> = { jpeg: 'jpg', exif: 'jpg', rgba: 'png', grey: 'png', palette: 'png' };

/** Writes `count` images into `root` (balanced over classes, image kinds and colours) and returns their labels. */
export async function writeHeldBackShapes(root: string, count = 300, seed = 28): Promise<HeldBackItem[]> {
	const rand = seeded(seed);
	const colours = Object.keys(HELD_BACK_COLOURS);
	const backgrounds: Background[] = ['bokeh', 'smooth', 'horizon', 'grain'];
	const kinds: Kind[] = ['jpeg', 'exif', 'rgba', 'grey', 'palette'];
	const items: HeldBackItem[] = [];
	const writes: (() => Promise<void>)[] = [];
	for (let i = 0; i < count; i++) {
		const { name, shape } = HELD_BACK_CLASSES[i % HELD_BACK_CLASSES.length];
		// 5 kinds and 8 classes: every class comes in every kind. Half the grey ones become colour JPEGs
		// (the model, trained on colour, reads few grey images: a tenth of the set is grey).
		let kind = kinds[i % kinds.length];
		if (kind === 'grey' && rand() < 0.5) {
			kind = 'jpeg';
		}
		const colour = colours[Math.floor(i / HELD_BACK_CLASSES.length) % colours.length];
		// An outlined circle would be a ring: circles and rings are filled (a ring's fill is its stroke's).
		const fills: Fill[] = shape === 'circle' || shape === 'ring' ? ['solid', 'hatch', 'dots', 'gradient'] : ['solid', 'outline', 'hatch', 'dots', 'gradient'];
		const item: HeldBackItem = {
			rel: '',
			cls: name,
			shape,
			colour,
			fill: fills[Math.floor(rand() * fills.length)],
			background: backgrounds[Math.floor(rand() * backgrounds.length)],
			kind,
			...(kind === 'exif' ? { orientation: 2 + Math.floor(rand() * 7) } : {}),
		};
		// The file name says nothing of the class (a name like the class's would be a leak in a listing).
		item.rel = `${String(i).padStart(3, '0')}-${item.kind}.${EXTENSIONS[kind]}`;
		const p = plan(item, rand);
		writes.push(async () => fs.writeFile(path.join(root, item.rel), await encode(item, p)));
		items.push(item);
	}
	// Encoding (libvips) runs a few at a time; the pixels were all drawn above, in order.
	let next = 0;
	await Promise.all(
		Array.from({ length: 4 }, async () => {
			while (next < writes.length) {
				await writes[next++]();
			}
		}),
	);
	return items;
}
