/**
 * @file Which file-system events can change what is indexed. No vscode import: unit-tested.
 */
import * as path from 'node:path';
import { IMAGE_EXTENSIONS } from '../core/walker';

const IMAGE_EXT = new RegExp(`\\.(${IMAGE_EXTENSIONS.join('|')})$`, 'i');
const IGNORED_SEGMENT = /[\\/](\.git|node_modules|clip-search-index)([\\/]|$)/;

/** Whether a file-system event may change what is indexed (an image, or a folder of them). */
export function isRelevantChange(file: string, kind: 'create' | 'change' | 'delete'): boolean {
	if (IGNORED_SEGMENT.test(file)) {
		return false;
	}
	if (IMAGE_EXT.test(file)) {
		return true;
	}
	// A folder (no extension) matters when it appears or disappears, not when it "changes".
	return kind !== 'change' && !/\.[^\\/.]+$/.test(path.basename(file));
}
