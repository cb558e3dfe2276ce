/**
 * @file Where the engine keeps things by default: a per-user cache folder for models and for the
 * indexes of folders (outside the indexed tree, so indexing never changes what it indexes).
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';

export function cacheHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
	if (env.CLIP_SEARCH_CACHE) {
		return path.resolve(env.CLIP_SEARCH_CACHE);
	}
	if (platform === 'win32') {
		return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'clip-image-search');
	}
	if (platform === 'darwin') {
		return path.join(os.homedir(), 'Library', 'Caches', 'clip-image-search');
	}
	return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'clip-image-search');
}

export function defaultModelCache(env?: NodeJS.ProcessEnv): string {
	return path.join(cacheHome(env), 'models');
}

/** The index folder used for `root` when none is given: named after the folder and its path. */
export function defaultIndexDir(root: string, env?: NodeJS.ProcessEnv): string {
	return path.join(cacheHome(env), 'indexes', indexDirName(root));
}

/** A folder name that is readable and unique per indexed path. */
export function indexDirName(root: string): string {
	const abs = path.resolve(root);
	const digest = createHash('sha256').update(abs).digest('hex').slice(0, 12);
	return `${path.basename(abs).replace(/[^\w.-]+/g, '_') || 'root'}-${digest}`;
}
