import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipError } from '../../../src/core/common/errors';
import { addToClass, parseClassesText } from '../../../src/core/labels/classesFile';

describe('classes file: JSONC, edited in place', () => {
	const file = [
		'{',
		'  // our asset classes',
		'  "logo": { "prompts": ["our logo"], "threshold": 0.4, "x-note": "kept?" },',
		'  "icon": ["an icon"],',
		'  "photo": "a photo"',
		'}',
		'',
	].join('\n');

	it('adds examples (creating the list), keeps comments, layout and the other keys', () => {
		const valid = file.replace(', "x-note": "kept?"', '');
		const out = addToClass(valid, 'logo', 'examples', ['brand/logo.png', 'brand/logo-dark.png']);
		assert.match(out, /\/\/ our asset classes/);
		assert.match(out, /"icon": \["an icon"\]/, 'other classes untouched');
		const classes = parseClassesText(out, 'f.json');
		assert.deepEqual(classes[0], { name: 'logo', prompts: ['our logo'], threshold: 0.4, examples: ['brand/logo.png', 'brand/logo-dark.png'] });
		const again = addToClass(out, 'logo', 'examples', ['brand/logo.png']);
		assert.deepEqual(parseClassesText(again, 'f.json')[0].examples, ['brand/logo.png', 'brand/logo-dark.png'], 'no duplicates');
	});

	it('turns a prompt list into an object, creates a new class, and moves a path between examples and negatives', () => {
		const valid = file.replace(', "x-note": "kept?"', '');
		let out = addToClass(valid, 'icon', 'examples', ['ui/ok.png']);
		out = addToClass(out, 'sprite', 'examples', ['game/hero.png']);
		out = addToClass(out, 'icon', 'negatives', ['ui/ok.png']);
		const byName = Object.fromEntries(parseClassesText(out, 'f.json').map(c => [c.name, c]));
		assert.deepEqual(byName.icon, { name: 'icon', prompts: ['an icon'], negatives: ['ui/ok.png'] }, 'the emptied examples list is gone');
		assert.deepEqual(byName.sprite, { name: 'sprite', examples: ['game/hero.png'] });
	});

	it('converts the list form to the object form', () => {
		const out = addToClass('["cat", "dog"]', 'cat', 'examples', ['a.png']);
		assert.deepEqual(parseClassesText(out, 'f.json'), [{ name: 'cat', examples: ['a.png'] }, { name: 'dog' }]);
	});

	it('names the file, the place and the key of bad input', () => {
		assert.throws(() => parseClassesText('{"a": ["x"],\n "b": [}', '/ws/.vscode/image-labels.json'), /image-labels\.json is not valid JSON \(ValueExpected at line 2, column 8\)/);
		assert.throws(() => parseClassesText(file, '/ws/.vscode/image-labels.json'), /class "logo" has an unknown key "x-note"/);
		assert.throws(() => parseClassesText('{"a": [], "b": ["x"]}', 'f.json'), /class "a" is empty/);
		assert.throws(() => parseClassesText('{"a": {"examples": "x.png"}, "b": ["x"]}', 'f.json'), /class "a", "examples", must be a list of strings/);
	});

	it('keeps comments inside a list, a commented-out example too, when adding and removing entries', () => {
		const text = ['{', '  "logo": {', '    "examples": [', '      "a.png", // the first one', '      // "old.png",', '      "b.png"', '    ]', '  },', '  "icon": "an icon"', '}', ''].join('\n');
		const added = addToClass(text, 'logo', 'examples', ['c.png']);
		assert.match(added, /\/\/ the first one/);
		assert.match(added, /\/\/ "old\.png",/);
		assert.deepEqual(parseClassesText(added, 'f.json')[0].examples, ['a.png', 'b.png', 'c.png']);
		const moved = addToClass(added, 'logo', 'negatives', ['b.png']);
		assert.match(moved, /\/\/ the first one/);
		assert.match(moved, /\/\/ "old\.png",/);
		assert.deepEqual(parseClassesText(moved, 'f.json')[0], { name: 'logo', examples: ['a.png', 'c.png'], negatives: ['b.png'] });
	});

	it('refuses to make a class empty: the only example of a class taught by examples cannot become a negative', () => {
		const text = '{"brand": {"prompts": [], "examples": ["brand/a.png"]}, "other": ["x"]}\n';
		assert.throws(
			() => addToClass(text, 'brand', 'negatives', ['brand/a.png'], '.vscode/image-labels.json'),
			(e: unknown) => ClipError.is(e, 'InvalidArgument') && /brand\/a\.png is the only example\(s\) of class "brand".*give it prompts.*was not changed/.test((e as Error).message),
		);
	});

	it('reads and edits a file that starts with a byte-order mark, and keeps the mark', () => {
		const text = '\uFEFF{"cat": ["a cat"], "dog": ["a dog"]}\n';
		assert.deepEqual(parseClassesText(text, 'f.json').map(c => c.name), ['cat', 'dog']);
		const out = addToClass(text, 'cat', 'examples', ['c.png']);
		assert.ok(out.startsWith('\uFEFF{'));
		assert.deepEqual(parseClassesText(out, 'f.json')[0].examples, ['c.png']);
	});

	it('names duplicate keys instead of failing inside the editor', () => {
		const dup = '{\n  "cat": ["a cat"],\n  "dog": ["a dog"],\n  "cat": {"examples": ["c.png"]}\n}\n';
		assert.throws(() => parseClassesText(dup, 'f.json'), /f\.json: "cat" is given twice \(line 2, column 3 and line 4, column 3\)/);
		assert.throws(() => addToClass(dup, 'cat', 'examples', ['d.png'], 'f.json'), /"cat" is given twice/);
		const inner = '{"cat": {"examples": ["a.png"], "examples": ["b.png"]}, "dog": ["x"]}';
		assert.throws(() => parseClassesText(inner, 'f.json'), /class "cat": the key "examples" is given twice/);
	});
});

