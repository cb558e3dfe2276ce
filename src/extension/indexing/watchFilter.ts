/**
 * @file Which file-system events can change what is indexed. No vscode import: unit-tested.
 */
import * as path from 'node:path';
import { inExcludedFolder, isImagePath } from '../../core/index/imageFiles';

/** Whether a file-system event may change what is indexed (an image, or a folder of them). */
export function isRelevantChange(file: string, kind: 'create' | 'change' | 'delete'): boolean {
	if (inExcludedFolder(file)) {
		return false;
	}
	if (isImagePath(file)) {
		return true;
	}
	// A folder (no extension) matters when it appears or disappears, not when it "changes".
	return kind !== 'change' && !/\.[^\\/.]+$/.test(path.basename(file));
}
