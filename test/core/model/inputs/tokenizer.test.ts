import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ClipTokenizer } from '../../../../src/core/model/inputs/tokenizer';
import { sharedDir, tinyModelDir } from '../../../helpers';

interface GoldenRow {
	text: string;
	ids: number[];
	category: string;
	truncated: boolean;
	hf_differs?: boolean;
	hf_ids?: number[];
}

const goldenDir = path.join(sharedDir, 'clip-tokenizer');
const haveGoldens = existsSync(path.join(goldenDir, 'golden.jsonl'));
const skipReason = haveGoldens ? false : `needs ../shared/clip-tokenizer (OpenAI's golden ids), not found at ${goldenDir}`;

describe('ClipTokenizer against OpenAI golden ids', { skip: skipReason }, () => {
	const rows: GoldenRow[] = haveGoldens
		? readFileSync(path.join(goldenDir, 'golden.jsonl'), 'utf8')
				.split('\n')
				.filter(Boolean)
				.map(l => JSON.parse(l) as GoldenRow)
		: [];
	const load = (): Promise<ClipTokenizer> =>
		ClipTokenizer.load({
			tokenizerPath: path.join(goldenDir, 'tokenizer.json'),
			tokenizerConfigPath: path.join(goldenDir, 'tokenizer_config.json'),
			contextLength: 77,
		});

	it('matches every row, the hf_differs ones included (text cleaned as OpenAI does: ftfy, HTML unescaping)', async () => {
		const tok = await load();
		assert.ok(rows.length > 200, `expected the golden file's rows, got ${rows.length}`);
		const differ = rows.filter(r => r.hf_differs);
		assert.ok(differ.length >= 19, `the golden file marks ${differ.length} rows hf_differs`);
		const wrong = rows.filter(r => JSON.stringify(tok.encode(r.text)) !== JSON.stringify(r.ids));
		assert.deepEqual(
			wrong.map(r => r.text),
			[],
			`${wrong.length} of ${rows.length} rows differ (${wrong.filter(r => r.hf_differs).length} of the ${differ.length} hf_differs rows)`,
		);
	});

	it('without the cleaning the hf_differs rows would differ: the rows prove the cleaning', async () => {
		const tok = await load();
		const differ = rows.filter(r => r.hf_differs && r.hf_ids);
		assert.ok(differ.length > 0);
		const { cleanText } = await import('../../../../src/core/model/inputs/textClean.js');
		for (const r of differ) {
			assert.notEqual(cleanText(r.text), r.text.trim().replace(/\s+/g, ' '), `cleaning changes ${JSON.stringify(r.text)}`);
		}
	});

	it('keeps the end-of-text token on long texts (first 75 ids + 49407)', async () => {
		const tok = await load();
		const long = rows.filter(r => r.truncated);
		assert.ok(long.length > 0);
		for (const r of long) {
			const ids = tok.encode(r.text);
			assert.equal(ids.length, 77);
			assert.equal(ids[0], 49406);
			assert.equal(ids[76], 49407);
		}
	});

	it('pads a batch with end-of-text to its longest row', async () => {
		const tok = await load();
		const { data, length } = tok.encodeBatch(['a dog', 'a photo of a cat']);
		assert.equal(length, 7);
		assert.deepEqual(Array.from(data.slice(0, 7), Number), [49406, 320, 1929, 49407, 49407, 49407, 49407]);
	});
});

describe('ClipTokenizer on the tiny test model', () => {
	it('reads bos/eos from the model folder and respects its context length', async () => {
		const tok = await ClipTokenizer.load({
			tokenizerPath: path.join(tinyModelDir, 'tokenizer.json'),
			tokenizerConfigPath: path.join(tinyModelDir, 'tokenizer_config.json'),
			contextLength: 32,
		});
		const ids = tok.encode('a photo of a red circle');
		assert.equal(ids[0], tok.bosId);
		assert.equal(ids.at(-1), tok.eosId);
		assert.ok(tok.eosId > tok.bosId, 'end-of-text is the highest id, as in CLIP');
		const long = tok.encode('red '.repeat(100));
		assert.equal(long.length, 32);
		assert.equal(long[31], tok.eosId);
	});
});
