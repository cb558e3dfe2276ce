/**
 * @file The classes file (`.vscode/image-labels.json`, `clip-search index --labels`): read as JSON
 * with comments (JSONC, like VS Code's own settings), and edited in place when a person teaches a
 * class from the Explorer — the file keeps its comments, its layout and the user's other keys.
 */
import { promises as fs } from 'node:fs';
import { applyEdits, type FormattingOptions, modify, type Node, parse, parseTree, type ParseError, printParseErrorCode } from 'jsonc-parser';
import { ClipError, describeError } from '../common/errors';
import { type LabelClass, parseClass, parseClasses } from './labeler';

function lineColumn(text: string, offset: number): string {
	const before = text.slice(0, offset).split('\n');
	return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

const BOM = '\uFEFF';

/** Duplicate keys: jsonc-parser keeps the last, an edit would change the first; both are a mistake to name. */
function checkDuplicateKeys(root: Node | undefined, text: string, file: string): void {
	const seen = (object: Node, where: string): void => {
		const first = new Map<string, number>();
		for (const property of object.children ?? []) {
			const key = property.children?.[0];
			if (typeof key?.value !== 'string') {
				continue;
			}
			if (first.has(key.value)) {
				throw new ClipError(
					'InvalidArgument',
					`${file}: ${where}"${key.value}" is given twice (${lineColumn(text, first.get(key.value)!)} and ${lineColumn(text, key.offset)}). Keep one of them.`,
					{ file },
				);
			}
			first.set(key.value, key.offset);
			const value = property.children?.[1];
			if (value?.type === 'object' && !where) {
				seen(value, `class "${key.value}": the key `);
			}
		}
	};
	if (root?.type === 'object') {
		seen(root, '');
	}
}

/** Parses a classes file's text (a byte-order mark is allowed); errors name the file, the place and the key at fault. */
export function parseClassesText(text: string, file: string): LabelClass[] {
	const body = text.startsWith(BOM) ? text.slice(1) : text;
	const errors: ParseError[] = [];
	const json: unknown = parse(body, errors, { allowTrailingComma: true, disallowComments: false });
	if (errors.length) {
		const e = errors[0];
		throw new ClipError('InvalidArgument', `${file} is not valid JSON (${printParseErrorCode(e.error)} at ${lineColumn(body, e.offset)}). Nothing was re-tagged; the tags stay as they were.`, {
			file,
		});
	}
	checkDuplicateKeys(parseTree(body, [], { allowTrailingComma: true }), body, file);
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
 * class `name` (created when missing), and taken out of the other list of that class. Entries are
 * inserted and removed one by one, so comments in the lists (a commented-out example too) and the
 * file's byte-order mark stay. A class given as a prompt or a list of prompts becomes
 * {"prompts": [...], key: [...]}. A file in the list form (["cat", "dog"]) becomes the object form
 * (its comments are not kept then). An edit that would leave the file invalid — the last example of
 * a class taught only by examples made a negative — is refused, saying why; nothing is changed.
 */
export function addToClass(text: string, name: string, key: 'examples' | 'negatives', paths: string[], file = 'the classes file'): string {
	const bom = text.startsWith(BOM) ? BOM : '';
	const body = bom ? text.slice(1) : text;
	const errors: ParseError[] = [];
	const root: unknown = body.trim() ? parse(body, errors, { allowTrailingComma: true }) : {};
	if (errors.length) {
		throw new ClipError('InvalidArgument', `${file} is not valid JSON (${printParseErrorCode(errors[0].error)} at ${lineColumn(body, errors[0].offset)}): fix it first.`);
	}
	checkDuplicateKeys(parseTree(body, [], { allowTrailingComma: true }), body, file);
	const options = { formattingOptions: formatting(body) };
	if (Array.isArray(root) || !body.trim()) {
		const classes = Array.isArray(root) ? parseClasses(root) : [];
		const object: Record<string, unknown> = {};
		for (const c of classes) {
			const { name: n, ...rest } = c;
			object[n] = Object.keys(rest).length ? rest : {};
		}
		return bom + addToClass(`${JSON.stringify(object, null, 2)}\n`, name, key, paths, file);
	}
	if (typeof root !== 'object' || root === null) {
		throw new ClipError('InvalidArgument', `${file} must hold an object of classes, or a list of class names.`);
	}
	const value = (root as Record<string, unknown>)[name];
	let out = body;
	if (typeof value === 'string' || Array.isArray(value)) {
		out = applyEdits(out, modify(out, [name], { prompts: typeof value === 'string' ? [value] : value }, options));
	} else if (value === undefined || value === null || typeof value !== 'object') {
		out = applyEdits(out, modify(out, [name], {}, options));
	}
	const current = (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}) as Record<string, unknown>;
	const other = key === 'examples' ? 'negatives' : 'examples';
	if (Array.isArray(current[key])) {
		let at = (current[key] as unknown[]).length;
		for (const p of paths.filter(p => !(current[key] as unknown[]).includes(p))) {
			out = applyEdits(out, modify(out, [name, key, at++], p, { ...options, isArrayInsertion: true }));
		}
	} else {
		out = applyEdits(out, modify(out, [name, key], [...new Set(paths)], options));
	}
	if (Array.isArray(current[other])) {
		const list = current[other] as unknown[];
		const gone = list.map((x, i) => (typeof x === 'string' && paths.includes(x) ? i : -1)).filter(i => i >= 0);
		if (gone.length === list.length) {
			// An emptied list goes away: an empty "examples" would make the class empty.
			out = applyEdits(out, modify(out, [name, other], undefined, options));
		} else {
			for (const i of gone.reverse()) {
				out = applyEdits(out, modify(out, [name, other, i], undefined, options));
			}
		}
	}
	out = out.endsWith('\n') ? out : `${out}\n`;
	const edited = parse(out, [], { allowTrailingComma: true }) as Record<string, unknown>;
	const after = edited[name] as { prompts?: unknown[]; examples?: unknown[] } | undefined;
	if (after && Array.isArray(after.prompts) && !after.prompts.length && !after.examples?.length) {
		throw new ClipError(
			'InvalidArgument',
			`${paths.join(', ')} ${paths.length === 1 ? 'is' : 'are'} the only example(s) of class "${name}", which has no prompts: without ${paths.length === 1 ? 'it' : 'them'} nothing would describe the class. Add other examples of "${name}" first, or give it prompts. ${file} was not changed.`,
		);
	}
	try {
		parseClass(name, edited[name], file); // the edited class; the others are as they were
	} catch (err) {
		throw new ClipError('InvalidArgument', `${describeError(err)} (after the edit; ${file} was not changed)`, { cause: err });
	}
	return bom + out;
}
