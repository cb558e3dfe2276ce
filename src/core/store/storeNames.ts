/**
 * @file What a team store's rows and tables are called: a model's key, its table (derived here, never
 * taken from the store: [Note: the store's answers are data]), and vectors as pgvector literals.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import pg from 'pg';
import { ClipError } from '../common/errors';
import type { ModelStamp } from '../index/indexStore';

/** Bumped when preprocessing changes what vectors an image gets: part of the store's model key. */
export const PREPROCESS_VERSION = 1;

/** The store's key of a model: anything that changes its vectors. A local folder is known by its files' fingerprint, not its path. */
export function storeModelKey(model: Pick<ModelStamp, 'id' | 'revision' | 'variant'>): string {
	const local = path.isAbsolute(model.id) || /^[a-zA-Z]:[\\/]/.test(model.id);
	return `${local ? 'local' : model.id}@${model.revision}#${model.variant}+pre${PREPROCESS_VERSION}`;
}

/** The model's table: derived from its key here, never taken from the store ([Note: the store's answers are data]). */
export function tableOf(modelKey: string): string {
	return `vectors_${createHash('sha256').update(modelKey).digest('hex').slice(0, 16)}`;
}

/** What `models.model_id` publishes: a known id, or `local` for a model folder (never its path). */
export function publishedModelId(model: Pick<ModelStamp, 'id'>): string {
	return storeModelKey({ id: model.id, revision: '', variant: '' }).startsWith('local@') ? 'local' : model.id;
}

/** `clip_search.<table>`, quoted with the driver's escaping. */
export function qualified(table: string): string {
	if (!/^vectors_[0-9a-f]{16}$/.test(table)) {
		throw new ClipError('InvalidArgument', `"${table}" is not a table name this product makes.`);
	}
	return `clip_search.${pg.escapeIdentifier(table)}`;
}

export const toSql = (v: Float32Array): string => `[${Array.from(v).join(',')}]`;
export const fromSql = (s: string): Float32Array => Float32Array.from(s.slice(1, -1).split(','), Number);
