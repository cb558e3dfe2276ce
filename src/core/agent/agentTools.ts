/**
 * @file Runs the agent tools (toolDefs.ts) over the indexes of one or more folders: input checked
 * against the schema, every path kept inside its folder, results as JSON text plus structured data,
 * previews only when asked. Used by `clip-search mcp` (its own process) and by the extension's
 * inference worker (the VS Code tools: no second model load). No tool downloads a model or starts
 * an indexing run: an unindexed folder or a missing model is an error that says what to run.
 *
 * [Note: what an agent may reach] A prompt-injected agent chooses every argument. Each path it gives
 * (an image, a classes file, an image term in a query) and each path a result leads to (previews)
 * goes through common/confine.ts: it stays inside the folder once links are followed, and a file is
 * read once, as a regular file, with a bound. A path that is missing, outside the folder or
 * unreadable gets one answer, so an agent cannot probe which files exist elsewhere.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClipError } from '../common/errors';
import { readImageFile } from '../common/files';
import { FolderSession } from '../index/folderSession';
import { indexStatus } from '../index/indexStatus';
import { currentLockHolder } from '../index/lock';
import { readClassesFile } from '../labels/classesFile';
import { describeWarning, Labeler, type LabelClass } from '../labels/labeler';
import { defaultTagsFile, tagsForSearch, writeTagsFile } from '../labels/tagsFile';
import { DEFAULT_MAX_PIXELS } from '../model/inputs/preprocess';
import { findDuplicates } from '../search/duplicates';
import { compareBy } from '../search/hitOrder';
import { type SearchAnswer, searchDetailed, similar } from '../search/search';
import { type Why } from '../search/why';
import { brokenRow } from '../refs/folderUses';
import { MAX_PATHS_PER_GROUP, type ToolName } from './toolDefs';
import { TOOL_SCHEMAS, type ToolInput } from './toolSchemas';
import { type AgentContext, type AgentFolder, NOT_INDEXED, fail, indexOf, noSuch, resolveInFolder, readInFolder, scopeOf, shown, withPreviews, mimeOf, type ToolOutput } from './agentFolders';

export type { AgentContext, AgentFolder, ToolOutput } from './agentFolders';

const NOTHING_REFERENCES = 'No text file of the folder references it (Markdown, HTML and templates, CSS, scripts, JSON and YAML were read; .gitignored files, node_modules and build output were not).';

/** The "what to do next" of the errors agents most often meet. */
type Runner<T extends ToolName> = (ctx: AgentContext, input: ToolInput<T>) => Promise<ToolOutput>;

const RUNNERS: { [T in ToolName]: Runner<T> } = {
	async search_images(ctx, input) {
		const { folders, scope } = await scopeOf(ctx, input.folder);
		const hits: { folder: AgentFolder; path: string; score: number; text?: string; textScore?: number; mtimeMs?: number; size?: number; why?: Why }[] = [];
		const notes = new Set<string>();
		// Examples are workspace images, named as the results name them (one answer when not: [Note: what an agent may reach]).
		const like = await Promise.all((input.like ?? []).map(async p => (await resolveInFolder(ctx, p, 'file')).abs));
		const unlike = await Promise.all((input.unlike ?? []).map(async p => (await resolveInFolder(ctx, p, 'file')).abs));
		let applied: Pick<SearchAnswer, 'filters' | 'sort' | 'cutoff'> | undefined;
		for (const folder of folders) {
			const store = await indexOf(ctx, folder);
			const encoder = await ctx.encoder(store);
			const { tagsOf, tagsProblem } = await tagsForSearch(defaultTagsFile(folder.root), folder.root);
			const answer = await searchDetailed(store, encoder, input.query, {
				k: input.k,
				minScore: input.min_score,
				sort: input.sort,
				like,
				unlike,
				likeRoots: ctx.folders.map(f => f.root),
				tagsOf,
				tagsProblem,
				scope,
				cwd: folder.root,
				within: folder.root,
				onNote: n => notes.add(n),
			}).catch((err: unknown) => {
				if (tagsProblem && err === tagsProblem) {
					// A tag: filter over a tags file that cannot be used: said as the folder's tags file, whatever it leads to.
					throw new ClipError('FileUnreadable', `tag: needs the folder's tags file (.vscode/image-tags.json), and it cannot be used here (not a readable tags file inside the folder): label the images again (label_images with write_tags).`);
				}
				// An image term the folder does not hold: the one answer ([Note: what an agent may reach]).
				throw ClipError.is(err, 'OutsideFolder') || ClipError.is(err, 'FileUnreadable') ? noSuch(ctx, err.file ?? 'an image in the query', 'image') : err;
			});
			applied ??= answer;
			for (const r of answer.results) {
				hits.push({ folder, ...r });
			}
		}
		hits.sort(compareBy(input.sort));
		const top = hits.slice(0, input.k);
		const round = (n: number): number => Math.round(n * 1e4) / 1e4;
		const results = top.map(h => ({
			path: shown(ctx, h.folder, h.path),
			score: round(h.score),
			...(h.text ? { text: h.text, text_score: round(h.textScore ?? 0) } : {}),
			...(h.why ? { why: roundWhy(h.why, round, p => shown(ctx, h.folder, p)) } : {}),
		}));
		return {
			data: {
				query: input.query,
				filters: applied?.filters ?? [],
				sort: input.sort,
				...(applied?.cutoff ? { cutoff: { score: round(applied.cutoff.score), rule: applied.cutoff.rule } } : {}),
				results,
				...(notes.size ? { notes: [...notes] } : results.length ? {} : { notes: ['No image matched. Try other words or fewer filters, or image_index_status to see what is indexed.'] }),
			},
			...(await withPreviews(
				ctx,
				top.map(h => ({ abs: path.join(h.folder.root, ...h.path.split('/')), shown: shown(ctx, h.folder, h.path), root: h.folder.root })),
				input,
			)),
		};
	},

	async find_similar_images(ctx, input) {
		const { folder, rel, abs } = await resolveInFolder(ctx, input.path, 'file');
		const store = await indexOf(ctx, folder);
		const encoder = await ctx.encoder(store);
		const found = await readInFolder(ctx, input.path, folder, 'image', () => similar(store, encoder, abs, { k: input.k, cwd: folder.root, within: folder.root }));
		const results = found.map(r => ({ path: shown(ctx, folder, r.path), score: Math.round(r.score * 1e4) / 1e4 }));
		return {
			data: { path: shown(ctx, folder, rel), results },
			...(await withPreviews(
				ctx,
				found.map(r => ({ abs: path.join(folder.root, ...r.path.split('/')), shown: shown(ctx, folder, r.path), root: folder.root })),
				input,
			)),
		};
	},

	async read_image_text(ctx, input) {
		const { folder, rel, abs } = await resolveInFolder(ctx, input.path, 'file');
		const store = await (await ctx.session(folder)).read().catch(() => undefined);
		const hash = store?.files.get(rel)?.hash;
		const known = hash ? store?.textOf(hash) : undefined;
		let lines: string[];
		let source: string;
		if (known) {
			lines = known;
			source = 'the index (read when it was indexed)';
		} else {
			const ocr = await ctx.ocr();
			const bytes = await readInFolder(ctx, input.path, folder, 'image', () => readImageFile(abs, ctx.maxPixels ?? DEFAULT_MAX_PIXELS, 'the image', folder.root));
			lines = (await ocr.recognize(rel, bytes)).map(l => l.text);
			source = 'read now';
		}
		return { data: { path: shown(ctx, folder, rel), lines, source }, images: [], links: [{ uri: pathToFileURL(abs).href, name: shown(ctx, folder, rel), mimeType: mimeOf(abs) }] };
	},

	async label_images(ctx, input) {
		if (!input.classes && !input.classes_file) {
			fail('Give classes (at least two names, e.g. ["screenshot", "photo"]) or classes_file (a classes file in the workspace).');
		}
		if (input.classes && input.classes_file) {
			fail('Give classes or classes_file, not both: which should decide the labels?');
		}
		const { folders, scope } = await scopeOf(ctx, input.folder);
		const perFolder: Record<string, unknown>[] = [];
		const labels: { path: string; label: string | null; score: number }[] = [];
		// Class names are anyone's words ("__proto__", "toString"): counted in a Map, never as object keys.
		const counts = new Map<string, number>();
		const warnings: string[] = [];
		for (const folder of folders) {
			let classes: LabelClass[];
			let classesFile: string | undefined;
			if (input.classes_file) {
				const one = { ...ctx, folders: [folder] };
				const file = await resolveInFolder(one, input.classes_file, 'file', 'classes file');
				classesFile = file.abs;
				classes = await readInFolder(one, input.classes_file, folder, 'classes file', () => readClassesFile(file.abs, { within: folder.root }));
			} else {
				classes = input.classes!.map(name => ({ name }));
				if (new Set(input.classes).size !== input.classes!.length) {
					fail('A class is given twice: give each class once.');
				}
			}
			const store = await indexOf(ctx, folder);
			const labeler = await Labeler.create(await ctx.encoder(store), classes, { store });
			warnings.push(...labeler.warnings.map(w => describeWarning(w, input.classes_file ?? 'classes')));
			const found = labeler.labelIndex(store, { threshold: input.threshold, scope });
			for (const l of found) {
				labels.push({ path: shown(ctx, folder, l.path), label: l.label, score: Math.round(l.score * 1e4) / 1e4 });
				const key = l.label ?? '(none)';
				counts.set(key, (counts.get(key) ?? 0) + 1);
			}
			if (input.write_tags) {
				const tagsFile = path.join(folder.root, '.vscode', 'image-tags.json');
				await writeTagsFile(tagsFile, found, { model: store.model.key, classes, classesFile, key: scope ? undefined : labeler.key, within: folder.root });
				perFolder.push({ folder: folder.name, tagsFile: path.relative(folder.root, tagsFile).split(path.sep).join('/') });
			}
		}
		const shownLabels = labels.slice(0, 200);
		return {
			data: {
				counts: Object.fromEntries(counts),
				labels: shownLabels,
				...(labels.length > shownLabels.length ? { truncated: `${labels.length - shownLabels.length} more images are labelled; the counts cover all of them` } : {}),
				...(perFolder.length ? { written: perFolder } : {}),
				...(warnings.length ? { warnings } : {}),
			},
			images: [],
			links: [],
		};
	},

	async find_duplicate_images(ctx, input) {
		const { folders, scope } = await scopeOf(ctx, input.folder);
		const prefix = scope ? `${scope}/` : '';
		const groups: { paths: string[]; score: number; images: { path: string; uses: number }[] }[] = [];
		for (const folder of folders) {
			const store = await indexOf(ctx, folder);
			const found = findDuplicates(store, input.threshold)
				.map(g => ({ ...g, paths: g.paths.filter(p => p.startsWith(prefix)) }))
				.filter(g => g.paths.length > 1);
			// Each copy's uses (core/refs/): read only when there are groups.
			const withUses = found.length ? await (await ctx.uses(folder, store)).withUses(found) : [];
			for (const g of withUses) {
				groups.push({
					paths: g.paths.map(p => shown(ctx, folder, p)),
					score: Math.round(g.score * 1e4) / 1e4,
					images: g.images.map(i => ({ path: shown(ctx, folder, i.path), uses: i.uses })),
				});
			}
		}
		// [Note: tool output] in toolDefs.ts: a folder of icons made 317,166 characters in one result.
		const capped = groups.slice(0, input.limit).map(g => ({
			...g,
			paths: g.paths.slice(0, MAX_PATHS_PER_GROUP),
			images: g.images.slice(0, MAX_PATHS_PER_GROUP),
			...(g.paths.length > MAX_PATHS_PER_GROUP ? { more: g.paths.length - MAX_PATHS_PER_GROUP } : {}),
		}));
		const cut = capped.some(g => 'more' in g);
		return {
			data: {
				threshold: input.threshold,
				groups: capped,
				...(groups.length > capped.length || cut
					? { truncated: `${groups.length} group(s) found; the first ${capped.length} shown${cut ? `, at most ${MAX_PATHS_PER_GROUP} paths each` : ''}. Narrow with folder, or raise threshold or limit.` }
					: {}),
			},
			images: [],
			links: [],
		};
	},

	async find_image_references(ctx, input) {
		const { folder, rel } = await resolveInFolder(ctx, input.path, 'file');
		const store = await (await ctx.session(folder)).read().catch(() => undefined);
		const rows = await (await ctx.uses(folder, store)).referencesTo(rel);
		const references = rows.slice(0, input.limit).map(r => ({ ...r, file: shown(ctx, folder, r.file) }));
		return {
			data: {
				image: shown(ctx, folder, rel),
				total: rows.length,
				references,
				...(rows.length > references.length ? { truncated: `${rows.length} references; the first ${references.length} shown (raise limit).` } : {}),
				...(rows.length ? {} : { notes: [NOTHING_REFERENCES] }),
			},
			images: [],
			links: [],
		};
	},

	async find_unused_images(ctx, input) {
		const { folders, scope } = await scopeOf(ctx, input.folder);
		const unused: { path: string; size: number }[] = [];
		const possiblyUsed: { path: string; size: number; by: { file: string; line: number; pattern: string }[] }[] = [];
		for (const folder of folders) {
			const store = await (await ctx.session(folder)).read().catch(() => undefined);
			const answer = await (await ctx.uses(folder, store)).unused(scope);
			unused.push(...answer.unused.map(u => ({ ...u, path: shown(ctx, folder, u.path) })));
			possiblyUsed.push(...answer.possiblyUsed.map(u => ({ ...u, path: shown(ctx, folder, u.path), by: u.by.slice(0, 3).map(b => ({ ...b, file: shown(ctx, folder, b.file) })) })));
		}
		unused.sort((a, b) => b.size - a.size);
		const shownUnused = unused.slice(0, input.limit);
		const shownPossibly = possiblyUsed.slice(0, input.limit);
		return {
			data: {
				total: unused.length,
				bytes: unused.reduce((n, u) => n + u.size, 0),
				unused: shownUnused,
				possiblyUsed: shownPossibly,
				...(unused.length > shownUnused.length || possiblyUsed.length > shownPossibly.length
					? { truncated: `${unused.length} unused and ${possiblyUsed.length} possibly used; the first ${input.limit} of each shown (raise limit, or narrow with folder).` }
					: {}),
				notes: ['Nothing was deleted. Confirm with the user before deleting: an image can also be used from outside the workspace (a website, another repository).'],
			},
			images: [],
			links: [],
		};
	},

	async find_broken_image_links(ctx, input) {
		const { folders, scope } = await scopeOf(ctx, input.folder);
		const broken: Record<string, unknown>[] = [];
		let total = 0;
		for (const folder of folders) {
			const store = await (await ctx.session(folder)).read().catch(() => undefined);
			const found = await (await ctx.uses(folder, store)).broken(scope);
			total += found.length;
			for (const b of found) {
				const row = brokenRow(b);
				broken.push({ ...row, file: shown(ctx, folder, row.file), ...(row.suggested ? { suggested: { ...row.suggested, path: shown(ctx, folder, row.suggested.path) } } : {}) });
			}
		}
		const shownRows = broken.slice(0, input.limit);
		return {
			data: {
				total,
				broken: shownRows,
				...(total > shownRows.length ? { truncated: `${total} broken references; the first ${shownRows.length} shown (raise limit, or narrow with folder).` } : {}),
			},
			images: [],
			links: [],
		};
	},

	async image_index_status(ctx) {
		const folders: Record<string, unknown>[] = [];
		for (const folder of ctx.folders) {
			const store = await (await ctx.session(folder)).read().catch(() => undefined);
			const holder = await currentLockHolder(folder.indexDir).catch(() => undefined);
			const indexing = (await ctx.indexing?.(folder)) ?? false;
			if (!store) {
				folders.push({ folder: folder.name, root: folder.root, indexed: false, indexing: indexing || !!holder, next: NOT_INDEXED(folder.root) });
				continue;
			}
			const s = await indexStatus(store);
			folders.push({
				folder: folder.name,
				root: folder.root,
				indexed: true,
				indexing: indexing || !!holder,
				...(holder && !indexing ? { indexedBy: `process ${holder.pid} (${holder.purpose})` } : {}),
				files: s.files,
				images: s.indexed,
				textRead: s.textRead,
				model: s.model.key,
				provider: s.provider,
				...(s.providerChoice ? { providerChoice: s.providerChoice } : {}),
				failed: s.failed.slice(0, 20),
				...(s.failed.length > 20 ? { moreFailed: s.failed.length - 20 } : {}),
			});
		}
		return { data: { folders }, images: [], links: [] };
	},
};

/**
 * Runs a tool on raw input (as an agent sent it): checked against its schema first; a wrong input
 * is an InvalidArgument that says what is allowed.
 */
export async function runAgentTool(ctx: AgentContext, name: string, input: unknown): Promise<ToolOutput> {
	if (!(name in TOOL_SCHEMAS)) {
		fail(`There is no tool "${name}" (the tools: ${Object.keys(TOOL_SCHEMAS).join(', ')}).`);
	}
	const tool = name as ToolName;
	const parsed = TOOL_SCHEMAS[tool].safeParse(input ?? {});
	if (!parsed.success) {
		fail(`${tool}: ${parsed.error.issues.map(i => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}.`);
	}
	return (RUNNERS[tool] as Runner<typeof tool>)(ctx, parsed.data as never);
}

/** The sessions of the MCP server (one process, its folders): made on first use, reloaded when the index changes. */
export function sessionsFor(log?: (m: string) => void): (folder: AgentFolder) => FolderSession {
	const sessions = new Map<string, FolderSession>();
	return folder => {
		let s = sessions.get(folder.root);
		if (!s) {
			s = new FolderSession(folder.root, folder.indexDir, log);
			sessions.set(folder.root, s);
		}
		return s;
	};
}

/** A hit's `why` for an agent: numbers rounded like the scores, a near-duplicate's path as results give paths. */
function roundWhy(why: Why, round: (n: number) => number, showPath: (rel: string) => string): Record<string, unknown> {
	return {
		cosine: round(why.cosine),
		...(why.terms ? { terms: why.terms.map(t => ({ term: t.term, weight: round(t.weight), cosine: round(t.cosine) })) } : {}),
		...(why.text !== undefined ? { text: why.text } : {}),
		...(why.tag ? { tag: { label: why.tag.label, ...(why.tag.probability !== undefined ? { probability: round(why.tag.probability) } : {}) } } : {}),
		...(why.duplicateOf ? { duplicateOf: showPath(why.duplicateOf) } : {}),
	};
}
