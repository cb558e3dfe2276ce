import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes } from '../../../src/core/common/sizes';
import { downloadSize, KNOWN_MODELS } from '../../../src/core/model/hub/modelRegistry';

describe('formatBytes', () => {
	it('prints decimal units, as the README and Hugging Face list sizes', () => {
		assert.equal(formatBytes(0), '0 B');
		assert.equal(formatBytes(999), '999 B');
		assert.equal(formatBytes(1500), '1.5 kB');
		assert.equal(formatBytes(42_000), '42 kB');
		assert.equal(formatBytes(4_200_000), '4.2 MB');
		assert.equal(formatBytes(608_000_000), '608 MB');
		assert.equal(formatBytes(1_500_000_000), '1.5 GB');
	});

	it('calls the default model\'s int8 download 156 MB (not 148.6 MiB)', () => {
		const clip = KNOWN_MODELS.find(m => m.id === 'Xenova/clip-vit-base-patch32');
		assert.ok(clip);
		assert.equal(formatBytes(downloadSize(clip, 'quantized')), '156 MB');
	});
});
