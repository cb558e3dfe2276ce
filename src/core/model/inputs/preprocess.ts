/**
 * @file Image decoding and CLIP preprocessing with sharp (libvips), matching Hugging Face's
 * CLIPImageProcessor: convert to RGB, resize the shortest side with the configured resample,
 * centre crop, rescale, normalise, NCHW float32.
 *
 * [Note: preprocessing parity] Each step follows CLIPImageProcessor's arithmetic: the resized
 * size is (s, int(s * long / short)), the crop offset is (size - crop) // 2, and the image is
 * rounded to 8-bit after resizing, as PIL does. The remaining difference comes from the
 * resampler: PIL convolves with a bicubic (a = -0.5) kernel widened by the scale factor, and
 * libvips does the same with its Catmull-Rom 'cubic' kernel but may first box-shrink large
 * integer factors. test/core/model/inputs/preprocess.test.ts measures the gap against tensors made by
 * transformers (tools/make_preprocess_reference.py).
 *
 * [Note: transparency] Transparent pixels are flattened onto white. PIL's convert('RGB') drops
 * alpha and keeps whatever colour the transparent pixels store (often black), which turns clip
 * art and icons into shapes on black; white is how such images are seen in documents and
 * on the web, and what a person searching for "an icon of a bell" expects.
 */
import sharp from 'sharp';
import { ClipError } from '../../common/errors';
import { type ImageInfo, MAX_IMAGE_SIDE } from '../../common/imageInfo';
import type { PreprocessSpec } from '../layouts/modelSpec';
import { resamplePil, type PilFilter } from './pilResample';

// [Note: sharp's cache] libvips keeps up to 50 MB of recent operations for reuse; here every image is
// decoded once, so nothing was ever reused and the memory stayed held for the life of the process.
sharp.cache(false);

/** The sharp kernels PIL's filters map to, for enlargements resized with PIL's arithmetic. */
const PIL_FILTERS: Partial<Record<PreprocessSpec['kernel'], PilFilter>> = { cubic: 'bicubic', linear: 'bilinear', lanczos3: 'lanczos' };
/** Sources up to this size are enlarged in JavaScript (at most the model's input on one side). */
const PIL_RESAMPLE_MAX_PIXELS = 4_000_000;

export type { ImageInfo } from '../../common/imageInfo';

export interface DecodeOptions {
	/** Refuse images with more pixels than this (decompression bombs, giant scans). */
	maxPixels?: number;
	/**
	 * Let libvips shrink JPEG/WebP as hard as it can while decoding. Default: when the image is at
	 * least twice the model's input (see [Note: shrink on load]).
	 */
	fastShrinkOnLoad?: boolean;
	/** Give up on one image after this long (SVG bombs and the like). */
	timeoutSeconds?: number;
	/** Called with the source pixel count once it is known, before the full decode (memory budget). */
	beforeDecode?: (pixels: number) => Promise<void>;
}

/** A decoded, resized and cropped image: 8-bit RGB, interleaved (HWC). */
export interface DecodedImage {
	rgb: Buffer;
	width: number;
	height: number;
	/** What the file was: its format and its size as seen (after EXIF orientation). */
	source?: ImageInfo;
}

/** sharp's format name, with HEIF told apart: AVIF (AV1) or HEIC. */
function formatName(meta: sharp.Metadata): string {
	if (meta.format === 'heif') {
		return meta.compression === 'av1' ? 'avif' : 'heic';
	}
	return meta.format ?? 'unknown';
}

/** Reads only the header: the format and the size as seen. Undefined when it cannot be read. */
export async function readImageInfo(input: Buffer | string): Promise<ImageInfo | undefined> {
	try {
		const meta = await sharp(input, { limitInputPixels: false, failOn: 'none' }).metadata();
		const width = meta.autoOrient?.width ?? meta.width;
		const height = meta.autoOrient?.height ?? meta.height;
		return width && height ? { format: formatName(meta), width, height } : undefined;
	} catch {
		return undefined;
	}
}

export const DEFAULT_MAX_PIXELS = 100_000_000;
/** The target size of the resize step, CLIPImageProcessor's get_resize_output_image_size. */
export function resizeTarget(width: number, height: number, spec: PreprocessSpec): { width: number; height: number } {
	const resize = spec.resize;
	if (!resize) {
		return { width, height };
	}
	if ('height' in resize) {
		return { width: resize.width, height: resize.height };
	}
	const s = resize.shortestEdge;
	return width <= height ? { width: s, height: Math.trunc((s * height) / width) } : { width: Math.trunc((s * width) / height), height: s };
}

function formatLabel(format: string | undefined): string {
	return format ? format.toUpperCase() : 'unknown format';
}

/**
 * Decodes one image file's bytes (or the file at a path, read by libvips as it goes: big files)
 * into the model's input size. `file` is only used in error messages. Throws ClipError
 * DecodeFailed / ImageTooLarge / UnsupportedFormat.
 */
export async function decodeImage(file: string, bytes: Buffer | { path: string }, spec: PreprocessSpec, options: DecodeOptions = {}): Promise<DecodedImage> {
	const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
	if (Buffer.isBuffer(bytes) && bytes.length === 0) {
		throw new ClipError('DecodeFailed', `${file}: the file is empty.`, { file });
	}
	const input = Buffer.isBuffer(bytes) ? bytes : bytes.path;
	let meta: sharp.Metadata;
	try {
		meta = await sharp(input, { limitInputPixels: false, failOn: 'none' }).metadata();
	} catch (err) {
		const message = firstLine(err);
		if (/unsupported image format/i.test(message)) {
			throw new ClipError('UnsupportedFormat', `${file}: not an image format this build can read (${message}).`, { file, cause: err });
		}
		throw new ClipError('DecodeFailed', `${file}: cannot read the image: the file is damaged, or a variant this build cannot decode (${message}).`, { file, cause: err });
	}
	const isSvg = meta.format === 'svg';
	let density: number | undefined;
	if (isSvg && meta.width && meta.height) {
		// Rasterise vector art at a density that gives the model at least its input size.
		const want = Math.max(spec.height, spec.width);
		density = Math.min(2400, Math.max(72, (72 * want) / Math.min(meta.width, meta.height)));
	}
	const w0 = meta.autoOrient?.width ?? meta.width;
	const h0 = meta.autoOrient?.height ?? meta.height;
	if (!w0 || !h0) {
		throw new ClipError('DecodeFailed', `${file}: the ${formatLabel(meta.format)} file declares no size.`, { file });
	}
	if (w0 > MAX_IMAGE_SIDE || h0 > MAX_IMAGE_SIDE) {
		// [Note: recorded sizes pass their own check] in common/imageInfo.ts.
		throw new ClipError('ImageTooLarge', `${file}: ${w0}×${h0} pixels: a side longer than ${MAX_IMAGE_SIDE.toLocaleString('en')} pixels is not indexed.`, { file });
	}
	const scale = density ? density / 72 : 1;
	const w = Math.max(1, Math.round(w0 * scale));
	const h = Math.max(1, Math.round(h0 * scale));
	if (w * h > maxPixels) {
		throw new ClipError(
			'ImageTooLarge',
			`${file}: ${w}×${h} pixels is over the limit of ${(maxPixels / 1e6).toFixed(0)} megapixels (raise maxImageMegapixels to index it).`,
			{ file },
		);
	}
	const target = resizeTarget(w, h, spec);
	await options.beforeDecode?.(w * h);
	try {
		let img = sharp(input, {
			limitInputPixels: maxPixels,
			failOn: 'error',
			autoOrient: true,
			density,
			pages: 1,
		})
			.timeout({ seconds: options.timeoutSeconds ?? 30 })
			.flatten({ background: { r: 255, g: 255, b: 255 } })
			.toColourspace('srgb');
		const pilFilter = PIL_FILTERS[spec.kernel];
		if (spec.resize && pilFilter && (target.width > w || target.height > h) && w * h <= PIL_RESAMPLE_MAX_PIXELS) {
			// [Note: enlarging like PIL] in pilResample.ts.
			const raw = await img.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
			const resized = resamplePil(raw.data, raw.info.width, raw.info.height, raw.info.channels, target.width, target.height, pilFilter);
			img = sharp(resized, { raw: { width: target.width, height: target.height, channels: raw.info.channels as 3 } });
		} else if (spec.resize) {
			img = img.resize(target.width, target.height, {
				fit: 'fill',
				kernel: spec.kernel,
				// [Note: shrink on load] libjpeg's DCT scaling and WebP's scaled decoding make a big photo
				// small while it is decoded, for photos (a megapixel and more) at least twice the input
				// size. Against a full decode + resize, on 60 wallpaper photos (`npm run bench -- --only
				// decode` prints it): embeddings' cosine mean 0.99997, min 0.99939 (tiny model), 1.00000
				// (ViT-B/32); decoding 3-11 % faster (entropy decoding, which no scaling skips, is most of
				// the cost). Smaller images are decoded in full, as PIL does (there a scaled decode moved
				// pixels by more than the parity tests allow).
				fastShrinkOnLoad: options.fastShrinkOnLoad ?? (w * h >= 1_000_000 && Math.min(w, h) >= 2 * Math.min(target.width, target.height)),
			});
		}
		if (spec.crop) {
			const offset = (excess: number): number => Math.max(0, spec.cropRounding === 'halfEven' ? roundHalfEven(excess / 2) : Math.floor(excess / 2));
			const left = offset(target.width - spec.crop.width);
			const top = offset(target.height - spec.crop.height);
			img = img.extract({
				left,
				top,
				width: Math.min(spec.crop.width, target.width),
				height: Math.min(spec.crop.height, target.height),
			});
		}
		const { data, info } = await img.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
		if (info.channels !== 3) {
			throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
		}
		if (info.width !== spec.width || info.height !== spec.height) {
			// Smaller than the crop (an image tinier than the model input with no resize): pad is not
			// CLIP's behaviour, so scale the crop itself to the input size.
			const fixed = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
				.resize(spec.width, spec.height, { fit: 'fill', kernel: spec.kernel })
				.raw()
				.toBuffer();
			return { rgb: fixed, width: spec.width, height: spec.height, source: { format: formatName(meta), width: w0, height: h0 } };
		}
		return { rgb: data, width: info.width, height: info.height, source: { format: formatName(meta), width: w0, height: h0 } };
	} catch (err) {
		if (ClipError.is(err)) {
			throw err;
		}
		const message = firstLine(err);
		if (/pixel limit/i.test(message)) {
			throw new ClipError('ImageTooLarge', `${file}: the image is over the pixel limit (${message}).`, { file, cause: err });
		}
		throw new ClipError('DecodeFailed', `${file}: cannot decode the ${formatLabel(meta.format)} image (${message}).`, { file, cause: err });
	}
}

/** Python's round(): halves to the even neighbour (rclip's crop offset). */
function roundHalfEven(x: number): number {
	const f = Math.floor(x);
	const d = x - f;
	return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

function firstLine(err: unknown): string {
	return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

/**
 * Rescales and normalises decoded images into one NCHW float32 batch. One pass over the pixels,
 * into a buffer the caller may reuse between batches.
 */
export function toPixelBatch(images: DecodedImage[], spec: PreprocessSpec, reuse?: Float32Array): Float32Array {
	const plane = spec.height * spec.width;
	const size = images.length * 3 * plane;
	const out = reuse && reuse.length === size ? reuse : new Float32Array(size);
	const rescale = spec.rescaleFactor ?? 1;
	const mean = spec.mean ?? [0, 0, 0];
	const std = spec.std ?? [1, 1, 1];
	// (x * rescale - mean) / std == x * a + b, per channel
	const a = [rescale / std[0], rescale / std[1], rescale / std[2]];
	const b = [-mean[0] / std[0], -mean[1] / std[1], -mean[2] / std[2]];
	images.forEach((img, n) => {
		const base = n * 3 * plane;
		const rgb = img.rgb;
		for (let p = 0, q = 0; p < plane; p++, q += 3) {
			out[base + p] = rgb[q] * a[0] + b[0];
			out[base + plane + p] = rgb[q + 1] * a[1] + b[1];
			out[base + 2 * plane + p] = rgb[q + 2] * a[2] + b[2];
		}
	});
	return out;
}
