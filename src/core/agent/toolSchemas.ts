/** @file The agent tools' input schemas (zod), checked by both faces; package.json's inputSchema is their JSON Schema (a test checks it). */
import { z } from 'zod';
import { SORT_KEYS } from '../search/hitOrder';
import { MAX_DUPLICATE_GROUPS, MAX_PATHS_PER_GROUP, MAX_RESULTS, MAX_THUMBNAILS, MAX_USE_ROWS, type ToolName } from './toolDefs';

const kMessage = `k must be a whole number from 1 to ${MAX_RESULTS}`;
const k = z.number(kMessage).int(kMessage).min(1, kMessage).max(MAX_RESULTS, `${kMessage} (tool results are capped; page with min_score or folder instead)`).default(10).describe(`How many images to return (1 to ${MAX_RESULTS}).`);
const thumbnails = {
	include_thumbnails: z.boolean().default(false).describe(`Also return small previews of the first ${MAX_THUMBNAILS} results (costs tokens; paths and scores always come as text).`),
	thumbnail_size: z.number().int().min(64, 'thumbnail_size must be from 64 to 512').max(512, 'thumbnail_size must be from 64 to 512').default(256).describe('Long side of a preview in pixels (64 to 512).'),
};
const folder = z.string().min(1).optional().describe('Only images under this folder (relative to the workspace folder).');
/** How many rows a list returns (1 to MAX_USE_ROWS); the total is always given. */
const rows = (initial: number, what: string) => {
	const message = `limit must be a whole number from 1 to ${MAX_USE_ROWS}`;
	return z.number(message).int(message).min(1, message).max(MAX_USE_ROWS, message).default(initial).describe(`How many ${what} to return (1 to ${MAX_USE_ROWS}); the total is always given.`);
};
const imagePath = z.string().min(1).describe('The image: a path relative to the workspace folder (as results give it), or absolute inside it.');

export const TOOL_SCHEMAS = {
	search_images: z.object({
		query: z
			.string()
			.trim()
			.min(1, 'the query is empty: describe what the image shows, e.g. "a red error icon"')
			.max(500)
			.describe(
				'What the images show, in words ("diagram with arrows", "screenshot of a login form"); text:words or a "quoted phrase" searches the text inside images; "a" + ./ref.png - "b" combines terms. Filters anywhere narrow it (a leading - negates): type:png,jpg after:2025-06-01 before:7d larger:200KB smaller:2MB wider:1000 taller:500 size:>=512x512 path:icons/** tag:screenshot has:text.',
			),
		k,
		folder,
		min_score: z.number().min(-1).max(1).optional().describe('Leave out images scoring below this cosine (-1 to 1).'),
		sort: z.enum(SORT_KEYS).default('relevance').describe('Order of the hits that pass the relevance cut-off (min_score, or one chosen from the scores and returned as cutoff): relevance, modified (newest first), name (by path), size (largest first).'),
		like: z.array(imagePath).max(20).optional().describe('More like these images: workspace images whose look the query moves towards (left out of the results).'),
		unlike: z.array(imagePath).max(20).optional().describe('Less like these images: the query moves away from them (left out of the results).'),
		...thumbnails,
	}),
	find_similar_images: z.object({ path: imagePath, k, ...thumbnails }),
	read_image_text: z.object({ path: imagePath }),
	label_images: z.object({
		classes: z.array(z.string().trim().min(1)).min(2, 'give at least two classes to choose between').max(256, 'at most 256 classes').optional().describe('Class names to choose between, e.g. ["screenshot", "photo", "diagram"] (at least two).'),
		classes_file: z.string().min(1).optional().describe('Instead of classes: a classes file in the workspace (e.g. .vscode/image-labels.json) with prompts and examples.'),
		folder,
		threshold: z.number().min(0).max(1).optional().describe('Probability under which an image gets no label (0 to 1).'),
		write_tags: z.boolean().default(false).describe('Also write the labels to each folder\'s tags file (.vscode/image-tags.json), replacing the tags there. Only when the user asked for tags to be saved.'),
	}),
	find_duplicate_images: z.object({
		folder,
		limit: z.number().int().min(1, `limit must be from 1 to ${MAX_DUPLICATE_GROUPS}`).max(MAX_DUPLICATE_GROUPS, `limit must be from 1 to ${MAX_DUPLICATE_GROUPS}`).default(20).describe(`How many groups to return (1 to ${MAX_DUPLICATE_GROUPS}); each shows at most ${MAX_PATHS_PER_GROUP} paths.`),
		threshold: z.number().min(0.5).max(1).default(0.95).describe('Cosine from which two images count as duplicates (0.5 to 1; 0.95 joins re-encodes and resizes).'),
	}),
	find_image_references: z.object({ path: imagePath, limit: rows(100, 'references') }),
	find_unused_images: z.object({ folder, limit: rows(50, 'images') }),
	find_broken_image_links: z.object({ folder: folder.describe('Only the references of text files under this folder (relative to the workspace folder).'), limit: rows(100, 'broken references') }),
	image_index_status: z.object({}),
} as const satisfies Record<ToolName, z.ZodType>;

export type ToolInput<T extends ToolName> = z.infer<(typeof TOOL_SCHEMAS)[T]>;

/** The JSON Schema of a tool's input, as package.json declares it for VS Code. */
export function inputJsonSchema(name: ToolName): Record<string, unknown> {
	const schema = z.toJSONSchema(TOOL_SCHEMAS[name], { io: 'input' }) as Record<string, unknown>;
	delete schema.$schema;
	return schema;
}
