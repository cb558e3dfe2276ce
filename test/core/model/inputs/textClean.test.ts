import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanText } from '../../../../src/core/model/inputs/textClean';

describe('cleanText (OpenAI CLIP basic_clean + whitespace_clean)', () => {
	it('unescapes HTML twice, legacy entities included', () => {
		assert.equal(cleanText('Tom &amp; Jerry'), 'Tom & Jerry');
		assert.equal(cleanText('&amp;lt;b&amp;gt;'), '<b>');
		assert.equal(cleanText('&#39;x&#39; &#x27;y&#x27; &#128512;'), "'x' 'y' 😀");
		assert.equal(cleanText('&notanentity;'), '¬anentity;');
	});

	it('repairs mojibake and straightens quotes', () => {
		assert.equal(cleanText('cafÃ© mojibake'), 'café mojibake');
		assert.equal(cleanText('donâ€™t'), "don't");
		assert.equal(cleanText('“quoted” ‘single’'), '"quoted" \'single\'');
	});

	it('folds fullwidth forms and ligatures, reads C1 controls as Windows-1252, drops control characters', () => {
		assert.equal(cleanText('Ｆｕｌｌｗｉｄｔｈ １２３'), 'Fullwidth 123');
		assert.equal(cleanText('ﬁne ﬂow'), 'fine flow');
		assert.equal(cleanText('next\u0085line'), 'next…line');
		assert.equal(cleanText('byte\ufefforder \u0000null\u0007 \u001b[31mred\u001b[0m'), 'byteorder null red');
	});

	it('leaves ordinary text alone (accents, other scripts), and collapses whitespace', () => {
		for (const t of ['São Paulo', 'El Niño', 'Ça va', 'Über', 'naïve résumé', 'ÀÁ test', 'Ελληνικά', '日本語のテキスト', 'a < b & c > d']) {
			assert.equal(cleanText(t), t);
		}
		assert.equal(cleanText('  a\t\tb\n\nc\u00a0d\u3000e  '), 'a b c d e');
	});
});
