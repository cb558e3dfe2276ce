/**
 * @file A harder labelled set than test/shapes.ts, for measuring classes taught by example with the
 * model tools/train_varied_clip.py trains (test/fixtures/tiny-clip-varied): each
 * image has one main shape (its class) drawn over a plain, gradient, noise or striped background,
 * in a near-miss colour (a named colour pulled towards another), at a random size and position,
 * and often a second, smaller shape of another class as a distraction. Seeded: the same set on
 * every run. Used by test/core/labels/fewShotHard.test.ts and `npm run bench -- --only fewshot`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { COLOUR_RGB, polygonPoints, seeded } from './shapes';

/** The eight shapes tools/train_varied_clip.py trained test/fixtures/tiny-clip-varied on. */
export const HARD_SHAPES = ['circle', 'square', 'triangle', 'star', 'cross', 'diamond', 'hexagon', 'ring'];

export interface HardItem {
	rel: string;
	shape: string;
	colour: string;
	/** The distracting second shape, if any. */
	distractor?: string;
	background: 'plain' | 'gradient' | 'noise' | 'stripes';
}

const WARM = new Set(['red', 'orange', 'yellow']);
export const isWarm = (item: HardItem): boolean => WARM.has(item.colour);
/** An arbitrary group no prompt names: circles and stars against the rest. */
export const isRoundish = (item: HardItem): boolean => item.shape === 'circle' || item.shape === 'star';

function shapeSvg(shape: string, cx: number, cy: number, r: number, fill: string): string {
	if (shape === 'circle') {
		return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r.toFixed(1)}" fill="${fill}"/>`;
	}
	if (shape === 'ring') {
		const w = Math.max(2, r * 0.35);
		return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${(r - w / 2).toFixed(1)}" fill="none" stroke="${fill}" stroke-width="${w.toFixed(1)}"/>`;
	}
	if (shape === 'square') {
		const q = r * 0.85;
		return `<rect x="${(cx - q).toFixed(1)}" y="${(cy - q).toFixed(1)}" width="${(2 * q).toFixed(1)}" height="${(2 * q).toFixed(1)}" fill="${fill}"/>`;
	}
	const pts = polygonPoints(shape, cx, cy, r);
	return `<polygon points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}" fill="${fill}"/>`;
}

const rgb = (c: number[]): string => `rgb(${c.map(v => Math.max(0, Math.min(255, Math.round(v)))).join(',')})`;

/** A named colour pulled up to 35 % towards another named colour, then jittered: near misses. */
function nearMiss(colour: string, rand: () => number): number[] {
	const names = Object.keys(COLOUR_RGB);
	const other = COLOUR_RGB[names[Math.floor(rand() * names.length)]];
	const t = rand() * 0.35;
	return COLOUR_RGB[colour].map((v, i) => v * (1 - t) + other[i] * t + (rand() * 40 - 20));
}

function backgroundSvg(kind: HardItem['background'], w: number, h: number, rand: () => number): string {
	const grey = (): number[] => {
		const g = [20, 128, 240][Math.floor(rand() * 3)] + rand() * 30 - 15;
		return [g, g, g];
	};
	const pastel = (): number[] => [0, 0, 0].map(() => 60 + rand() * 180);
	if (kind === 'plain') {
		return `<rect width="100%" height="100%" fill="${rgb(grey())}"/>`;
	}
	if (kind === 'gradient') {
		return `<defs><linearGradient id="g" x1="0" y1="0" x2="${rand().toFixed(2)}" y2="1"><stop offset="0" stop-color="${rgb(pastel())}"/><stop offset="1" stop-color="${rgb(pastel())}"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>`;
	}
	if (kind === 'stripes') {
		const a = rgb(pastel());
		const b = rgb(grey());
		const step = 6 + Math.floor(rand() * 10);
		const bars = Array.from({ length: Math.ceil((w + h) / step) }, (_, i) => (i % 2 ? `<rect x="${i * step}" y="-${h}" width="${step}" height="${3 * h}" fill="${b}"/>` : '')).join('');
		return `<rect width="100%" height="100%" fill="${a}"/><g transform="rotate(${Math.floor(rand() * 180)} ${w / 2} ${h / 2})">${bars}</g>`;
	}
	// Noise: blocks of random grey levels around a random base.
	const base = grey()[0];
	const cell = 4 + Math.floor(rand() * 5);
	let blocks = '';
	for (let y = 0; y < h; y += cell) {
		for (let x = 0; x < w; x += cell) {
			const v = base + rand() * 90 - 45;
			blocks += `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${rgb([v, v, v])}"/>`;
		}
	}
	return blocks;
}

async function hardImage(item: HardItem, rand: () => number): Promise<Buffer> {
	const w = 72 + Math.floor(rand() * 88);
	const h = Math.max(64, Math.floor(w * (0.7 + rand() * 0.7)));
	const s = Math.min(w, h);
	const ox = (w - s) / 2;
	const oy = (h - s) / 2;
	const r = s * (0.16 + rand() * 0.16);
	// Anywhere in the central square that keeps the shape inside it (the centre crop keeps it).
	const cx = ox + r + rand() * (s - 2 * r);
	const cy = oy + r + rand() * (s - 2 * r);
	let body = shapeSvg(item.shape, cx, cy, r, rgb(nearMiss(item.colour, rand)));
	if (item.distractor) {
		const colours = Object.keys(COLOUR_RGB);
		const r2 = r * (0.35 + rand() * 0.25);
		// In a corner of the central square away from the main shape.
		const dx = cx < ox + s / 2 ? ox + s - r2 - 1 : ox + r2 + 1;
		const dy = cy < oy + s / 2 ? oy + s - r2 - 1 : oy + r2 + 1;
		body = shapeSvg(item.distractor, dx, dy, r2, rgb(nearMiss(colours[Math.floor(rand() * colours.length)], rand))) + body;
	}
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${backgroundSvg(item.background, w, h, rand)}${body}</svg>`;
	return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Writes `count` images into `root` (balanced over shapes and colours) and returns their labels. */
export async function writeHardShapes(root: string, count = 300, seed = 16): Promise<HardItem[]> {
	const rand = seeded(seed);
	const colours = Object.keys(COLOUR_RGB);
	const backgrounds: HardItem['background'][] = ['plain', 'gradient', 'noise', 'stripes'];
	const items: HardItem[] = [];
	for (let i = 0; i < count; i++) {
		const shape = HARD_SHAPES[i % HARD_SHAPES.length];
		const colour = colours[Math.floor(i / HARD_SHAPES.length) % colours.length];
		const others = HARD_SHAPES.filter(s => s !== shape);
		const item: HardItem = {
			rel: `${String(i).padStart(3, '0')}-${colour}-${shape}.png`,
			shape,
			colour,
			background: backgrounds[Math.floor(rand() * backgrounds.length)],
			...(rand() < 0.4 ? { distractor: others[Math.floor(rand() * others.length)] } : {}),
		};
		await fs.writeFile(path.join(root, item.rel), await hardImage(item, rand));
		items.push(item);
	}
	return items;
}
