/**
 * @file Which file-system events can change what is indexed, or what image references say and point
 * to (extension/refs/). No vscode import: unit-tested.
 */
import * as path from 'node:path';
import { inExcludedFolder, isImagePath } from '../../core/index/imageFiles';
import { textKindOf } from '../../core/refs/textFiles';

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

/** Whether a file-system event may change what a folder's references say or point to. */
export function touchesReferences(file: string, kind: 'create' | 'change' | 'delete'): boolean {
	if (inExcludedFolder(file)) {
		return false;
	}
	if (textKindOf(file) !== undefined) {
		return true;
	}
	// An image, or a folder (no extension), matters when it appears or disappears: what references point to.
	return kind !== 'change' && (isImagePath(file) || !/\.[^\\/.]+$/.test(path.basename(file)));
}
