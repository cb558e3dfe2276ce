/**
 * @file The agent tools: one definition each — name and what the model reads about when to use it
 * (the input schemas are in toolSchemas.ts, apart, so that the extension host loads no schema library) — served by both faces, VS Code's Language Model tools (src/extension/agents/agentTools.ts, declared in
 * package.json, checked against these by a test) and `clip-search mcp`. Names are snake_case: VS Code
 * allows no dots in tool names.
 *
 * [Note: tool output] Agents' clients cap what a tool may return (Claude Code about 25k tokens,
 * Claude Desktop 1 MB a result) and some drop images. So every result is JSON text first (paths,
 * scores, the matched line), lists are capped, and thumbnails come only when asked: at most 8, WebP,
 * 256 px on the long side by default (about 90 tokens each), never above 512.
 */
export const MAX_RESULTS = 50;
export const MAX_THUMBNAILS = 8;
/** find_duplicate_images: groups shown at most (the limit's ceiling), and paths shown of one group. */
export const MAX_DUPLICATE_GROUPS = 100;
export const MAX_PATHS_PER_GROUP = 10;

/** find_image_references, find_unused_images, find_broken_image_links: rows shown at most (the limit's ceiling). */
export const MAX_USE_ROWS = 200;

export const TOOL_NAMES = [
	'search_images',
	'find_similar_images',
	'read_image_text',
	'label_images',
	'find_duplicate_images',
	'find_image_references',
	'find_unused_images',
	'find_broken_image_links',
	'image_index_status',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export interface ToolDef {
	name: ToolName;
	/** For people: VS Code's tool picker. */
	displayName: string;
	/** `#searchImages` in a chat prompt. */
	toolReferenceName: string;
	/** For the model: when to use it, and when not. */
	description: string;
	readOnly: boolean;
	/** Running it twice with the same input leaves the same result (MCP's idempotentHint). */
	idempotent: boolean;
}

export const TOOL_DEFS: readonly ToolDef[] = [
	{
		name: 'search_images',
		displayName: 'Search Images',
		toolReferenceName: 'searchImages',
		readOnly: true,
		idempotent: true,
		description:
			'Find images in the workspace by what they show or the text inside them, e.g. "architecture diagram", "screenshot with the old logo"; filters in the query narrow it (type:png after:7d path:icons/**, see the query field). Returns relative paths with scores and why each matched, best first. Use before referencing or editing images. Not for listing files by name (use file search) or for reading one known image\'s text (use read_image_text).',
	},
	{
		name: 'find_similar_images',
		displayName: 'Find Similar Images',
		toolReferenceName: 'similarImages',
		readOnly: true,
		idempotent: true,
		description: 'Find the images that look most like a given workspace image (variants, re-exports, the same scene). Returns relative paths with scores. Not for exact duplicates across the workspace (use find_duplicate_images).',
	},
	{
		name: 'read_image_text',
		displayName: 'Read Image Text',
		toolReferenceName: 'imageText',
		readOnly: true,
		idempotent: true,
		description: 'Read the text inside one workspace image (a screenshot, a diagram, a slide): its lines, as OCR recognised them. Use to quote or check what an image says. Not for finding which image shows some words (use search_images with text:words).',
	},
	{
		name: 'label_images',
		displayName: 'Label Images',
		toolReferenceName: 'labelImages',
		readOnly: false,
		idempotent: true,
		description:
			'Sort the workspace\'s images into classes you name (or a classes file\'s): each image gets its closest class with a probability, counts per class. With write_tags it also writes the labels to .vscode/image-tags.json in each folder, replacing the tags there: use it only when the user asked for tags to be saved. Not for finding a few images (use search_images).',
	},
	{
		name: 'find_duplicate_images',
		displayName: 'Find Duplicate Images',
		toolReferenceName: 'duplicateImages',
		readOnly: true,
		idempotent: true,
		description:
			'Find groups of near-identical images in the workspace (copies, re-encodes, resizes), largest similarity first, capped by limit; each image with how many places reference it (uses), so the copy to keep is clear. Use to clean up assets. Deletes nothing. Not for images that merely look alike (use find_similar_images).',
	},
	{
		name: 'find_image_references',
		displayName: 'Find Image References',
		toolReferenceName: 'imageReferences',
		readOnly: true,
		idempotent: true,
		description:
			'List every place in the workspace\'s text files that uses one image: Markdown, HTML and templates (src, srcset), CSS url(), imports and strings in scripts, JSON/YAML manifests, through path aliases and root-relative paths. Returns file, line, column and the line. Use before renaming, moving, replacing or deleting an image. Not for finding images by what they show (use search_images).',
	},
	{
		name: 'find_unused_images',
		displayName: 'Find Unused Images',
		toolReferenceName: 'unusedImages',
		readOnly: true,
		idempotent: true,
		description:
			'List the workspace images that no text file references, biggest first, with the bytes they hold; images a pattern may name (`icons/${name}.png`) are listed apart as possibly used. Use to clean up assets, and confirm with the user before deleting anything. Deletes nothing. Not for duplicates (use find_duplicate_images).',
	},
	{
		name: 'find_broken_image_links',
		displayName: 'Find Broken Image Links',
		toolReferenceName: 'brokenImageLinks',
		readOnly: true,
		idempotent: true,
		description:
			'List image references that point nowhere: missing files, a wrong letter case (breaks on Linux and in git), a missing srcset candidate, a path outside the folder; each with file, line, column and a suggested fix when one is known (a moved image\'s new path, the real case, the nearest image). Use to check docs and pages, or after moving or renaming images. Changes nothing.',
	},
	{
		name: 'image_index_status',
		displayName: 'Image Index Status',
		toolReferenceName: 'imageIndexStatus',
		readOnly: true,
		idempotent: true,
		description: 'How far the workspace\'s image index is: files indexed, model, execution provider, whether indexing runs now, which files failed and why. Use when a search finds nothing or seems stale.',
	},
];

