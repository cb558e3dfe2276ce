/**
 * @file Zero-shot labelling: each class is described by prompts, the prompts' text embeddings are
 * averaged into one class vector (computed once per run), and each image gets a probability per
 * class: softmax over classes of cosine × the model's logit scale (CLIP), or a sigmoid of
 * cosine × scale + bias per class (SigLIP: probabilities that need not add up to 1).
 *
 * [Note: thresholds] In single-label mode an image gets its best class when that class's
 * probability reaches its threshold (the class's own, else the global one), else no label
 * ("none of these"). The default global threshold is 0: always the best class, as CLIP's
 * zero-shot classifier does. In multi-label mode every class at or above its threshold is
 * kept; there the default is 1/number-of-classes (better than chance), since probabilities
 * are shared among the classes an image shows. SigLIP's sigmoid probabilities are not shared: the
 * same default keeps the rule one, and a class's own threshold is how to tune it.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ClipEncoder } from '../model/runtime/encoder';
import { ClipError, describeError } from '../common/errors';
import { globMatcher, isGlob } from '../common/glob';
import { FewShotClassifier } from './fewShot';
import { type FewShotClass } from './fewShotCandidates';
import type { IndexStore } from '../index/indexStore';
import { l2normalize } from '../common/vectors';

export interface LabelClass {
	name: string;
	/** Prompts for the class; "{}" stands for the name. Default: DEFAULT_TEMPLATES; [] with examples: examples only. */
	prompts?: string[];
	/** Images of the class: paths relative to the indexed folder, or globs. */
	examples?: string[];
	/** Images that are not of the class (paths or globs). */
	negatives?: string[];
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
		classes = Object.entries(input as Record<string, unknown>).map(([name, v]) => parseClass(name, v, source));
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

const CLASS_KEYS = ['prompts', 'examples', 'negatives', 'threshold'];

function stringList(value: unknown, where: string): string[] {
	if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) {
		throw new ClipError('InvalidArgument', `${where} must be a list of strings.`);
	}
	return value as string[];
}

/** One class of the object form: a prompt, a list of prompts, or {prompts, examples, negatives, threshold}. */
export function parseClass(name: string, v: unknown, source: string): LabelClass {
	const where = `${source}: class "${name}"`;
	if (!name.trim()) {
		throw new ClipError('InvalidArgument', `${source}: a class has an empty name.`);
	}
	if (typeof v === 'string') {
		return { name, prompts: [v] };
	}
	if (Array.isArray(v)) {
		const prompts = stringList(v, where);
		if (!prompts.length) {
			throw new ClipError('InvalidArgument', `${where} is empty: give it prompts or "examples".`);
		}
		return { name, prompts };
	}
	if (v === null || typeof v !== 'object') {
		throw new ClipError('InvalidArgument', `${where} must be a prompt, a list of prompts, or {"prompts", "examples", "negatives", "threshold"}.`);
	}
	const o = v as Record<string, unknown>;
	const unknown = Object.keys(o).filter(k => !CLASS_KEYS.includes(k));
	if (unknown.length) {
		throw new ClipError('InvalidArgument', `${where} has an unknown key "${unknown[0]}" (known keys: ${CLASS_KEYS.join(', ')}).`);
	}
	const c: LabelClass = { name };
	if (o.prompts !== undefined) {
		c.prompts = stringList(o.prompts, `${where}, "prompts",`);
	}
	if (o.examples !== undefined) {
		c.examples = stringList(o.examples, `${where}, "examples",`);
	}
	if (o.negatives !== undefined) {
		c.negatives = stringList(o.negatives, `${where}, "negatives",`);
	}
	if (o.threshold !== undefined) {
		if (typeof o.threshold !== 'number' || !(o.threshold >= 0 && o.threshold <= 1)) {
			throw new ClipError('InvalidArgument', `${where}, "threshold", must be a number from 0 to 1.`);
		}
		c.threshold = o.threshold;
	}
	if ((o.prompts !== undefined || o.examples !== undefined) && !c.prompts?.length && !c.examples?.length) {
		throw new ClipError('InvalidArgument', `${where} is empty: its "prompts" and "examples" are both empty.`);
	}
	return c;
}

/** What the labeller could not use of a class's examples or negatives (each names the class and the path). */
export interface LabelWarning {
	cls: string;
	key: 'examples' | 'negatives';
	pattern: string;
	reason: 'outside' | 'not indexed' | 'refused';
	/** Why a pattern was refused (too long, too many alternatives, an extended glob). */
	detail?: string;
}

export function describeWarning(w: LabelWarning, source: string): string {
	const where = `${source}: class "${w.cls}", "${w.key}"`;
	if (w.reason === 'outside') {
		return `${where}: ${w.pattern} is outside the indexed folder; it is ignored.`;
	}
	if (w.reason === 'refused') {
		return `${where}: ${(w.detail ?? `the pattern ${w.pattern} is refused`).replace(/\.$/, '')}; it is ignored.`;
	}
	return `${where}: no indexed image matches ${w.pattern} (not there, not an image, or not indexed yet); it is ignored.`;
}

/** The most classes one labelling takes. */
export const MAX_CLASSES = 256;

/**
 * Resolves a class's example paths or globs to indexed images: relative to the indexed folder,
 * '/'-separated; a path outside it, or one that matches no indexed image, becomes a warning.
 */
export function resolveImages(store: IndexStore, patterns: string[], onMiss: (pattern: string, reason: LabelWarning['reason'], detail?: string) => void): { rel: string; hash: string }[] {
	const found = new Map<string, string>();
	for (const raw of patterns) {
		let pattern = raw.replace(/\\/g, '/');
		if (path.isAbsolute(raw)) {
			const rel = path.relative(store.root, raw);
			if (rel.startsWith('..') || path.isAbsolute(rel)) {
				onMiss(raw, 'outside');
				continue;
			}
			pattern = rel.split(path.sep).join('/');
		}
		pattern = pattern.replace(/^\.\//, '');
		if (pattern.startsWith('../')) {
			onMiss(raw, 'outside');
			continue;
		}
		const usable = (entry: { hash?: string; error?: string } | undefined): entry is { hash: string } => !!entry?.hash && !entry.error && store.hasEmbedding(entry.hash);
		let any = false;
		if (isGlob(pattern)) {
			let matches: (rel: string) => boolean;
			try {
				matches = globMatcher(pattern);
			} catch (err) {
				onMiss(raw, 'refused', describeError(err));
				continue;
			}
			for (const [rel, entry] of store.files) {
				if (usable(entry) && matches(rel)) {
					found.set(rel, entry.hash);
					any = true;
				}
			}
		} else {
			// A plain path is looked up, not matched against every file (auto-tag resolves on every run).
			const entry = store.files.get(pattern);
			if (usable(entry)) {
				found.set(pattern, entry.hash);
				any = true;
			}
		}
		if (!any) {
			onMiss(raw, 'not indexed');
		}
	}
	return [...found].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([rel, hash]) => ({ rel, hash }));
}

/**
 * Labels images against classes described by prompts (zero-shot), by example images, or both
 * (how much the examples count is decided from held-out evidence: see fewShot.ts).
 */
export class Labeler {
	private constructor(
		readonly classes: LabelClass[],
		private readonly classifier: FewShotClassifier,
		/** [Note: a person's word] content hash → the class it is an example of / the classes it is a negative of. */
		private readonly answers: { examples: Map<string, number>; negatives: Map<string, Set<number>> },
		/** What could not be used (examples outside the folder or not indexed). */
		readonly warnings: LabelWarning[],
		/** Changes whenever the classes, their examples' content or the model change: tags made with another key are stale. */
		readonly key: string,
	) {}

	/**
	 * Embeds every class's prompts once and, when classes have examples or negatives, fits the
	 * few-shot classifier on their stored vectors (never re-embedded); `store` is needed for those.
	 */
	static async create(encoder: ClipEncoder, classes: LabelClass[], options: { store?: IndexStore } = {}): Promise<Labeler> {
		if (classes.length > MAX_CLASSES) {
			// Each class costs its prompts' embeddings and a dot product per image: bounded, and said so.
			throw new ClipError('LimitExceeded', `${classes.length} classes are more than the ${MAX_CLASSES} a labelling takes. Split them into several classes files.`);
		}
		// A class's name is its prompt (through DEFAULT_TEMPLATES) unless it gives prompts; an empty
		// "prompts" list with examples makes a class taught by its examples only.
		const textual = classes.map(c => !!c.prompts?.length || c.prompts === undefined || !c.examples?.length);
		const prompts = classes.map((c, i) => (textual[i] ? (c.prompts?.length ? c.prompts : DEFAULT_TEMPLATES).map(p => p.replace(/\{\}/g, c.name)) : []));
		const flat = await encoder.encodeTexts(prompts.flat());
		let offset = 0;
		const textVectors = prompts.map(list => {
			if (!list.length) {
				return undefined;
			}
			const mean = new Float32Array(encoder.dim);
			for (let i = 0; i < list.length; i++) {
				flat[offset + i].forEach((v, d) => (mean[d] += v));
			}
			offset += list.length;
			return l2normalize(mean);
		});
		const warnings: LabelWarning[] = [];
		const answers = { examples: new Map<string, number>(), negatives: new Map<string, Set<number>>() };
		const keyParts: string[] = [encoder.spec.id, encoder.spec.revision, encoder.spec.variant, JSON.stringify(classes)];
		const fewShot: FewShotClass[] = classes.map((c, i) => {
			const taught: FewShotClass = { text: textVectors[i], examples: [], negatives: [] };
			for (const key of ['examples', 'negatives'] as const) {
				const list = c[key];
				if (!list?.length) {
					continue;
				}
				if (!options.store) {
					throw new ClipError('InvalidArgument', `class "${c.name}" has ${key}: labelling it needs the index they are in.`);
				}
				for (const img of resolveImages(options.store, list, (pattern, reason, detail) => warnings.push({ cls: c.name, key, pattern, reason, detail }))) {
					taught[key].push(options.store.vectorOf(img.hash)!);
					keyParts.push(`${i}${key}${img.rel}${img.hash}`);
					if (key === 'examples') {
						answers.examples.set(img.hash, i);
					} else {
						answers.negatives.set(img.hash, (answers.negatives.get(img.hash) ?? new Set()).add(i));
					}
				}
			}
			if (!taught.text && !taught.examples.length) {
				throw new ClipError('InvalidArgument', `class "${c.name}" has no prompts and none of its examples is indexed: it cannot be recognised.`);
			}
			return taught;
		});
		const classifier = FewShotClassifier.fit(fewShot, { scale: encoder.spec.logitScale, link: encoder.spec.link, bias: encoder.spec.logitBias ?? 0 });
		const key = createHash('sha256').update(keyParts.join('\u0000')).digest('hex').slice(0, 16);
		return new Labeler(classes, classifier, answers, warnings, key);
	}

	/**
	 * The label of one image vector. With `hash` (the image's content), the person's answers count
	 * first. [Note: a person's word] An image given as an example of a class gets that class; one
	 * given as a negative never gets that class (the next class above its threshold, or none): what
	 * "Add as Examples" and "Not This Class" promise, whatever the classifier makes of them.
	 */
	classify(imageVector: Float32Array, options: LabelOptions = {}, hash?: string): Omit<ImageLabel, 'path'> {
		const probs = this.classifier.probabilities(imageVector);
		// Own properties by construction: a class named "__proto__" is a score like any other.
		const scores: Record<string, number> = Object.fromEntries(this.classes.map((c, i) => [c.name, probs[i]]));
		const excluded = hash ? this.answers.negatives.get(hash) : undefined;
		const forced = hash ? this.answers.examples.get(hash) : undefined;
		const order = probs
			.map((p, i) => i)
			.filter(i => !excluded?.has(i))
			.sort((a, b) => (a === forced ? -1 : b === forced ? 1 : probs[b] - probs[a]));
		const best = order[0];
		const threshold = (i: number): number => (i === forced ? 0 : (this.classes[i].threshold ?? options.threshold ?? (options.multi ? 1 / this.classes.length : 0)));
		if (best === undefined) {
			return { label: null, score: 0, scores, ...(options.multi ? { labels: [] } : {}) };
		}
		if (options.multi) {
			const labels = order.filter(i => probs[i] >= threshold(i)).map(i => this.classes[i].name);
			return { label: labels[0] ?? null, score: probs[best], scores, labels };
		}
		return { label: probs[best] >= threshold(best) ? this.classes[best].name : null, score: probs[best], scores };
	}

	/** What the few-shot classifier chose and on what evidence (for the log). */
	describeChoice(): string {
		return this.classifier.describe();
	}

	/**
	 * labelIndex in slices of 2,000 images with a turn of the event loop between them, so that a
	 * worker that auto-tags a large index still answers queries meanwhile.
	 */
	async labelIndexInSlices(store: IndexStore, options: LabelOptions & { paths?: Iterable<string> } = {}): Promise<ImageLabel[]> {
		const rels = options.paths ? [...new Set(options.paths)].sort() : [...store.files.keys()].sort();
		const out: ImageLabel[] = [];
		for (let i = 0; i < rels.length; i += 2000) {
			out.push(...this.labelIndex(store, { ...options, paths: rels.slice(i, i + 2000) }));
			await new Promise(resolve => setImmediate(resolve));
		}
		return out;
	}

	/** Labels the indexed images (all, under `scope`, or the given paths), in path order. */
	labelIndex(store: IndexStore, options: LabelOptions & { paths?: Iterable<string> } = {}): ImageLabel[] {
		const scope = options.scope ? options.scope.replace(/\\/g, '/').replace(/\/+$/, '') + '/' : undefined;
		const out: ImageLabel[] = [];
		const cache = new Map<string, Omit<ImageLabel, 'path'>>();
		const rels = options.paths ? [...new Set(options.paths)].sort() : [...store.files.keys()].sort();
		for (const rel of rels) {
			const entry = store.files.get(rel);
			if (!entry?.hash || entry.error || (scope && !rel.startsWith(scope))) {
				continue;
			}
			let result = cache.get(entry.hash);
			if (!result) {
				const vector = store.vectorOf(entry.hash);
				if (!vector) {
					continue;
				}
				result = this.classify(vector, options, entry.hash);
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
export function tagsFileContent(labels: ImageLabel[], meta: { model: string; classes: LabelClass[]; key?: string }): string {
	const round = (x: number): number => Math.round(x * 1e4) / 1e4;
	const images: Record<string, { label: string | null; score: number; labels?: string[] }> = {};
	for (const l of [...labels].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
		images[l.path] = { label: l.label, score: round(l.score), ...(l.labels ? { labels: l.labels } : {}) };
	}
	return `${JSON.stringify({ version: 1, model: meta.model, classes: meta.classes.map(c => c.name), ...(meta.key ? { key: meta.key } : {}), images }, null, 2)}\n`;
}
