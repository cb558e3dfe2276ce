/**
 * @file `clip-search`: the command-line face of the engine. This file only dispatches: each command
 * lives in commands/, with its own usage, options and checks. Command names, options and JSON shapes
 * are a contract (tests and outside checks rely on them); see README.md.
 */
import { ClipError, describeError } from '../core/common/errors';
import { printable } from '../core/common/printable';
import { type CommandDef, nearest, OPTIONS, parseCommandArgs, UsageError } from './args';
import { duplicatesCommand } from './commands/duplicates';
import { indexCommand } from './commands/indexing';
import { labelCommand } from './commands/label';
import { mcpCommand } from './commands/mcp';
import { embedCommand, modelsCommand, tokenizeCommand } from './commands/model';
import { ocrCommand } from './commands/ocr';
import { searchCommand, similarCommand } from './commands/search';
import { statsCommand } from './commands/stats';
import { brokenCommand, refsCommand, unusedCommand } from './commands/uses';
import { packageVersion } from './version';

export const COMMANDS: readonly CommandDef[] = [indexCommand, searchCommand, similarCommand, duplicatesCommand, refsCommand, unusedCommand, brokenCommand, labelCommand, ocrCommand, statsCommand, modelsCommand, embedCommand, tokenizeCommand, mcpCommand];

function overview(): string {
	const width = Math.max(...COMMANDS.map(c => c.name.length));
	return [
		'Usage: clip-search <command> [options]',
		'',
		'Commands:',
		...COMMANDS.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`),
		'',
		'clip-search help <command> (or <command> --help) shows a command\'s options. clip-search --version prints the version.',
		'Without --index, the index of the current folder is used (the one "clip-search index ." makes).',
	].join('\n');
}

function usageOf(def: CommandDef): string {
	return `Usage: ${def.usage.map(u => `clip-search ${u}`).join('\n       ')}\nRun "clip-search help ${def.name}" for its options.`;
}

function helpOf(def: CommandDef): string {
	const flags = [...def.options, 'help' as const].map(name => {
		const o = OPTIONS[name];
		const flag = 'short' in o ? `-${o.short}, --${name}` : `    --${name}`;
		return [`${flag}${'value' in o ? ` ${o.value}` : ''}`, (name !== 'help' && def.optionHelp?.[name]) || o.help];
	});
	const width = Math.max(...flags.map(([f]) => f.length));
	return [
		`clip-search ${def.name}: ${def.summary}`,
		'',
		`Usage: ${def.usage.map(u => `clip-search ${u}`).join('\n       ')}`,
		'',
		'Options:',
		...flags.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`),
		...(def.notes?.length ? ['', ...def.notes] : []),
	].join('\n');
}

const find = (name: string | undefined): CommandDef | undefined => COMMANDS.find(c => c.name === name);

function unknownCommand(name: string): string {
	const near = nearest(name, COMMANDS.map(c => c.name));
	return `clip-search: unknown command "${printable(name)}"${near ? ` (did you mean ${near}?)` : ''}.\n${overview()}\n`;
}

export async function main(argv: string[]): Promise<number> {
	const [first, ...rest] = argv;
	if (first === '--version' || first === '-V') {
		process.stdout.write(`${packageVersion()}\n`);
		return 0;
	}
	if (first === undefined || first === '--help' || first === '-h') {
		(first ? process.stdout : process.stderr).write(`${overview()}\n`);
		return first ? 0 : 2;
	}
	if (first === 'help') {
		const def = find(rest[0]);
		if (rest[0] !== undefined && !def) {
			process.stderr.write(unknownCommand(rest[0]));
			return 2;
		}
		process.stdout.write(`${def ? helpOf(def) : overview()}\n`);
		return 0;
	}
	const def = find(first);
	if (!def) {
		process.stderr.write(unknownCommand(first));
		return 2;
	}
	try {
		const { values, positionals } = parseCommandArgs(def, rest);
		if (values.help) {
			process.stdout.write(`${helpOf(def)}\n`);
			return 0;
		}
		return await def.run(positionals, values);
	} catch (err) {
		if (err instanceof UsageError) {
			process.stderr.write(`clip-search ${def.name}: ${printable(err.message)}\n${usageOf(def)}\n`);
			return 2;
		}
		const code = ClipError.is(err) ? ` [${err.code}]` : '';
		process.stderr.write(`clip-search: ${printable(describeError(err))}${code}\n`);
		if (process.env.CLIP_SEARCH_VERBOSE && err instanceof Error) {
			process.stderr.write(`${err.stack}\n`);
		}
		return 1;
	}
}
