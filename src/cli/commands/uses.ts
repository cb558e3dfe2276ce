/**
 * @file `clip-search refs`, `unused` and `broken`: where each image of the folder is used, which
 * images nothing uses, and which image references point nowhere (core/refs/). They read the
 * folder's text files and need no model: the index, when there is one, gives the images and what it
 * remembers of moved ones; without one the images are walked.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClipError } from '../../core/common/errors';
import { isInside } from '../../core/common/safePaths';
import { printable } from '../../core/common/printable';
import { formatBytes } from '../../core/common/sizes';
import { findIndexDir } from '../../core/index/findIndex';
import { IndexStore } from '../../core/index/indexStore';
import { brokenRow, FolderUses } from '../../core/refs/folderUses';
import { type CommandDef, type Values, UsageError } from '../args';
import { log, table } from '../output';

/** The repository the current folder is in (the nearest folder above with .git), else the current folder. */
async function projectRoot(cwd: string): Promise<string> {
	for (let folder = path.resolve(cwd); ; folder = path.dirname(folder)) {
		if (await fs.stat(path.join(folder, '.git')).then(() => true, () => false)) {
			return folder;
		}
		if (path.dirname(folder) === folder) {
			return path.resolve(cwd);
		}
	}
}

/** The folder the questions are about: the index's (--index, or the one found from here), else the repository's, else the current folder. */
async function openFolder(values: Values): Promise<FolderUses> {
	let index: IndexStore | undefined;
	if (values.index) {
		index = await IndexStore.load(path.resolve(values.index));
	} else {
		const found = await findIndexDir(process.cwd()).catch(err => {
			if (ClipError.is(err) && err.code === 'IndexNotFound') {
				return undefined;
			}
			throw err;
		});
		index = found ? await IndexStore.load(found.dir) : undefined;
	}
	const root = index?.root ?? (await projectRoot(process.cwd()));
	log(`references: reading ${root}${index ? ` (images from the index ${index.dir})` : ' (no index: images are walked)'}`);
	const uses = await FolderUses.open(root, { index, publicRoots: values.public, exclude: values.exclude?.filter(Boolean) ?? [], log });
	const s = uses.refs.stats;
	log(`references: ${s.references} in ${s.files} text files in ${s.seconds.toFixed(2)} s (passed over: ${s.skipped.tooLarge} too large, ${s.skipped.binary} binary, ${s.skipped.unreadable} unreadable)`);
	return uses;
}

/** A path given on the command line (relative to the current folder) as a path of the folder. */
async function relativeTo(root: string, given: string, what: string, folder: boolean): Promise<string> {
	const abs = path.resolve(process.cwd(), given);
	if (!isInside(root, abs)) {
		throw new UsageError(`${what} ${given} is outside the folder ${root}: give one inside it.`);
	}
	const st = await fs.stat(abs).catch(() => undefined);
	if (!st || (folder ? !st.isDirectory() : !st.isFile())) {
		throw new ClipError('InvalidArgument', `${what} ${given}: no such ${folder ? 'folder' : 'file'} in ${root}.`);
	}
	return path.relative(root, abs).split(path.sep).join('/');
}

async function scopeOf(uses: FolderUses, values: Values): Promise<string | undefined> {
	return values.scope ? (await relativeTo(uses.root, values.scope, '--scope', true)) || undefined : undefined;
}

const FOLDER_NOTE = 'The folder is the index\'s (the one found from here, or --index), else the git repository\'s, else the current folder; paths are printed relative to it. No model is needed. Text files are read as .gitignore and --exclude allow (node_modules and build output never).';

export const refsCommand: CommandDef = {
	name: 'refs',
	summary: 'every place that uses an image (Markdown, HTML, CSS, scripts, manifests)',
	usage: ['refs <image> [--public <dir>] [--exclude <glob>] [--index <dir>] [--json]'],
	options: ['public', 'exclude', 'index', 'json'],
	notes: [FOLDER_NOTE, 'With --json: [{"file", "line", "column", "text", "syntax", "target"}], "wrongCase": true where the reference names the image in another case.'],
	run: async (positionals, values) => {
		if (positionals.length !== 1) {
			throw new UsageError('give one image: clip-search refs <image>.');
		}
		const uses = await openFolder(values);
		const image = await relativeTo(uses.root, positionals[0], 'The image', false);
		const rows = await uses.referencesTo(image);
		if (values.json) {
			process.stdout.write(`${JSON.stringify(rows)}\n`);
			return 0;
		}
		if (!rows.length) {
			process.stdout.write(`Nothing references ${printable(image)}.\n`);
			return 0;
		}
		for (const r of rows) {
			process.stdout.write(`${printable(r.file)}:${r.line}:${r.column}  ${printable(r.text)}${r.wrongCase ? '  (wrong case)' : ''}\n`);
		}
		const files = new Set(rows.map(r => r.file)).size;
		process.stdout.write(`${rows.length} reference${rows.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}.\n`);
		return 0;
	},
};

export const unusedCommand: CommandDef = {
	name: 'unused',
	summary: 'images nothing references, biggest first, with the bytes they hold',
	usage: ['unused [--scope <folder>] [--public <dir>] [--exclude <glob>] [--index <dir>] [--json]'],
	options: ['scope', 'public', 'exclude', 'index', 'json'],
	notes: [
		FOLDER_NOTE,
		'An image a pattern may name (`icons/${name}.png`, \'icons/\' + name + \'.png\') is possibly used, never unused. Nothing is deleted.',
		'With --json: {"unused": [{"path", "size"}], "possiblyUsed": [{"path", "size", "by": [{"file", "line", "pattern"}]}], "bytes"}.',
	],
	run: async (_positionals, values) => {
		if (_positionals.length) {
			throw new UsageError('unused takes no paths: use --scope <folder> for part of the folder.');
		}
		const uses = await openFolder(values);
		const answer = await uses.unused(await scopeOf(uses, values));
		if (values.json) {
			process.stdout.write(`${JSON.stringify(answer)}\n`);
			return 0;
		}
		if (answer.unused.length) {
			process.stdout.write(table(['size', 'path'], answer.unused.map(i => [formatBytes(i.size), i.path])));
			process.stdout.write(`${answer.unused.length} unused image${answer.unused.length === 1 ? '' : 's'} hold${answer.unused.length === 1 ? 's' : ''} ${formatBytes(answer.bytes)}.\n`);
		} else {
			process.stdout.write('Every image is referenced.\n');
		}
		if (answer.possiblyUsed.length) {
			process.stdout.write(`${answer.possiblyUsed.length} more may be used through a pattern (not counted as unused):\n`);
			for (const p of answer.possiblyUsed.slice(0, 50)) {
				const by = p.by[0];
				process.stdout.write(`  ${printable(p.path)}  (${printable(by.file)}:${by.line} ${printable(by.pattern)}${p.by.length > 1 ? `, +${p.by.length - 1}` : ''})\n`);
			}
			if (answer.possiblyUsed.length > 50) {
				process.stdout.write(`  … and ${answer.possiblyUsed.length - 50} more (--json lists them all)\n`);
			}
		}
		return 0;
	},
};

export const brokenCommand: CommandDef = {
	name: 'broken',
	summary: 'image references that point nowhere (exit 1 when there are any: a CI check)',
	usage: ['broken [--scope <folder>] [--public <dir>] [--exclude <glob>] [--index <dir>] [--json]'],
	options: ['scope', 'public', 'exclude', 'index', 'json'],
	notes: [
		FOLDER_NOTE,
		'Reasons: missing, wrong case (breaks on Linux and in git, even where the disk ignores case), missing srcset candidate, outside the folder. A moved or renamed image is found from what the index remembers of it; a replaced one suggests the nearest image by cosine.',
		'Exit status: 1 when a reference is broken, 0 when none is. --scope: only the references of files under that folder.',
		'With --json: {"broken": [{"file", "line", "column", "target", "reason", "suggestion"}]}.',
	],
	run: async (_positionals, values) => {
		if (_positionals.length) {
			throw new UsageError('broken takes no paths: use --scope <folder> for part of the folder.');
		}
		const uses = await openFolder(values);
		const broken = (await uses.broken(await scopeOf(uses, values))).map(brokenRow);
		if (values.json) {
			process.stdout.write(`${JSON.stringify({ broken })}\n`);
			return broken.length ? 1 : 0;
		}
		if (!broken.length) {
			process.stdout.write(`No broken image references (${uses.refs.stats.references} in ${uses.refs.stats.files} files).\n`);
			return 0;
		}
		for (const b of broken) {
			const suggestion = b.suggestion ? `  → ${printable(b.suggestion)}${b.suggested?.why === 'similar' ? ` (similar image, cosine ${b.suggested.cosine})` : b.suggested?.why === 'moved' ? ' (moved)' : ''}` : '';
			process.stdout.write(`${printable(b.file)}:${b.line}:${b.column}  ${printable(b.target)}  ${b.reason}${suggestion}\n`);
		}
		const files = new Set(broken.map(b => b.file)).size;
		process.stdout.write(`${broken.length} broken image reference${broken.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}.\n`);
		return 1;
	},
};
