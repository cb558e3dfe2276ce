/**
 * @file Reading the files of a model folder: JSON configs, tokenizer files and graphs, each through
 * the one bounded reader ([Note: every read is bounded] in common/confine.ts). A model folder can
 * come with a repository or a download: a FIFO config.json, a link to /dev/zero or a 3 GB
 * tokenizer_config.json is one clear error naming the file, never a hang or an exhausted heap.
 */
import { gunzipSync } from 'node:zlib';
import { isMissingFile, MAX_JSON_BYTES, readRegularFile, readRegularText } from '../../common/confine';
import { ClipError, describeError } from '../../common/errors';

/** A tokenizer.json (multilingual ones reach ~33 MB). */
export const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;
/** A gzipped merge list, and what it may inflate to (OpenAI's: 1.3 MB, 1.6 MB inflated). */
export const MAX_MERGES_GZ_BYTES = 16 * 1024 * 1024;
export const MAX_MERGES_INFLATED_BYTES = 64 * 1024 * 1024;
/** An ONNX graph read whole (protobuf's own limit is 2 GB). */
export const MAX_GRAPH_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * A model folder's JSON object. ModelNotFound when the file is not there (with `advice`), ModelInvalid
 * when it is not a readable regular file within the bound, or not a JSON object.
 */
export async function readModelJson(file: string, advice = 'Re-download the model or point --model at a complete folder.'): Promise<Record<string, unknown>> {
	let text: string;
	try {
		text = await readRegularText(file, { maxBytes: MAX_JSON_BYTES, what: 'the model file' });
	} catch (err) {
		if (isMissingFile(err)) {
			throw new ClipError('ModelNotFound', `Model file missing: ${file}. ${advice}`, { file, cause: err });
		}
		throw new ClipError('ModelInvalid', `${describeError(err)} ${advice}`, { file, cause: err });
	}
	return parseJsonObject(text, file);
}

/** readModelJson for an optional file: undefined when it is missing or unusable (the caller has a default). */
export async function readOptionalModelJson(file: string): Promise<Record<string, unknown> | undefined> {
	return readModelJson(file).catch(() => undefined);
}

export function parseJsonObject(text: string, file: string): Record<string, unknown> {
	try {
		const value: unknown = JSON.parse(text);
		if (typeof value !== 'object' || value === null || Array.isArray(value)) {
			throw new Error('not a JSON object');
		}
		return value as Record<string, unknown>;
	} catch (err) {
		throw new ClipError('ModelInvalid', `Model file is not valid JSON: ${file} (${(err as Error).message}). Re-download the model.`, { file, cause: err });
	}
}

/** A model file's bytes (a graph, a tokenizer), bounded; errors name the file. */
export async function readModelBytes(file: string, maxBytes: number): Promise<Buffer> {
	return readRegularFile(file, { maxBytes, what: 'the model file' });
}

/**
 * A gzipped file's text (rclip's merge list), refused when the file or what it inflates to passes its
 * bound: a 300 KB file inflating to 300 MB ended the process ("invalid size error", 3.1 GB).
 */
export async function readGzipText(file: string): Promise<string> {
	const gz = await readModelBytes(file, MAX_MERGES_GZ_BYTES);
	try {
		return gunzipSync(gz, { maxOutputLength: MAX_MERGES_INFLATED_BYTES }).toString('utf8');
	} catch (err) {
		const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
		throw new ClipError(
			'ModelInvalid',
			tooBig
				? `${file} inflates to more than ${MAX_MERGES_INFLATED_BYTES / (1024 * 1024)} MiB; a merge list is a few MB. Re-download the model.`
				: `${file} is not a readable gzip file (${describeError(err)}). Re-download the model.`,
			{ file, cause: err },
		);
	}
}
