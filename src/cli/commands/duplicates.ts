/** @file `clip-search duplicates`: groups of near-identical images (copies, re-encodes, resizes). */
import { resolveScope } from '../../core/search/scope';
import { DEFAULT_DUPLICATE_THRESHOLD, findDuplicates } from '../../core/search/duplicates';
import { IndexStore } from '../../core/index/indexStore';
import { type CommandDef, readIndexDir, numberOption, RANGES } from '../args';
import { log, table } from '../output';
import { FolderUses } from '../../core/refs/folderUses';

export const duplicatesCommand: CommandDef = {
	name: 'duplicates',
	summary: 'groups of near-identical images (copies, re-encodes, resizes)',
	usage: ['duplicates [--threshold T] [--scope <folder>] [--index <dir>] [--json]'],
	options: ['threshold', 'scope', 'index', 'json'],
	optionHelp: { threshold: 'the cosine from which two images count as duplicates (0.5 to 1; default 0.95)' },
	notes: [
		`--threshold is the cosine from which two images count as duplicates (0.5 to 1; default ${DEFAULT_DUPLICATE_THRESHOLD}, which joins re-encodes and resizes). Nothing is deleted.`,
		'Each image shows how many places reference it (uses: as clip-search refs counts them), so you see which copy to keep.',
		'With --json: [{"paths", "score", "images": [{"path", "uses"}]}].',
	],
	run: async (_positionals, values) => {
		const threshold = numberOption(values, 'threshold', RANGES.duplicateThreshold) ?? DEFAULT_DUPLICATE_THRESHOLD;
		const store = await IndexStore.load(await readIndexDir(values));
		const scope = await resolveScope(store, values.scope, '--scope', process.cwd());
		const prefix = scope ? `${scope}/` : '';
		const found = findDuplicates(store, threshold)
			.map(g => ({ ...g, paths: g.paths.filter(p => p.startsWith(prefix)) }))
			.filter(g => g.paths.length > 1);
		// How many places use each copy (core/refs/): which one to keep. Read only when there are groups.
		const groups = found.length ? await (await FolderUses.open(store.root, { index: store, log })).withUses(found) : [];
		if (values.json) {
			process.stdout.write(`${JSON.stringify(groups)}\n`);
			return 0;
		}
		if (!groups.length) {
			process.stdout.write(`No duplicates at cosine ${threshold} or above.\n`);
			return 0;
		}
		process.stdout.write(
			table(
				['group', 'score', 'uses', 'path'],
				groups.flatMap((g, i) => g.images.map((im, j) => [j ? '' : String(i + 1), j ? '' : g.score.toFixed(4), String(im.uses), im.path])),
			),
		);
		return 0;
	},
};
