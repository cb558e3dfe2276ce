/**
 * @file Organize by label: where each tagged image would go (a folder named after its class, beside
 * it), with every path checked. A tags file comes with a repository and a class name is anyone's
 * word, so an image outside the folder, a class that names no usable folder ("..", "", "con") or a
 * destination that leads outside the folder (through a link too) is refused and reported, never moved.
 */
import * as path from 'node:path';
import { staysInside } from '../common/confine';
import { folderNameFor, isSafeRelativePath } from '../common/safePaths';

export interface PlannedMove {
	from: string;
	to: string;
}

export interface RefusedMove {
	/** The tags file's key (relative path). */
	path: string;
	reason: string;
}

/** The moves for `tags` (relative path → label) under `root`; images without a label stay. */
export async function planOrganize(root: string, tags: Iterable<[string, string | null]>): Promise<{ moves: PlannedMove[]; refused: RefusedMove[] }> {
	const moves: PlannedMove[] = [];
	const refused: RefusedMove[] = [];
	for (const [rel, label] of tags) {
		if (!label) {
			continue;
		}
		if (!isSafeRelativePath(rel)) {
			refused.push({ path: rel, reason: 'not a path inside the folder' });
			continue;
		}
		const folder = folderNameFor(label);
		if (!folder) {
			refused.push({ path: rel, reason: `the class "${label}" names no usable folder` });
			continue;
		}
		const from = path.join(root, ...rel.split('/'));
		const to = path.join(path.dirname(from), folder, path.basename(from));
		if (!(await staysInside(root, from))) {
			refused.push({ path: rel, reason: 'it lies outside the folder (through a symbolic link)' });
			continue;
		}
		if (!(await staysInside(root, to))) {
			refused.push({ path: rel, reason: `its destination ${path.relative(root, to)} leads outside the folder` });
			continue;
		}
		moves.push({ from, to });
	}
	return { moves, refused };
}
