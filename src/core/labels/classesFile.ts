/**
 * @file The classes file (`.vscode/image-labels.json`, `clip-search index --labels`): read as JSON
 * with comments (JSONC, like VS Code's own settings), and edited in place when a person teaches a
 * class from the Explorer — the file keeps its comments, its layout and the user's other keys.
 */
import { promises as fs } from 'node:fs';
import { applyEdits, type FormattingOptions, modify, parse, type ParseError, printParseErrorCode } from 'jsonc-parser';
import { ClipError, describeError } from '../common/errors';
import { type LabelClass, parseClasses } from './labeler';

function lineColumn(text: string, offset: number): string {
	const before = text.slice(0, offset).split('\n');
	return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** Parses a classes file's text; errors name the file, the place and the key at fault. */
export function parseClassesText(text: string, file: string): LabelClass[] {
	const errors: ParseError[] = [];
	const json: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
	if (errors.length) {
		const e = errors[0];
		throw new ClipError('InvalidArgument', `${file} is not valid JSON (${printParseErrorCode(e.error)} at ${lineColumn(text, e.offset)}). Nothing was re-tagged; the tags stay as they were.`, {
			file,
		});
	}
	return parseClasses(json, file);
}

/** Reads and checks a classes file. */
export async function readClassesFile(file: string): Promise<LabelClass[]> {
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch (err) {
		throw new ClipError('FileUnreadable', `Cannot read the classes file ${file}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}.`, { file, cause: err });
	}
	return parseClassesText(text, file);
}

function formatting(text: string): FormattingOptions {
	const indent = /\n([ \t]+)\S/.exec(text)?.[1];
	return indent?.startsWith('\t') ? { insertSpaces: false, tabSize: 4, eol: '\n' } : { insertSpaces: true, tabSize: indent?.length || 2, eol: '\n' };
}

/**
 * The classes file's text with `paths` added to the `key` list ("examples" or "negatives") of the
 * class `name` (created when missing), and taken out of the other list of that class. A class given
 * as a prompt or a list of prompts becomes {"prompts": [...], key: [...]}. A file in the list form
 * (["cat", "dog"]) becomes the object form (its comments are not kept then).
 */
export function addToClass(text: string, name: string, key: 'examples' | 'negatives', paths: string[]): string {
	const errors: ParseError[] = [];
	const root: unknown = text.trim() ? parse(text, errors, { allowTrailingComma: true }) : {};
	if (errors.length) {
		throw new ClipError('InvalidArgument', `The classes file is not valid JSON (${printParseErrorCode(errors[0].error)} at ${lineColumn(text, errors[0].offset)}): fix it first.`);
	}
	const options = { formattingOptions: formatting(text) };
	if (Array.isArray(root) || !text.trim()) {
		const classes = Array.isArray(root) ? parseClasses(root) : [];
		const object: Record<string, unknown> = {};
		for (const c of classes) {
			const { name: n, ...rest } = c;
			object[n] = Object.keys(rest).length ? rest : {};
		}
		return addToClass(`${JSON.stringify(object, null, 2)}\n`, name, key, paths);
	}
	if (typeof root !== 'object' || root === null) {
		throw new ClipError('InvalidArgument', 'The classes file must hold an object of classes, or a list of class names.');
	}
	const value = (root as Record<string, unknown>)[name];
	let out = text;
	if (typeof value === 'string' || Array.isArray(value)) {
		out = applyEdits(out, modify(out, [name], { prompts: typeof value === 'string' ? [value] : value }, options));
	} else if (value === undefined || value === null || typeof value !== 'object') {
		out = applyEdits(out, modify(out, [name], {}, options));
	}
	const current = (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}) as Record<string, unknown>;
	const other = key === 'examples' ? 'negatives' : 'examples';
	const list = Array.isArray(current[key]) ? (current[key] as unknown[]).filter((x): x is string => typeof x === 'string') : [];
	out = applyEdits(out, modify(out, [name, key], [...list, ...paths.filter(p => !list.includes(p))], options));
	if (Array.isArray(current[other])) {
		const kept = (current[other] as unknown[]).filter(x => typeof x !== 'string' || !paths.includes(x));
		if (kept.length !== (current[other] as unknown[]).length) {
			// An emptied list goes away: an empty "examples" would make the class empty.
			out = applyEdits(out, modify(out, [name, other], kept.length ? kept : undefined, options));
		}
	}
	return out.endsWith('\n') ? out : `${out}\n`;
}
