/**
 * The query filters (issue 31): every key, negation, malformed values named in the error, filters
 * mixed with arithmetic and quoted text, and the three-valued rule for facts the index lacks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipError } from '../../../src/core/common/errors';
import { GlobBudget, globMatcher } from '../../../src/core/common/glob';
import { describeFilters, type FileFacts, parseFilters, passesFilters, pathFilterSteps } from '../../../src/core/search/filters';
import { parseQuery } from '../../../src/core/search/query';

const NOW = new Date(2026, 5, 15, 12, 0, 0).getTime(); // 15 June 2026, noon, local
const facts = (over: Partial<FileFacts> = {}): FileFacts => ({
	path: 'icons/bell.png',
	size: 250_000,
	mtimeMs: new Date(2026, 5, 10).getTime(),
	format: 'png',
	width: 1200,
	height: 600,
	tags: ['screenshot'],
	hasText: true,
	...over,
});
const pass = (query: string, f: Partial<FileFacts> = {}): boolean => passesFilters(parseFilters(query, NOW).filters, facts(f));
const refused = (query: string, word: RegExp): void =>
	assert.throws(() => parseFilters(query, NOW), (e: unknown) => ClipError.is(e, 'InvalidQuery') && word.test((e as Error).message), query);

describe('parseFilters', () => {
	it('takes key:value words out of the query, anywhere, and leaves the rest as it was', () => {
		const { rest, filters } = parseFilters('login form type:png after:2026-06-01 -path:vendor/** screen', NOW);
		assert.equal(rest, 'login form screen');
		assert.deepEqual(
			filters.map(f => [f.key, f.not, f.word]),
			[
				['type', false, 'type:png'],
				['after', false, 'after:2026-06-01'],
				['path', true, 'path:vendor/**'],
			],
		);
	});

	it('keeps arithmetic and quoted text intact (a filter inside quotes is text)', () => {
		const { rest, filters } = parseFilters('"beach" + ./ref.png - "people type:png" wider:800', NOW);
		assert.equal(rest, '"beach" + ./ref.png - "people type:png"');
		assert.equal(filters.length, 1);
		assert.deepEqual(parseQuery(rest), [
			{ kind: 'text', value: 'beach', weight: 1 },
			{ kind: 'image', value: './ref.png', weight: 1 },
			{ kind: 'text', value: 'people type:png', weight: -1 },
		]);
	});

	it('reads only its own keys: 16:9, C:\\x.png, error: and text: stay in the query', () => {
		for (const q of ['a 16:9 banner', 'C:\\x.png', 'error: disk full', 'text:login', 'a typo:png']) {
			const { rest, filters } = parseFilters(q, NOW);
			assert.equal(filters.length, 0, q);
			assert.equal(rest, q);
		}
	});

	it('takes a quoted value (a glob with spaces) and keys in any case', () => {
		const { filters } = parseFilters('cat PATH:"my icons/**" Type:JPG', NOW);
		assert.equal(filters.length, 2);
		assert.ok(passesFilters(filters, facts({ path: 'my icons/a.jpg', format: 'jpeg' })));
	});
});

describe('each filter', () => {
	it('type: the format by content, several comma-separated, with aliases', () => {
		assert.ok(pass('type:png'));
		assert.ok(!pass('type:jpg', { format: 'png' }));
		assert.ok(pass('type:jpg,webp', { format: 'jpeg' }));
		assert.ok(pass('type:jfif', { format: 'jpeg' }));
		assert.ok(pass('type:heif', { format: 'heic' }));
		assert.deepEqual(describeFilters(parseFilters('type:jpg,jpeg,webp', NOW).filters)[0].formats, ['jpeg', 'webp']);
	});

	it('after: and before: local days, full times and times back from now', () => {
		assert.ok(pass('after:2026-06-10')); // the day itself counts
		assert.ok(!pass('after:2026-06-11'));
		assert.ok(pass('before:2026-06-11'));
		assert.ok(!pass('before:2026-06-10'));
		assert.ok(pass('after:7d')); // 8 June noon
		assert.ok(!pass('after:3d'));
		assert.ok(pass('after:1w') && pass('after:1m') && pass('after:1y'));
		assert.ok(pass('before:2026-06-10T12:00:00Z'), 'local midnight of the 10th is before noon UTC of the 10th in every zone within ±12 h');
		const [m] = parseFilters('after:3m', NOW).filters;
		assert.equal(m.key === 'after' && new Date(m.atMs).getMonth(), 2, 'calendar months back');
	});

	it('larger: and smaller: decimal and binary units', () => {
		assert.ok(pass('larger:200KB') && !pass('larger:251KB'));
		assert.ok(pass('smaller:2MB') && !pass('smaller:250KB'));
		assert.ok(pass('larger:244KiB') && !pass('larger:245KiB'));
		assert.ok(pass('larger:250000') && pass('smaller:1.5GB'));
	});

	it('wider:, taller: and size: with comparisons', () => {
		assert.ok(pass('wider:1200') && !pass('wider:1201'));
		assert.ok(pass('taller:600') && !pass('taller:601'));
		assert.ok(pass('size:>=1024x512') && !pass('size:>=1024x768'));
		assert.ok(pass('size:1200x600') && !pass('size:1200x601'));
		assert.ok(pass('size:<2000x2000') && pass('size:>1199x599') && pass('size:<=1200x600'));
	});

	it('path: a glob relative to the folder, a plain path is the file or the folder', () => {
		assert.ok(pass('path:icons/**') && pass('path:icons') && pass('path:icons/') && pass('path:ICONS/*.png'));
		assert.ok(pass('path:icons/bell.png'));
		assert.ok(!pass('path:photos/**') && !pass('path:icon'));
		assert.ok(pass('path:**/*.png', { path: 'a/b/c.png' }));
	});

	it('tag: any of several, every label of a multi-label tag, case-insensitive', () => {
		assert.ok(pass('tag:screenshot') && pass('tag:Photo,SCREENSHOT'));
		assert.ok(!pass('tag:photo'));
		assert.ok(pass('tag:icon', { tags: ['logo', 'icon'] }));
	});

	it('has:text', () => {
		assert.ok(pass('has:text'));
		assert.ok(!pass('has:text', { hasText: false }));
		assert.ok(pass('-has:text', { hasText: false }));
	});

	it('a leading - negates any filter', () => {
		assert.ok(!pass('-type:png') && pass('-type:jpg'));
		assert.ok(!pass('-path:icons/**') && pass('-path:vendor/**'));
		assert.ok(!pass('-tag:screenshot') && pass('-tag:photo'));
		assert.ok(pass('-larger:1MB') && !pass('-after:7d'));
	});

	it('an unknown fact passes neither a filter nor its negation', () => {
		for (const q of ['type:png', '-type:png', 'wider:10', '-wider:10', 'size:>1x1', '-size:>1x1']) {
			assert.ok(!pass(q, { format: undefined, width: undefined, height: undefined }), q);
		}
		assert.ok(!pass('tag:x', { tags: undefined }) && !pass('-tag:x', { tags: undefined }));
		assert.ok(!pass('has:text', { hasText: undefined }) && !pass('-has:text', { hasText: undefined }));
	});
});

describe('malformed filters: a clear error naming the filter and the form it takes', () => {
	it('refuses each bad value', () => {
		refused('cat type:pngx', /"type:pngx".*unknown format "pngx"/);
		refused('cat after:someday', /"after:someday".*needs a date/);
		refused('cat -date:2025-06', /"-date:2025-06" is not taken .*use before:2025-06 or after:2025-06/);
		refused('cat after:2026-02-30', /"after:2026-02-30" names no day/);
		refused('cat larger:big', /"larger:big".*needs a size/);
		refused('cat larger:2XB', /"larger:2XB"/);
		refused('cat wider:-3', /"wider:-3".*whole number/);
		refused('cat wider:1e9', /"wider:1e9"/);
		refused('cat size:big', /"size:big".*WIDTHxHEIGHT/);
		refused('cat has:faces', /"has:faces".*has:text/);
		refused('cat type:', /"type:" has no value/);
		refused('cat tag:,', /"tag:," names no tag/);
		refused('cat path:../secret/**', /"path:..\/secret\/\*\*" must stay inside the folder/);
		refused('cat path:"open', /unclosed/);
	});
});

describe('queries that say what they mean (issue 35)', () => {
	const notesOf = (q: string): string[] => parseFilters(q, NOW).notes;

	it('a key one slip from a filter is searched as words with a did-you-mean note; quoted, it is text without one', () => {
		for (const [q, meant] of [
			['cat tpye:png', 'type:png'],
			['cat typ:png', 'type:png'],
			['cat afer:7d', 'after:7d'],
			['cat paht:icons', 'path:icons'],
			['cat smallr:2MB', 'smaller:2MB'],
			['cat -tpye:png', '-type:png'],
		]) {
			const { rest, filters, notes } = parseFilters(q, NOW);
			assert.equal(filters.length, 0, q);
			assert.equal(rest, q, 'searched as words');
			assert.equal(notes.length, 1, q);
			assert.match(notes[0], new RegExp(`did you mean ${meant.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?`), q);
		}
		assert.deepEqual(notesOf('cat "tpye:png"'), []);
		assert.deepEqual(notesOf('error: 16:9 C:\\x.png note:todo http://x.org/a.png'), [], 'other keys stay text, without a note');
	});

	it('the names people type are read as the filter, and said so', () => {
		const read = (q: string): string => describeFilters(parseFilters(q, NOW).filters).map(f => f.filter as string).join(' ');
		assert.equal(read('cat ext:png'), 'type:png');
		assert.equal(read('cat format:jpg'), 'type:jpg');
		assert.equal(read('cat width:1000'), 'wider:1000');
		assert.equal(read('cat height:500'), 'taller:500');
		assert.equal(read('cat tags:screenshot'), 'tag:screenshot');
		assert.equal(read('cat folder:icons'), 'path:icons');
		assert.equal(read('cat since:7d'), 'after:7d');
		assert.match(notesOf('cat ext:png')[0], /"ext:png" was read as type:png/);
		assert.ok(pass('cat date:2026-06-10') && !pass('cat date:2026-06-11') && pass('cat date:2026-06') && pass('cat modified:2026') && !pass('cat date:2025'));
		assert.ok(pass('cat ext:png') && !pass('cat format:gif') && pass('cat width:1200') && !pass('cat width:1201'));
	});

	it('a unit after a size belongs to it; pixels take px and k', () => {
		const { rest, filters } = parseFilters('cat larger:2 MB dog', NOW);
		assert.equal(rest, 'cat dog');
		assert.deepEqual(describeFilters(filters).map(f => f.bytes), [2_000_000]);
		assert.ok(pass('larger:250 KB') && !pass('larger:251 KB') && pass('smaller:1 MiB'));
		assert.ok(pass('wider:1000px') && pass('wider:1.2k') && !pass('wider:1.3k') && pass('taller:600px'));
	});

	it('dates people type: a month, a year, today, yesterday, hours, slashes', () => {
		const june10 = { mtimeMs: new Date(2026, 5, 10, 9).getTime() };
		const nowish = { mtimeMs: NOW - 3_600_000 };
		assert.ok(pass('after:2026-06', june10) && !pass('after:2026-07', june10) && pass('before:2026-07', june10));
		assert.ok(pass('after:2026', june10) && !pass('before:2026', june10));
		assert.ok(pass('after:today', nowish) && !pass('after:today', june10) && !pass('after:yesterday', june10));
		assert.ok(pass('after:2h', nowish) && !pass('after:1h', { mtimeMs: NOW - 7_200_000 }));
		assert.ok(pass('after:2026/06/10', june10) && !pass('after:2026/06/11', june10));
	});

	it('path: a name without a slash at any depth, several at once; with a slash from the folder', () => {
		const at = { path: 'clipart/animals/cat.png' };
		assert.ok(pass('path:animals', at) && pass('path:*.png', at) && pass('path:cat.png', at));
		assert.ok(pass('path:clipart/animals,clipart/food', at) && pass('path:food,animals', at));
		assert.ok(!pass('path:/animals', at) && !pass('path:./animals', at) && pass('path:clipart', at));
		assert.ok(!pass('path:anim', at) && pass('path:{animals,food}', at));
	});
});

describe('a path: filter costs bounded work (issue 34, item 11)', () => {
	/** 100,000 paths in 1,000 folders, names an adversarial pattern backtracks on. */
	const paths = Array.from({ length: 100_000 }, (_, i) => `assets/group-${i % 1000}/sub/${'a'.repeat(30)}-${i}.png`);

	it('folders are matched once: 100,000 paths under a deep pattern cost about their names, not their folders', () => {
		const budget = new GlobBudget(pathFilterSteps(paths.length));
		const m = globMatcher(['assets/group-*/sub/**/*-9*.png'], { nocase: true, budget });
		const passed = paths.filter(m).length;
		assert.equal(passed, paths.filter(p => /-9\d*\.png$/.test(p)).length);
		assert.ok(passed > 0);
		// Each name is about 40 characters: its own match is the work, the folders above it are remembered.
		const names = paths.reduce((n, p) => n + p.split('/').pop()!.length, 0);
		assert.ok(budget.steps < names + 4 * paths.length, `${budget.steps} steps for ${paths.length} paths (${names} name characters)`);
	});

	it('an agent\'s costly pattern over 100,000 paths is refused once the query\'s work runs out, naming it', () => {
		// 256 brace alternatives, each backtracking over every name.
		const evil = `**/${'*{a,b}'.repeat(8)}${'*a'.repeat(12)}*-x*.png`;
		assert.ok(evil.length > 80);
		const { filters } = parseFilters(`a cat path:${evil}`, NOW, pathFilterSteps(paths.length));
		assert.throws(
			() => paths.filter(p => passesFilters(filters, facts({ path: p }))),
			(e: unknown) => ClipError.is(e, 'LimitExceeded') && /the filter path:\*\*\/\*\{a,b\}/.test((e as Error).message) && /simpler pattern/.test((e as Error).message),
		);
	});

	it('five negated copies share one budget: refused as one query, not five', () => {
		const each = `**/${'*{a,b}'.repeat(7)}*-x*.png`;
		const { filters } = parseFilters(`a cat ${Array.from({ length: 5 }, () => `-path:${each}`).join(' ')}`, NOW, pathFilterSteps(paths.length));
		let checked = 0;
		assert.throws(() => {
			for (const p of paths) {
				passesFilters(filters, facts({ path: p }));
				checked++;
			}
		}, (e: unknown) => ClipError.is(e, 'LimitExceeded'));
		assert.ok(checked < paths.length, `refused after ${checked} paths`);
		assert.ok(pathFilterSteps(paths.length) <= 11_000_000);
	});
});
