import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import picomatch from 'picomatch';
import { ClipError } from '../../../src/core/common/errors';
import { globMatcher, isGlob } from '../../../src/core/common/glob';
import { DEFAULT_EXCLUDE, DEFAULT_INCLUDE } from '../../../src/core/index/imageFiles';

describe('glob patterns in bounded time', () => {
	const paths = [
		'a.png', 'A.PNG', '.hidden.png', 'img/a.png', 'img/sub/b.jpg', 'img/.x/c.png', 'node_modules/x/y.png', 'x/node_modules/y.png',
		'brand/logo-dark.png', 'brand/logo.svg', 'docs/a b.png', 'a[1].png', 'icons/16/ok.png', 'icons/32/ok.png', 'q?.png', 'deep/a/b/c/d.webp',
	];
	const patterns = [
		'*.png', '**/*.png', 'img/**', 'img/*.png', '**/node_modules/**', 'brand/logo*.{png,svg}', 'icons/{16,32}/*.png', 'icons/[13]*/ok.png',
		'icons/[^1]*/ok.png', '**/?.png', 'docs/a b.png', 'deep/**/d.webp', 'deep/**/*', '**', '*', 'img/**/*.{png,jpg}', '!**/*.png', ...DEFAULT_INCLUDE, ...DEFAULT_EXCLUDE,
	];

	it('matches as picomatch (dot: true) does on the patterns people write', () => {
		for (const pattern of patterns) {
			const ours = globMatcher(pattern);
			const theirs = picomatch(pattern, { dot: true });
			for (const p of paths) {
				assert.equal(ours(p), theirs(p), `${pattern} vs ${p}`);
			}
			const oursNocase = globMatcher(pattern, { nocase: true });
			const theirsNocase = picomatch(pattern, { dot: true, nocase: true });
			for (const p of paths) {
				assert.equal(oursNocase(p), theirsNocase(p), `${pattern} (nocase) vs ${p}`);
			}
		}
	});

	it('takes the forms people write: ./x as x (as picomatch does), /x anchored at the folder, x/ as the folder and all below it', () => {
		const forms: [string, string][] = [
			['./img/**', './img/**'],
			['./*.png', './*.png'],
			['././img/*.png', 'img/*.png'],
			['./brand/logo*.{png,svg}', './brand/logo*.{png,svg}'],
			['/img/**', 'img/**'],
			['/deep/**/d.webp', 'deep/**/d.webp'],
			['img/', 'img/**'],
			['./deep/a/', 'deep/a/**'],
			['!./img/**', '!img/**'],
			['**/node_modules/', '**/node_modules/**'],
		];
		for (const [ours, reference] of forms) {
			const m = globMatcher(ours, { nocase: true });
			const theirs = picomatch(reference, { dot: true, nocase: true });
			for (const p of paths) {
				assert.equal(m(p), theirs(p), `${ours} (as ${reference}) vs ${p}`);
			}
		}
		// The case: an exclude of ./private/** excluded nothing.
		assert.equal(globMatcher('./private/**')('private/a.png'), true);
		assert.equal(globMatcher('./assets/**/*.png')('assets/a/b.png'), true);
	});

	it('answers a pattern that makes a regex backtrack for minutes at once (steps counted, not time)', () => {
		// picomatch needs 81 s of CPU for this against one name of 44 "a"s; here each segment costs
		// at most |name| × |pattern| comparisons, so a name of 4,000 characters is still answered.
		const evil = globMatcher('*a*a*a*a*a*a*a*a*a*a*b.png');
		assert.equal(evil(`${'a'.repeat(44)}.png`), false);
		assert.equal(evil(`${'a'.repeat(4000)}.png`), false);
		assert.equal(evil(`${'a'.repeat(12)}b.png`), true);
		const deep = globMatcher('**/**/**/**/**/**/**/**/x');
		assert.equal(deep(`${'d/'.repeat(300)}y`), false);
	});

	it('refuses patterns past its bounds, naming them and where they come from', () => {
		const refused = (p: string, re: RegExp): void => {
			assert.throws(() => globMatcher(p, { source: 'clipSearch.include' }), (err: unknown) => ClipError.is(err, 'LimitExceeded') && re.test(err.message) && err.message.startsWith('clipSearch.include: '));
		};
		refused('a'.repeat(600), /longer than 512 characters/);
		refused('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}', /more than 256 alternatives/);
		refused('+(a|b).png', /extended glob/);
	});

	it('negates a bracket with ! as POSIX shells do (picomatch reads [!1] as "! or 1")', () => {
		assert.equal(globMatcher('icons/[!1]*/ok.png')('icons/32/ok.png'), true);
		assert.equal(globMatcher('icons/[!1]*/ok.png')('icons/16/ok.png'), false);
	});

	it('tells globs from plain paths', () => {
		assert.equal(isGlob('brand/logo.png'), false);
		assert.equal(isGlob('brand/*.png'), true);
		assert.equal(isGlob('a\\*b.png'), false);
	});
});
