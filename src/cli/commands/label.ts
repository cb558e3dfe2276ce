/** @file `clip-search label`: zero-shot (or taught) labels for the indexed images. */
import * as path from 'node:path';
import { printable } from '../../core/common/printable';
import { readClassesFile } from '../../core/labels/classesFile';
import { resolveScope } from '../../core/search/scope';
import { describeWarning, Labeler, parseClasses } from '../../core/labels/labeler';
import { tagsFileToReplace, writeTagsFile } from '../../core/labels/tagsFile';
import { type CommandDef, numberOption, RANGES, UsageError } from '../args';
import { log, table } from '../output';
import { withReadIndex } from '../readIndex';

export const labelCommand: CommandDef = {
	name: 'label',
	summary: 'label the indexed images with the closest of your classes',
	usage: ['label --classes "cat,dog,icon" | --classes-file f.json [--index <dir>] [--model <dir|id>] [--threshold T] [--multi] [--scope <folder>] [--out tags.json] [--json]'],
	options: ['classes', 'classes-file', 'index', 'model', 'threshold', 'multi', 'scope', 'out', 'provider', 'threads', 'json'],
	run: async (_positionals, values) => {
		let classes;
		if (values['classes-file']) {
			classes = await readClassesFile(path.resolve(values['classes-file']));
		} else if (values.classes) {
			classes = parseClasses(values.classes, '--classes');
		} else {
			throw new UsageError('label needs classes: --classes "cat,dog,icon" or --classes-file classes.json');
		}
		const threshold = numberOption(values, 'threshold', RANGES.probability);
		const out = values.out ? path.resolve(values.out) : undefined;
		const classesFile = values['classes-file'] ? path.resolve(values['classes-file']) : undefined;
		if (out) {
			await tagsFileToReplace(out, { classesFile }); // refused before any work: see writeTagsFile
		}
		return withReadIndex(values, async ({ store, encoder }) => {
			const labeler = await Labeler.create(encoder, classes, { store });
			log(`labels: ${labeler.describeChoice()}`);
			for (const w of labeler.warnings) {
				process.stderr.write(`clip-search: ${printable(describeWarning(w, values['classes-file'] ?? '--classes'))}\n`);
			}
			const labels = labeler.labelIndex(store, { threshold, multi: values.multi, scope: await resolveScope(store, values.scope, '--scope', process.cwd()) });
			if (out) {
				await writeTagsFile(out, labels, { model: store.model.key, classes, classesFile });
			}
			if (values.json) {
				process.stdout.write(`${JSON.stringify(labels)}\n`);
			} else {
				process.stdout.write(
					table(
						['label', 'p', 'path'],
						labels.map(l => [values.multi ? (l.labels ?? []).join('+') || '(none)' : (l.label ?? '(none)'), l.score.toFixed(3), l.path]),
					),
				);
				if (values.out) {
					process.stdout.write(`Tags written to ${printable(path.resolve(values.out))}\n`);
				}
			}
			return 0;
		});
	},
};
