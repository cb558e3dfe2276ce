/** @file The version `clip-search --version` prints: the package's, found beside the bundle or the sources. */
import { readRegularFileSync } from '../core/common/confine';
import * as path from 'node:path';

export function packageVersion(from = __dirname): string {
	for (let dir = from; ; dir = path.dirname(dir)) {
		try {
			const pkg = JSON.parse(readRegularFileSync(path.join(dir, 'package.json'), { maxBytes: 1024 * 1024 }).toString('utf8')) as { name?: string; version?: string };
			if (pkg.name === 'clip-image-search' && pkg.version) {
				return pkg.version;
			}
		} catch {
			// No package.json here: look one folder up.
		}
		if (path.dirname(dir) === dir) {
			return 'unknown';
		}
	}
}
