import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable } from '../../../src/core/common/printable';

describe('printable: text from outside, safe to print', () => {
	it('escapes control characters, bidi overrides and lone surrogates; leaves ordinary text and Windows paths as they are', () => {
		assert.equal(printable('evil\x1b]0;PWNED\x07\x1b[2Jred.png'), 'evil\\x1b]0;PWNED\\x07\\x1b[2Jred.png');
		assert.equal(printable('new\nline.png'), 'new\\nline.png');
		assert.equal(printable('tab\there\rcr\x7f\x9b'), 'tab\\there\\rcr\\x7f\\x9b');
		assert.equal(printable('invoice\u202egnp.exe'), 'invoice\\u{202e}gnp.exe');
		assert.equal(printable('bad\ud800name'), 'bad\\u{d800}name');
		assert.equal(printable('C:\\Users\\me\\café ☕ 𝄞.png'), 'C:\\Users\\me\\café ☕ 𝄞.png', 'nothing to escape: backslashes kept');
		assert.equal(printable('a\\b\n'), 'a\\\\b\\n', 'with an escape, a backslash is doubled so the text reads back unambiguously');
		assert.equal(printable('\ufffd replacement stays'), '\ufffd replacement stays');
	});
});
