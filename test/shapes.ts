/**
 * @file Generated shape images like the tiny model's training data (tools/train_tiny_clip.py draws
 * them with PIL; here the same shapes, colours, backgrounds, sizes and positions as SVG through
 * sharp), for tests that need more labelled images than the fixtures hold.
 */
import sharp from 'sharp';

export const COLOUR_RGB: Record<string, [number, number, number]> = {
	red: [220, 30, 30],
	green: [30, 170, 40],
	blue: [30, 60, 220],
	yellow: [240, 220, 20],
	purple: [140, 40, 180],
	orange: [250, 140, 10],
};
export const SHAPE_NAMES = ['circle', 'square', 'triangle', 'star', 'cross'];
const BACKGROUNDS: [number, number, number][] = [
	[250, 250, 250],
	[10, 10, 10],
	[128, 128, 128],
];

/** A small seeded generator (mulberry32), so the images are the same on every run. */
export function seeded(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function points(shape: string, cx: number, cy: number, r: number): string {
	const pts: [number, number][] = [];
	if (shape === 'triangle') {
		for (const a of [-Math.PI / 2, Math.PI / 6, (5 * Math.PI) / 6]) {
			pts.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
		}
	} else if (shape === 'star') {
		for (let i = 0; i < 10; i++) {
			const a = -Math.PI / 2 + (i * Math.PI) / 5;
			const rr = i % 2 === 0 ? r : r * 0.45;
			pts.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
		}
	} else {
		const t = r * 0.35;
		pts.push([cx - t, cy - r], [cx + t, cy - r], [cx + t, cy - t], [cx + r, cy - t], [cx + r, cy + t], [cx + t, cy + t], [cx + t, cy + r], [cx - t, cy + r], [cx - t, cy + t], [cx - r, cy + t], [cx - r, cy - t], [cx - t, cy - t]);
	}
	return pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
}

/** A PNG of one shape of one colour, with random background, size and position. */
export async function shapeImage(colour: string, shape: string, rand: () => number): Promise<Buffer> {
	const w = 72 + Math.floor(rand() * 88);
	const h = Math.max(64, Math.floor(w * (0.7 + rand() * 0.7)));
	const jitter = (c: number): number => Math.max(0, Math.min(255, c + Math.floor(rand() * 37) - 18));
	const bg = BACKGROUNDS[Math.floor(rand() * 3)].map(jitter);
	const fill = COLOUR_RGB[colour].map(jitter);
	const s = Math.min(w, h);
	const r = s * (rand() < 0.5 ? 0.1 + rand() * 0.05 : 0.25 + rand() * 0.07);
	const off = s * 0.24;
	const [dx, dy] = [
		[0, 0],
		[-off, 0],
		[off, 0],
		[0, -off],
		[0, off],
	][Math.floor(rand() * 5)];
	const cx = w / 2 + dx + (rand() * 4 - 2);
	const cy = h / 2 + dy + (rand() * 4 - 2);
	const rgb = `rgb(${fill.join(',')})`;
	const body =
		shape === 'circle'
			? `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${rgb}"/>`
			: shape === 'square'
				? `<rect x="${cx - r * 0.85}" y="${cy - r * 0.85}" width="${r * 1.7}" height="${r * 1.7}" fill="${rgb}"/>`
				: `<polygon points="${points(shape, cx, cy, r)}" fill="${rgb}"/>`;
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="rgb(${bg.join(',')})"/>${body}</svg>`;
	return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * The corners of a polygon shape centred at (cx, cy) with radius r: triangle, diamond, hexagon, star,
 * and anything else a cross (the generated sets of hardShapes.ts and heldBackShapes.ts draw them).
 */
export function polygonPoints(shape: string, cx: number, cy: number, r: number): [number, number][] {
	const pts: [number, number][] = [];
	if (shape === 'triangle') {
		for (const a of [-Math.PI / 2, Math.PI / 6, (5 * Math.PI) / 6]) {
			pts.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
		}
	} else if (shape === 'diamond') {
		pts.push([cx, cy - r], [cx + r * 0.7, cy], [cx, cy + r], [cx - r * 0.7, cy]);
	} else if (shape === 'hexagon') {
		for (let i = 0; i < 6; i++) {
			pts.push([cx + r * Math.cos((i * Math.PI) / 3), cy + r * Math.sin((i * Math.PI) / 3)]);
		}
	} else if (shape === 'star') {
		for (let i = 0; i < 10; i++) {
			const a = -Math.PI / 2 + (i * Math.PI) / 5;
			pts.push([cx + (i % 2 ? r * 0.45 : r) * Math.cos(a), cy + (i % 2 ? r * 0.45 : r) * Math.sin(a)]);
		}
	} else {
		const t = r * 0.35;
		pts.push([cx - t, cy - r], [cx + t, cy - r], [cx + t, cy - t], [cx + r, cy - t], [cx + r, cy + t], [cx + t, cy + t], [cx + t, cy + r], [cx - t, cy + r], [cx - t, cy + t], [cx - r, cy + t], [cx - r, cy - t], [cx - t, cy - t]);
	}
	return pts;
}
