/** @file `clip-search ocr`: the text inside one image. */
import * as path from 'node:path';
import { readImageFile } from '../../core/common/files';
import { printable } from '../../core/common/printable';
import { DEFAULT_MAX_PIXELS } from '../../core/model/inputs/preprocess';
import { bundledOcrModels, OcrEngine } from '../../core/ocr/ocrEngine';
import { type CommandDef, threadsOption, UsageError } from '../args';
import { log } from '../output';

export const ocrCommand: CommandDef = {
	name: 'ocr',
	summary: 'read the text inside one image',
	usage: ['ocr <image> [--json]'],
	options: ['threads', 'json'],
	run: async ([image], values) => {
		if (!image) {
			throw new UsageError('ocr needs an image: clip-search ocr ./screenshot.png');
		}
		const file = path.resolve(image);
		const engine = new OcrEngine(bundledOcrModels(), { threads: threadsOption(values), log });
		try {
			const lines = await engine.recognize(file, await readImageFile(file, DEFAULT_MAX_PIXELS));
			if (values.json) {
				process.stdout.write(`${JSON.stringify({ lines })}\n`);
			} else {
				process.stdout.write(lines.length ? lines.map(l => `${printable(l.text)}  (${l.score.toFixed(3)})`).join('\n') + '\n' : 'No text found.\n');
			}
			return 0;
		} finally {
			await engine.dispose();
		}
	},
};
