/**
 * @file A query's one vector: its text and image terms embedded, weighted, summed and normalised, and
 * More/Less like this ([Note: Rocchio]); the same for a local and a remote search.
 */
import * as path from 'node:path';
import { confinePath } from '../common/confine';
import { ClipError } from '../common/errors';
import { contentHash, readImageFile } from '../common/files';
import { isInside } from '../common/safePaths';
import { combine } from '../common/vectors';
import type { IndexStore } from '../index/indexStore';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../model/inputs/preprocess';
import type { ClipEncoder } from '../model/runtime/encoder';
import type { QueryTerm } from './query';

/**
 * Embeds one image term: from the index when it is an indexed file, else decoded and encoded. A
 * regular file only; inside `within` when given. Without a local index (a remote search) it is
 * always embedded here.
 */
export async function imageVector(store: IndexStore | undefined, encoder: ClipEncoder, file: string, within?: string): Promise<{ vector: Float32Array; rel?: string; hash: string }> {
	const abs = within !== undefined ? (await confinePath(within, file, 'image')).abs : path.resolve(file);
	const rel = store ? path.relative(store.root, abs).split(path.sep).join('/') : '';
	const inside = rel !== '' && !rel.startsWith('../') && !path.isAbsolute(rel);
	const bytes = await readImageFile(abs, DEFAULT_MAX_PIXELS, 'the query image', within);
	const hash = contentHash(bytes);
	const stored = store?.vectorOf(hash);
	if (stored) {
		return { vector: stored, rel: inside ? rel : undefined, hash };
	}
	const image = await decodeImage(file, bytes, encoder.spec.preprocess);
	return { vector: (await encoder.encodeImages([image]))[0], rel: inside ? rel : undefined, hash };
}

/**
 * The query's one vector: its terms embedded, weighted, summed and normalised (the same for a local
 * and a remote search, so that one query means one thing everywhere). `imageHashes`: the contents of
 * its image terms, left out of the results; `parts`: each term's own vector (for `why`).
 */
export async function queryVector(
	store: IndexStore | undefined,
	encoder: ClipEncoder,
	terms: QueryTerm[],
	cwd: string = process.cwd(),
	within?: string,
	refine: { like?: string[]; unlike?: string[]; roots?: string[] } = {},
): Promise<{ vector: Float32Array; imagePaths: string[]; imageHashes: string[]; parts: QueryPart[] }> {
	const texts = terms.filter(t => t.kind === 'text');
	const textVectors = texts.length ? await encoder.encodeTexts(texts.map(t => t.value)) : [];
	const parts: QueryPart[] = texts.map((t, i) => ({ term: JSON.stringify(t.value), vector: textVectors[i], weight: t.weight }));
	const imagePaths: string[] = [];
	const imageHashes: string[] = [];
	const addImage = async (file: string, weight: number, label: (shown: string) => string, confined = within): Promise<void> => {
		const { vector, rel, hash } = await imageVector(store, encoder, file, confined);
		parts.push({ term: label(rel ?? file), vector, weight });
		imageHashes.push(hash);
		if (rel) {
			imagePaths.push(rel);
		}
	};
	for (const t of terms.filter(term => term.kind === 'image')) {
		// A person's own command line may start a path with ~; an agent's (within) is taken as written,
		// and a refusal names it as given, never as the home folder it would expand to.
		const expanded = within === undefined ? t.value.replace(/^~(?=[\\/])/, process.env.HOME ?? '~') : t.value;
		await addImage(path.resolve(cwd, expanded), t.weight, () => t.value).catch((err: unknown) => {
			if (within !== undefined && (ClipError.is(err, 'OutsideFolder') || ClipError.is(err, 'FileUnreadable'))) {
				throw new ClipError(err.code, `${t.value}: no such image in the folder.`, { file: t.value });
			}
			throw err;
		});
	}
	// [Note: Rocchio] More/Less like this moves the query towards the mean of the liked images and away
	// from the mean of the others (SMART's weights: the query 1, liked 0.75, disliked 0.15), so a few
	// clicks steer it without drowning the words.
	const like = refine.like ?? [];
	const unlike = refine.unlike ?? [];
	// An agent's examples may lie in another of its folders: each is confined to the folder that holds it.
	const rootOf = (file: string): string | undefined => (within !== undefined ? (refine.roots?.find(r => isInside(r, file)) ?? within) : undefined);
	for (const file of like.map(f => path.resolve(cwd, f))) {
		await addImage(file, LIKE_WEIGHT / like.length, shown => `more like ${shown}`, rootOf(file));
	}
	for (const file of unlike.map(f => path.resolve(cwd, f))) {
		await addImage(file, -UNLIKE_WEIGHT / unlike.length, shown => `less like ${shown}`, rootOf(file));
	}
	return { vector: combine(parts), imagePaths, imageHashes, parts };
}

export interface QueryPart {
	/** The term as written ("beach", ./ref.png, more like icons/a.png). */
	term: string;
	vector: Float32Array;
	weight: number;
}

const LIKE_WEIGHT = 0.75;
const UNLIKE_WEIGHT = 0.15;
