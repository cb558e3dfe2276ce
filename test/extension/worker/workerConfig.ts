/** The worker configuration the worker tests start from (tiny CLIP on the CPU, caches under `cache`), with their own changes. */
import * as path from 'node:path';
import type { WorkerConfig } from '../../../src/extension/worker/protocol';
import { tinyModelDir } from '../../helpers';

export function testWorkerConfig(cache: string, changes: Partial<WorkerConfig> = {}): WorkerConfig {
	return {
		model: tinyModelDir,
		variant: 'fp32',
		provider: 'cpu',
		threads: 2,
		modelCacheDir: path.join(cache, 'models'),
		legacyModelCacheDirs: [],
		thumbnailDir: path.join(cache, 'thumbs'),
		maxImagePixels: 100e6,
		include: [],
		exclude: [],
		ocr: 'off',
		unloadAfterIdleMinutes: 0,
		...changes,
	};
}
