/**
 * @file How the status bar names whoever else is writing an index. No vscode import: unit-tested.
 */
import type { LockHolder } from '../../core/index/lock';

/** "CLIP: another window is indexing" or "CLIP: clip-search (pid 1234) is indexing". */
export function describeHolderShort(holder: LockHolder): string {
	if (holder.purpose.startsWith('VS Code')) {
		return 'CLIP: another window is indexing';
	}
	const tool = holder.purpose.split(' ')[0] || 'another process';
	return `CLIP: ${tool} (pid ${holder.pid}) is indexing`;
}
