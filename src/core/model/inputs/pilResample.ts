/**
 * @file PIL's resampling (Pillow's Resample.c), to the grey level, for images that are enlarged.
 *
 * [Note: enlarging like PIL] libvips enlarges with an interpolator that ignores the kernel and
 * places samples differently from PIL, so an image smaller than the model's input (an icon, a
 * thumbnail) came out ~5 grey levels away on average (max 72), and a tiny random-weight model
 * moved by up to 0.005 in cosine. Every runtime the product follows (transformers'
 * CLIPImageProcessor, open_clip, Immich, rclip) resizes with PIL, so such images are resized here
 * with PIL's arithmetic: separable passes (horizontal, then vertical) with the filter widened by
 * the scale factor, weights normalised and turned into 22-bit fixed point, 8-bit rounding between
 * and after the passes. Only enlargements come here: their sources are at most the model's input
 * on one side, a few thousand pixels, cheaper in JavaScript than the round trip to libvips.
 * Downscaling stays with libvips (within ~1 grey level of PIL, test/core/model/inputs/preprocess.test.ts).
 */

export type PilFilter = 'bicubic' | 'bilinear' | 'lanczos';

const PRECISION_BITS = 32 - 8 - 2;

const FILTERS: Record<PilFilter, { support: number; weight: (x: number) => number }> = {
	bicubic: {
		support: 2,
		weight: x => {
			// Keys' cubic with a = -0.5, as Pillow writes it.
			const a = -0.5;
			const t = Math.abs(x);
			if (t < 1) {
				return ((a + 2) * t - (a + 3)) * t * t + 1;
			}
			if (t < 2) {
				return (((t - 5) * t + 8) * t - 4) * a;
			}
			return 0;
		},
	},
	bilinear: { support: 1, weight: x => Math.max(0, 1 - Math.abs(x)) },
	lanczos: {
		support: 3,
		weight: x => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0),
	},
};

function sinc(x: number): number {
	if (x === 0) {
		return 1;
	}
	const px = Math.PI * x;
	return Math.sin(px) / px;
}

interface Coefficients {
	/** Per output pixel: first source pixel and how many. */
	bounds: Int32Array;
	/** Per output pixel, `ksize` fixed-point weights. */
	weights: Int32Array;
	ksize: number;
}

/** precompute_coeffs + normalize_coeffs_8bpc. */
function coefficients(inSize: number, outSize: number, filter: PilFilter): Coefficients {
	const { support: baseSupport, weight } = FILTERS[filter];
	const scale = inSize / outSize;
	const filterScale = Math.max(1, scale);
	const support = baseSupport * filterScale;
	const ksize = Math.ceil(support) * 2 + 1;
	const bounds = new Int32Array(outSize * 2);
	const weights = new Int32Array(outSize * ksize);
	const k = new Float64Array(ksize);
	for (let xx = 0; xx < outSize; xx++) {
		const center = (xx + 0.5) * scale;
		const xmin = Math.max(0, Math.trunc(center - support + 0.5));
		const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
		let total = 0;
		for (let x = 0; x < xmax; x++) {
			k[x] = weight((x + xmin - center + 0.5) / filterScale);
			total += k[x];
		}
		for (let x = 0; x < xmax; x++) {
			const w = total !== 0 ? k[x] / total : k[x];
			weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
		}
		bounds[xx * 2] = xmin;
		bounds[xx * 2 + 1] = xmax;
	}
	return { bounds, weights, ksize };
}

function clip8(sum: number): number {
	if (sum >= 2 ** (PRECISION_BITS + 8)) {
		return 255;
	}
	if (sum <= 0) {
		return 0;
	}
	return Math.floor(sum / 2 ** PRECISION_BITS);
}

/**
 * Resizes interleaved 8-bit pixels (`channels` per pixel) from width × height to outWidth ×
 * outHeight exactly as PIL's Image.resize(size, filter) does.
 */
export function resamplePil(
	pixels: Uint8Array,
	width: number,
	height: number,
	channels: number,
	outWidth: number,
	outHeight: number,
	filter: PilFilter,
): Uint8Array {
	let src = pixels;
	const horizontal = outWidth !== width;
	const vertical = outHeight !== height;
	const vc = vertical ? coefficients(height, outHeight, filter) : undefined;
	let rowOffset = 0;
	if (horizontal) {
		const hc = coefficients(width, outWidth, filter);
		// Only the rows the vertical pass reads are resampled; its bounds are shifted to match.
		let first = 0;
		let last = height;
		if (vc) {
			first = vc.bounds[0];
			last = vc.bounds[(outHeight - 1) * 2] + vc.bounds[(outHeight - 1) * 2 + 1];
		}
		const rows = last - first;
		const out = new Uint8Array(outWidth * rows * channels);
		const half = 1 << (PRECISION_BITS - 1);
		for (let y = 0; y < rows; y++) {
			const inRow = (y + first) * width * channels;
			const outRow = y * outWidth * channels;
			for (let xx = 0; xx < outWidth; xx++) {
				const xmin = hc.bounds[xx * 2];
				const xmax = hc.bounds[xx * 2 + 1];
				const kOff = xx * hc.ksize;
				for (let c = 0; c < channels; c++) {
					let sum = half;
					for (let x = 0; x < xmax; x++) {
						sum += src[inRow + (x + xmin) * channels + c] * hc.weights[kOff + x];
					}
					out[outRow + xx * channels + c] = clip8(sum);
				}
			}
		}
		src = out;
		rowOffset = first;
	}
	if (!vc) {
		return src === pixels ? new Uint8Array(pixels) : src;
	}
	const out = new Uint8Array(outWidth * outHeight * channels);
	const half = 1 << (PRECISION_BITS - 1);
	const stride = outWidth * channels;
	for (let yy = 0; yy < outHeight; yy++) {
		const ymin = vc.bounds[yy * 2] - rowOffset;
		const ymax = vc.bounds[yy * 2 + 1];
		const kOff = yy * vc.ksize;
		for (let i = 0; i < stride; i++) {
			let sum = half;
			for (let y = 0; y < ymax; y++) {
				sum += src[(y + ymin) * stride + i] * vc.weights[kOff + y];
			}
			out[yy * stride + i] = clip8(sum);
		}
	}
	return out;
}
