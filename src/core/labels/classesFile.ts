/**
 * @file The classes file (`.vscode/image-labels.json`, `clip-search index --labels`): read as JSON
 * with comments (JSONC, like VS Code's own settings), and edited in place when a person teaches a
 * class from the Explorer — the file keeps its comments, its layout and the user's other keys.
 */
import { applyEdits, type FormattingOptions, modify, type Node, parseTree, type ParseError, printParseErrorCode } from 'jsonc-parser';
import { readRegularFile, readRegularTextIfExists } from '../common/confine';
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

/** How deep lists and objects may nest in a classes file: a class needs 3 levels ({"cat": {"examples": [...]}}). */
export const MAX_CLASSES_NESTING = 32;
/** A classes file larger than this is refused unread (256 classes of prompts and examples fit in far less). */
export const MAX_CLASSES_FILE_BYTES = 4 * 1024 * 1024;

/**
 * [Note: nesting] jsonc-parser descends recursively: a file that opens a million lists overflows the
 * stack ("Maximum call stack size exceeded", no file named). The depth is counted first, outside
 * strings and comments, and a file deeper than MAX_CLASSES_NESTING is ClassesInvalid.
 */
function checkNesting(body: string, file: string): void {
	let depth = 0;
	for (let i = 0; i < body.length; i++) {
		const c = body[i];
		if (c === '"') {
			for (i++; i < body.length && body[i] !== '"'; i++) {
				if (body[i] === '\\') {
					i++;
				}
			}
		} else if (c === '/' && body[i + 1] === '/') {
			i = body.indexOf('\n', i);
			i = i < 0 ? body.length : i;
		} else if (c === '/' && body[i + 1] === '*') {
			i = body.indexOf('*/', i + 2);
			i = i < 0 ? body.length : i + 1;
		} else if (c === '[' || c === '{') {
			if (++depth > MAX_CLASSES_NESTING) {
				throw new ClipError('ClassesInvalid', `${file}: lists and objects nest more than ${MAX_CLASSES_NESTING} deep (${lineColumn(body, i)}); a classes file needs three levels. Nothing was re-tagged.`, { file });
			}
		} else if (c === ']' || c === '}') {
			depth--;
		}
	}
}

/**
 * The JSON value of a parse tree, with objects that have no prototype: a class named "__proto__"
 * stays a class (jsonc-parser's own parse() assigns keys, and "__proto__" then replaces the object's
 * prototype: the class vanishes).
 */
function valueOf(node: Node | undefined): unknown {
	if (!node) {
		return undefined;
	}
	switch (node.type) {
		case 'object': {
			const o = Object.create(null) as Record<string, unknown>;
			for (const property of node.children ?? []) {
				const [key, value] = property.children ?? [];
				if (typeof key?.value === 'string') {
					Object.defineProperty(o, key.value, { value: valueOf(value), enumerable: true, writable: true, configurable: true });
				}
			}
			return o;
		}
		case 'array':
			return (node.children ?? []).map(valueOf);
		default:
			return node.value;
	}
}

/** Parses JSON with comments into plain values (see valueOf), after the nesting check; ClassesInvalid names the place of the first error. */
function parseClassesJson(body: string, file: string, after = 'Nothing was re-tagged; the tags stay as they were.'): { value: unknown; tree: Node | undefined } {
	checkNesting(body, file);
	const errors: ParseError[] = [];
	const tree = parseTree(body, errors, { allowTrailingComma: true, disallowComments: false });
	if (errors.length) {
		const e = errors[0];
		throw new ClipError('ClassesInvalid', `${file} is not valid JSON (${printParseErrorCode(e.error)} at ${lineColumn(body, e.offset)}). ${after}`, { file });
	}
	return { value: valueOf(tree), tree };
}

/** Parses a classes file's text (a byte-order mark is allowed); errors name the file, the place and the key at fault. */
export function parseClassesText(text: string, file: string): LabelClass[] {
	const body = text.startsWith(BOM) ? text.slice(1) : text;
	const { value, tree } = parseClassesJson(body, file);
	checkDuplicateKeys(tree, body, file);
	return parseClasses(value, file);
}

/** A classes file's text, undefined when there is none (bounded and confined as readClassesFile reads). */
export async function readClassesTextIfExists(file: string, options: { within?: string } = {}): Promise<string | undefined> {
	return readRegularTextIfExists(file, { maxBytes: MAX_CLASSES_FILE_BYTES, what: 'the classes file', within: options.within });
}

/** Reads and checks a classes file: a regular file, bounded, inside `within` when given ([Note: confinement] in common/confine.ts). */
export async function readClassesFile(file: string, options: { within?: string } = {}): Promise<LabelClass[]> {
	const bytes = await readRegularFile(file, { maxBytes: MAX_CLASSES_FILE_BYTES, what: 'the classes file', within: options.within });
	return parseClassesText(bytes.toString('utf8'), file);
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
	const parsed = body.trim() ? parseClassesJson(body, file, 'Fix it first.') : { value: {}, tree: undefined };
	const root = parsed.value;
	checkDuplicateKeys(parsed.tree, body, file);
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
	const edited = parseClassesJson(out, file).value as Record<string, unknown>;
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
