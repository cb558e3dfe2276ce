/**
 * @file Zero-shot labelling: each class is described by prompts, the prompts' text embeddings are
 * averaged into one class vector (computed once per run), and each image gets a probability per
 * class: softmax over classes of cosine × the model's logit scale.
 *
 * [Note: thresholds] In single-label mode an image gets its best class when that class's
 * probability reaches its threshold (the class's own, else the global one), else no label
 * ("none of these"). The default global threshold is 0: always the best class, as CLIP's
 * zero-shot classifier does. In multi-label mode every class at or above its threshold is
 * kept; there the default is 1/number-of-classes (better than chance), since probabilities
 * are shared among the classes an image shows.
 */
import type { ClipEncoder } from './encoder';
import { ClipError } from './errors';
import type { IndexStore } from './indexStore';
import { dot, l2normalize, softmax } from './vectors';

export interface LabelClass {
	name: string;
	/** Prompts for the class; "{}" stands for the name. Default: DEFAULT_TEMPLATES. */
	prompts?: string[];
	threshold?: number;
}

export interface LabelOptions {
	threshold?: number;
	multi?: boolean;
	/** Only files under this folder (relative, '/' separators). */
	scope?: string;
}

export interface ImageLabel {
	path: string;
	label: string | null;
	score: number;
	scores: Record<string, number>;
	/** Multi-label mode: every class at or above its threshold, best first. */
	labels?: string[];
}

export const DEFAULT_TEMPLATES = ['a photo of a {}.', 'an icon of a {}.', 'a drawing of a {}.', 'a picture of a {}.'];

/**
 * Reads classes from a comma-separated list or from a JSON value: ["cat", "dog"], or
 * { "cat": ["a photo of a cat"], "dog": { "prompts": [...], "threshold": 0.5 } }.
 */
export function parseClasses(input: string | unknown, source = 'classes'): LabelClass[] {
	let classes: LabelClass[];
	if (typeof input === 'string') {
		classes = input
			.split(',')
			.map(s => s.trim())
			.filter(Boolean)
			.map(name => ({ name }));
	} else if (Array.isArray(input)) {
		classes = input.map(v => {
			if (typeof v === 'string') {
				return { name: v };
			}
			if (typeof v === 'object' && v !== null && typeof (v as LabelClass).name === 'string') {
				return v as LabelClass;
			}
			throw new ClipError('InvalidArgument', `${source}: each class must be a name or {"name", "prompts", "threshold"}.`);
		});
	} else if (typeof input === 'object' && input !== null) {
		classes = Object.entries(input as Record<string, unknown>).map(([name, v]) => {
			if (Array.isArray(v)) {
				return { name, prompts: v.map(String) };
			}
			if (typeof v === 'object' && v !== null) {
				const o = v as { prompts?: unknown; threshold?: unknown };
				return {
					name,
					prompts: Array.isArray(o.prompts) ? o.prompts.map(String) : undefined,
					threshold: typeof o.threshold === 'number' ? o.threshold : undefined,
				};
			}
			if (typeof v === 'string') {
				return { name, prompts: [v] };
			}
			return { name };
		});
	} else {
		throw new ClipError('InvalidArgument', `${source}: expected a list of classes.`);
	}
	if (classes.length < 2) {
		throw new ClipError('InvalidArgument', `${source}: give at least two classes to choose between (got ${classes.length}).`);
	}
	const names = new Set<string>();
	for (const c of classes) {
		if (names.has(c.name)) {
			throw new ClipError('InvalidArgument', `${source}: the class "${c.name}" is given twice.`);
		}
		names.add(c.name);
	}
	return classes;
}

export class ZeroShotLabeler {
	private constructor(
		readonly classes: LabelClass[],
		private readonly classVectors: Float32Array[],
		private readonly logitScale: number,
	) {}

	/** Embeds every class's prompts once. */
	static async create(encoder: ClipEncoder, classes: LabelClass[]): Promise<ZeroShotLabeler> {
		const prompts = classes.map(c => (c.prompts?.length ? c.prompts : DEFAULT_TEMPLATES).map(p => p.replace(/\{\}/g, c.name)));
		const flat = await encoder.encodeTexts(prompts.flat());
		let offset = 0;
		const vectors = prompts.map(list => {
			const mean = new Float32Array(encoder.dim);
			for (let i = 0; i < list.length; i++) {
				flat[offset + i].forEach((v, d) => (mean[d] += v));
			}
			offset += list.length;
			return l2normalize(mean);
		});
		return new ZeroShotLabeler(classes, vectors, encoder.spec.logitScale);
	}

	classify(imageVector: Float32Array, options: LabelOptions = {}): Omit<ImageLabel, 'path'> {
		const probs = softmax(this.classVectors.map(v => this.logitScale * dot(v, imageVector)));
		const scores: Record<string, number> = {};
		this.classes.forEach((c, i) => (scores[c.name] = probs[i]));
		const order = probs.map((p, i) => i).sort((a, b) => probs[b] - probs[a]);
		const best = order[0];
		const threshold = (i: number): number => this.classes[i].threshold ?? options.threshold ?? (options.multi ? 1 / this.classes.length : 0);
		if (options.multi) {
			const labels = order.filter(i => probs[i] >= threshold(i)).map(i => this.classes[i].name);
			return { label: labels[0] ?? null, score: probs[best], scores, labels };
		}
		return { label: probs[best] >= threshold(best) ? this.classes[best].name : null, score: probs[best], scores };
	}

	/** Labels every indexed image (optionally under a folder), in path order. */
	labelIndex(store: IndexStore, options: LabelOptions = {}): ImageLabel[] {
		const scope = options.scope ? options.scope.replace(/\\/g, '/').replace(/\/+$/, '') + '/' : undefined;
		const out: ImageLabel[] = [];
		const cache = new Map<string, Omit<ImageLabel, 'path'>>();
		const rels = [...store.files.keys()].sort();
		for (const rel of rels) {
			const entry = store.files.get(rel)!;
			if (!entry.hash || entry.error || (scope && !rel.startsWith(scope))) {
				continue;
			}
			let result = cache.get(entry.hash);
			if (!result) {
				const vector = store.vectorOf(entry.hash);
				if (!vector) {
					continue;
				}
				result = this.classify(vector, options);
				cache.set(entry.hash, result);
			}
			out.push({ path: rel, ...result });
		}
		return out;
	}
}

/**
 * The tags file: relative path → label and score, keys sorted, scores rounded, so that it diffs
 * well under version control.
 */
export function tagsFileContent(labels: ImageLabel[], meta: { model: string; classes: LabelClass[] }): string {
	const round = (x: number): number => Math.round(x * 1e4) / 1e4;
	const images: Record<string, { label: string | null; score: number; labels?: string[] }> = {};
	for (const l of [...labels].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
		images[l.path] = { label: l.label, score: round(l.score), ...(l.labels ? { labels: l.labels } : {}) };
	}
	return `${JSON.stringify({ version: 1, model: meta.model, classes: meta.classes.map(c => c.name), images }, null, 2)}\n`;
}
