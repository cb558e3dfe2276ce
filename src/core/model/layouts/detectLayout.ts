/**
 * @file Which layout a model folder is in: Immich's (immichLayout.ts), rclip's (rclipLayout.ts), or
 * else transformers.js (transformersLayout.ts). Each one's preprocessing, tokenizer,
 * padding, input types and output normalisation come from its own files and its runtime's rules
 * (checked against their source: immich-app/ml-models' exporter and immich-app/immich's
 * machine-learning runtime; rclip's convert_model.py, model.py and utils/), and the product's
 * vectors match what those runtimes compute (test/core/model/layouts/modelLayouts.test.ts).
 */
import * as path from 'node:path';
import { isFile } from './layoutFiles';
import type { ModelLayout } from './modelSpec';
import { rclipFolders } from './rclipLayout';

/** Which layout a folder is in ([Note: Immich's layout], [Note: rclip's layout]); transformers.js otherwise. */
export async function detectLayout(dir: string): Promise<ModelLayout> {
	if ((await isFile(path.join(dir, 'visual', 'model.onnx'))) || (await isFile(path.join(dir, 'textual', 'model.onnx')))) {
		return 'immich';
	}
	if (await rclipFolders(dir)) {
		return 'rclip';
	}
	return 'transformers.js';
}
