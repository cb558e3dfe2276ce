/** @file Which images likely show text, from the vectors the index has already (clipSearch.ocr "auto"). */
import { dot, softmax } from '../../core/common/vectors';
import type { ClipEncoder } from '../../core/model/runtime/encoder';

/**
 * [Note: which images have text] clipSearch.ocr "auto" reads the text of the images CLIP's own
 * zero-shot classifier takes for text-bearing (a screenshot, a document, a diagram, a sign, a slide,
 * text) rather than a photo, an icon, a drawing or a pattern: the vectors are there already, so
 * choosing costs nothing, and recognition (the expensive part) is spent where text is likely.
 */
const TEXT_LIKE = ['a screenshot', 'a document', 'a diagram', 'a sign', 'a slide', 'text'];
const NOT_TEXT = ['a photo', 'an icon', 'a drawing', 'a pattern'];

export async function likelyText(enc: ClipEncoder): Promise<(vector: Float32Array) => boolean> {
	const prompts = await enc.encodeTexts([...TEXT_LIKE, ...NOT_TEXT]); // remembered by the encoder
	return vector => {
		const p = softmax(prompts.map(v => enc.spec.logitScale * dot(v, vector)));
		return p.slice(0, TEXT_LIKE.length).reduce((a, b) => a + b, 0) >= 0.5;
	};
}
