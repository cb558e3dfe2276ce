/**
 * @file Generated images with known text, for the OCR tests: screenshots (light and dark), signs,
 * captioned pictures and diagrams; several fonts and sizes, a few degrees of rotation, PNG and JPEG.
 */
import sharp from 'sharp';
import { seeded } from './shapes';

const WORDS = (
	'login failed invalid password payment service timeout retry build deploy error warning settings profile account ' +
	'upload download network server client database cache queue worker gateway cluster storage backup restore ' +
	'invoice order checkout shipping customer report dashboard export import search filter sort refresh cancel submit ' +
	'welcome station platform exit entrance parking museum library garden coffee bakery market street avenue bridge'
).split(' ');
const FONTS = ['DejaVu Sans', 'Liberation Sans', 'Liberation Serif', 'DejaVu Sans Mono', 'DejaVu Serif'];

export interface TextImage {
	name: string;
	bytes: Buffer;
	/** The words drawn, lower case. */
	words: string[];
	kind: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export async function textImages(count: number, seed = 3): Promise<TextImage[]> {
	const rand = seeded(seed);
	const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
	const phrase = (n: number): string[] => Array.from({ length: n }, () => pick(WORDS));
	const out: TextImage[] = [];
	const kinds = ['screenshot', 'dark screenshot', 'sign', 'caption', 'diagram'];
	for (let i = 0; i < count; i++) {
		const kind = kinds[i % kinds.length];
		const font = pick(FONTS);
		const angle = (rand() * 6 - 3).toFixed(1);
		const words: string[] = [];
		let body = '';
		let w = 640;
		let h = 360;
		if (kind === 'screenshot' || kind === 'dark screenshot') {
			const dark = kind === 'dark screenshot';
			const [bg, fg, panel] = dark ? ['#1e1e1e', '#e0e0e0', '#2d2d2d'] : ['#ffffff', '#202020', '#f0f0f5'];
			const title = phrase(2);
			const msg = phrase(3);
			const button = phrase(1);
			words.push(...title, ...msg, ...button);
			const size = 16 + Math.floor(rand() * 10);
			body = `<rect width="100%" height="100%" fill="${bg}"/><rect x="0" y="0" width="${w}" height="56" fill="${panel}"/>
<text x="24" y="38" font-family="${font}" font-size="${size + 6}" font-weight="bold" fill="${fg}">${esc(title.join(' '))}</text>
<text x="24" y="150" font-family="${font}" font-size="${size}" fill="${dark ? '#ff8080' : '#b00020'}">${esc(msg.join(' '))}</text>
<rect x="24" y="220" width="180" height="48" rx="6" fill="#0a64d0"/><text x="46" y="252" font-family="${font}" font-size="${size}" fill="#ffffff">${esc(button[0])}</text>`;
		} else if (kind === 'sign') {
			const text = phrase(2);
			words.push(...text);
			w = 480;
			h = 240;
			body = `<rect width="100%" height="100%" fill="${pick(['#0b6b2b', '#0a3d91', '#8a1c1c', '#f2c200'])}"/><rect x="16" y="16" width="448" height="208" fill="none" stroke="#ffffff" stroke-width="6"/>
<text x="240" y="140" text-anchor="middle" font-family="${font}" font-size="${36 + Math.floor(rand() * 10)}" font-weight="bold" fill="#ffffff" transform="rotate(${angle} 240 120)">${esc(text.join(' ').toUpperCase())}</text>`;
		} else if (kind === 'caption') {
			const text = phrase(4);
			words.push(...text);
			body = `<rect width="100%" height="100%" fill="#6a8caf"/><circle cx="420" cy="130" r="70" fill="#f4d35e"/><rect x="0" y="220" width="640" height="140" fill="#3d5a40"/>
<rect x="0" y="300" width="640" height="60" fill="#000000" fill-opacity="0.6"/><text x="20" y="340" font-family="${font}" font-size="${18 + Math.floor(rand() * 8)}" fill="#ffffff">${esc(text.join(' '))}</text>`;
		} else {
			const a = phrase(1);
			const b = phrase(1);
			const c = phrase(1);
			words.push(...a, ...b, ...c);
			const size = 16 + Math.floor(rand() * 8);
			body = `<rect width="100%" height="100%" fill="#ffffff"/><g transform="rotate(${angle} 320 180)">
<rect x="40" y="60" width="160" height="70" fill="#e8f0fe" stroke="#1a73e8" stroke-width="2"/><text x="120" y="102" text-anchor="middle" font-family="${font}" font-size="${size}" fill="#1a1a1a">${esc(a[0])}</text>
<rect x="420" y="60" width="160" height="70" fill="#fce8e6" stroke="#d93025" stroke-width="2"/><text x="500" y="102" text-anchor="middle" font-family="${font}" font-size="${size}" fill="#1a1a1a">${esc(b[0])}</text>
<rect x="230" y="240" width="180" height="70" fill="#e6f4ea" stroke="#188038" stroke-width="2"/><text x="320" y="282" text-anchor="middle" font-family="${font}" font-size="${size}" fill="#1a1a1a">${esc(c[0])}</text>
<line x1="200" y1="95" x2="420" y2="95" stroke="#555" stroke-width="3"/><line x1="320" y1="95" x2="320" y2="240" stroke="#555" stroke-width="3"/></g>`;
		}
		const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${body}</svg>`;
		const img = sharp(Buffer.from(svg));
		const jpeg = i % 3 === 2;
		const bytes = jpeg ? await img.jpeg({ quality: 85 }).toBuffer() : await img.png().toBuffer();
		out.push({ name: `${kind.replace(' ', '-')}-${i}.${jpeg ? 'jpg' : 'png'}`, bytes, words: words.map(x => x.toLowerCase()), kind });
	}
	return out;
}
