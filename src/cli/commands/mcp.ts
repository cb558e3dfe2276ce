/**
 * @file `clip-search mcp`: the agent tools (core/agent) as a Model Context Protocol server on stdio,
 * for the folder it is started in. Models load on the first call that needs one and are kept; every
 * call reads the index's generation, so what a concurrent `clip-search index` commits is seen. stdout
 * is the protocol: everything else goes to stderr.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { type AgentContext, runAgentTool, sessionsFor, type ToolOutput } from '../../core/agent/agentTools';
import { TOOL_DEFS } from '../../core/agent/toolDefs';
import { TOOL_SCHEMAS } from '../../core/agent/toolSchemas';
import { ClipError, describeError } from '../../core/common/errors';
import { printable } from '../../core/common/printable';
import type { IndexStore } from '../../core/index/indexStore';
import { ClipEncoder } from '../../core/model/runtime/encoder';
import { describeRelease, IdleReleaser, idleLimits, systemIdleClock } from '../../core/model/runtime/idleRelease';
import { sameModel, stampOf } from '../../core/index/indexSession';
import { isModelPath, resolveModel } from '../../core/model/hub/modelResolver';
import { modelKey, type ModelVariant } from '../../core/model/layouts/modelSpec';
import { bundledOcrModels, OcrEngine } from '../../core/ocr/ocrEngine';
import { FolderUsesCache } from '../../core/refs/folderUses';
import { type CommandDef, indexDirFor, providerOption, threadsOption, UsageError } from '../args';
import { stage } from '../output';
import { packageVersion } from '../version';

const INSTRUCTIONS =
	'Tools over an index of the images in one folder, built by CLIP Image Search (clip-search index). Search images by what they show or the text in them, find similar or duplicate images, read an image\'s text, label images with classes; find where an image is used, which images nothing uses, and which image links are broken (these need no index). Paths are relative to the folder; results are JSON text, previews only when asked.';

/** A tool's output as an MCP result: JSON text first, structured content, previews, links to the files. */
export function mcpResult(out: ToolOutput): { content: ({ type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string } | { type: 'resource_link'; uri: string; name: string; mimeType: string })[]; structuredContent: Record<string, unknown> } {
	return {
		content: [
			{ type: 'text', text: JSON.stringify(out.data) },
			...out.images.map(i => ({ type: 'image' as const, data: i.base64, mimeType: i.mimeType })),
			...out.links.map(l => ({ type: 'resource_link' as const, uri: l.uri, name: l.name, mimeType: l.mimeType })),
		],
		structuredContent: out.data,
	};
}

export const mcpCommand: CommandDef = {
	name: 'mcp',
	summary: 'serve the agent tools over MCP (stdio) for the current folder',
	usage: ['mcp [<folder>] [--index <dir>] [--model <dir|id>] [--provider P] [--threads N]'],
	options: ['index', 'model', 'provider', 'threads'],
	notes: ['Add it to an agent as a stdio server: command "clip-search", args ["mcp", "/path/to/project"] (README: Agents). Started in / or the home folder it needs the folder named.'],
	run: async ([folder], values) => {
		const root = path.resolve(folder ?? process.cwd());
		if (folder === undefined && (root === path.parse(root).root || root === path.resolve(os.homedir()))) {
			// A client with no project folder starts servers in / or the home folder: serving that would
			// expose everything below it (and advise indexing it). The folder must be named.
			throw new UsageError(`mcp was started in ${root} without a folder: give the project folder, e.g. clip-search mcp /path/to/project (set it in the client's args, README: Agents).`);
		}
		const provider = providerOption(values);
		const threads = threadsOption(values);
		const log = (m: string): void => void process.stderr.write(`[clip-search mcp] ${printable(m)}\n`);
		const encoders = new Map<string, Promise<ClipEncoder>>();
		let ocr: Promise<OcrEngine> | undefined;
		let ocrLoaded: OcrEngine | undefined;
		const uses = new FolderUsesCache(() => ({ log: process.env.CLIP_SEARCH_VERBOSE ? log : undefined }));
		const ctx: AgentContext = {
			folders: [{ name: path.basename(root), root, indexDir: indexDirFor(values, root) }],
			session: sessionsFor(process.env.CLIP_SEARCH_VERBOSE ? log : undefined),
			encoder: (store: IndexStore) => {
				let enc = encoders.get(store.model.key);
				if (!enc) {
					enc = (async () => {
						// Never a download here: a missing model is an error that says how to get it, with a command that works.
						const local = isModelPath(store.model.id);
						const spec = await resolveModel(values.model ?? store.model.id, { variant: store.model.variant as ModelVariant, allowDownload: false }).catch((err: unknown) => {
							throw ClipError.is(err, 'ModelNotFound')
								? new ClipError(
										'ModelNotFound',
										local && !values.model
											? `The model folder of this index (${store.model.id}) is not there: if it moved, start the server with --model <its new place> (clip-search mcp ${root} --model <folder>).`
											: `The model of this index (${values.model ?? store.model.id}) is not on this machine: run \`clip-search index ${root}\` once to download it. (${describeError(err)})`,
									)
								: err;
						});
						if (!sameModel(stampOf(spec), store.model)) {
							throw new ClipError('ModelMismatch', `The index was made with ${store.model.key}, but ${values.model ? `--model ${values.model}` : 'that model now'} is ${modelKey(spec)}: run \`clip-search index ${root}\` to index again.`);
						}
						const made = new ClipEncoder(spec, { provider, threads, log: process.env.CLIP_SEARCH_VERBOSE ? log : undefined, onStage: stage });
						loadedEncoders.push(made);
						return made;
					})();
					enc.catch(() => encoders.delete(store.model.key)); // tried again on the next call
					encoders.set(store.model.key, enc);
				}
				return enc;
			},
			ocr: () => (ocr ??= Promise.resolve((ocrLoaded = new OcrEngine(bundledOcrModels(), { threads: 1 })))),
			// No watcher here: each question re-reads only the text files that changed since the last.
			uses: (f, index) => uses.get(f.root, index),
			log,
		};
		// [Note: light in the background] in core/model/runtime/idleRelease.ts: a server an agent keeps for hours
		// holds only what it uses. CLIP_SEARCH_IDLE_UNLOAD_S: seconds before the image model and text
		// recognition are released (the text model: three times as long); 0 keeps them.
		const idleSeconds = Number(process.env.CLIP_SEARCH_IDLE_UNLOAD_S ?? 300);
		const loadedEncoders: ClipEncoder[] = [];
		const idle = new IdleReleaser(
			() => [...loadedEncoders, ...(ocrLoaded ? [ocrLoaded] : [])],
			idleLimits(Number.isFinite(idleSeconds) && idleSeconds > 0 ? idleSeconds / 60 : 0),
			systemIdleClock,
			(parts, limits, now) => log(describeRelease(parts, limits, now)),
		);
		const server = new McpServer({ name: 'clip-search', version: packageVersion() }, { instructions: INSTRUCTIONS });
		for (const def of TOOL_DEFS) {
			server.registerTool(
				def.name,
				{
					title: def.displayName,
					description: def.description,
					inputSchema: TOOL_SCHEMAS[def.name].shape,
					annotations: { readOnlyHint: def.readOnly, destructiveHint: false, idempotentHint: def.idempotent, openWorldHint: false },
				},
				async (args: unknown) => {
					try {
						return mcpResult(await runAgentTool(ctx, def.name, args));
					} catch (err) {
						log(`${def.name}: ${describeError(err)}`);
						return { isError: true, content: [{ type: 'text' as const, text: describeError(err) }] };
					}
				},
			);
		}
		const transport = new StdioServerTransport();
		const closed = new Promise<void>(resolve => {
			transport.onclose = resolve;
			process.stdin.once('end', resolve);
		});
		await server.connect(transport);
		log(`serving ${TOOL_DEFS.length} tools for ${root} (index ${ctx.folders[0].indexDir})`);
		await closed;
		idle.dispose();
		for (const enc of encoders.values()) {
			await (await enc.catch(() => undefined))?.dispose();
		}
		await (await ocr)?.dispose();
		return 0;
	},
};
