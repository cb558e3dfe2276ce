/** @file Bench part `ocr`: text recognition speed. */
import sharp from 'sharp';
import { bundledOcrModels, OcrEngine } from '../../src/core/ocr/ocrEngine';
import { median, rows, RUNS, timed } from '../common';

/** Text recognition speed: a text-free image (detection only finds nothing) and a screenshot (detection + recognition). */
export async function figureOcr(): Promise<void> {
	const engine = new OcrEngine(bundledOcrModels(), { threads: 1 });
	const blank = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#6a8caf' } }).png().toBuffer();
	const lines = ['Payment gateway unavailable', 'Retry later or contact support', 'Order 1234 was not charged', 'Settings  Profile  Logout'];
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="800"><rect width="100%" height="100%" fill="#fff"/>${lines
		.map((l, i) => `<text x="40" y="${120 + i * 90}" font-family="DejaVu Sans" font-size="${28 - i * 2}" fill="#202020">${l}</text>`)
		.join('')}</svg>`;
	const shot = await sharp(Buffer.from(svg)).png().toBuffer();
	await engine.recognize('warm-up.png', shot);
	const rate = async (bytes: Buffer): Promise<number> => {
		const runs: number[] = [];
		for (let r = 0; r < Math.max(3, RUNS); r++) {
			const { ms } = await timed(async () => {
				for (let i = 0; i < 5; i++) {
					await engine.recognize('bench.png', bytes);
				}
			});
			runs.push(5 / (ms / 1000));
		}
		return median(runs);
	};
	const blankRate = await rate(blank);
	const shotRate = await rate(shot);
	const found = (await engine.recognize('bench.png', shot)).length;
	await engine.dispose();
	rows.push({ figure: '9. text recognition, 1 thread: text-free 800×600 image (detection only) / 1280×800 screenshot (detection + recognition)', value: `${blankRate.toFixed(1)} / ${shotRate.toFixed(1)} img/s (${found} of ${lines.length} lines read)` });
}
