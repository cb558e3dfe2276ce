import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReference, relativeReference } from '../../../src/extension/search/references';

describe('image references by language', () => {
	it('formats Markdown, HTML, CSS and plain references', () => {
		assert.equal(formatReference('markdown', './img/red circle.png'), '![red circle](./img/red%20circle.png)');
		assert.equal(formatReference('markdown', './img/Screenshot #1 (2).png'), '![Screenshot #1 (2)](./img/Screenshot%20%231%20%282%29.png)', 'a # or ? would end the path for a Markdown reader');
		assert.equal(formatReference('html', '../a "b".png'), '<img src="../a &quot;b&quot;.png" alt="a &quot;b&quot;">');
		assert.equal(formatReference('scss', './bg.webp'), 'url("./bg.webp")');
		assert.equal(formatReference('typescript', './logo.svg'), './logo.svg');
	});

	it('makes paths relative to the edited file', () => {
		assert.equal(relativeReference('/ws/docs/readme.md', '/ws/assets/icons/bell.png'), '../assets/icons/bell.png');
		assert.equal(relativeReference('/ws/readme.md', '/ws/logo.png'), './logo.png');
	});
});
