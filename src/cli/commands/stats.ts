/** @file `clip-search stats`: what an index holds, its model and provider, and what failed. */
import { printable } from '../../core/common/printable';
import { formatBytes } from '../../core/common/sizes';
import { IndexStore } from '../../core/index/indexStore';
import { indexStatus } from '../../core/index/indexStatus';
import { type CommandDef, readIndexDir } from '../args';
import { printFailures } from '../output';

export const statsCommand: CommandDef = {
	name: 'stats',
	summary: 'what an index holds: files, model, provider, failures',
	usage: ['stats [--index <dir>] [--json]'],
	options: ['index', 'json'],
	run: async (_positionals, values) => {
		const stats = await indexStatus(await IndexStore.load(await readIndexDir(values)));
		if (values.json) {
			process.stdout.write(`${JSON.stringify(stats)}\n`);
			return 0;
		}
		// The catalog is a file anyone may have written: every string in it is printed through printable().
		const p = printable;
		process.stdout.write(
			`Root:      ${p(stats.root)}\nIndex:     ${p(stats.index)} (${formatBytes(stats.indexBytes)}, generation ${stats.generation})\nModel:     ${p(stats.model.id)} @ ${p(stats.model.revision)} (${p(stats.model.variant)}, ${stats.model.dim}-d)\n` +
				`Provider:  ${p(stats.provider ?? 'unknown')}${stats.providerChoice ? ` (${p(stats.providerChoice)})` : ''}\nFiles:     ${stats.files} (${stats.indexed} indexed, ${stats.failed.length} failed)\nVectors:   ${stats.vectors} distinct\nText:      ${stats.textRead ? `read for ${stats.textRead} image(s)` : 'not read (index --ocr reads the text inside images)'}\n`,
		);
		printFailures(stats.failed);
		return 0;
	},
};
