import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unsupportedPlatform } from '../../../src/core/common/platform';

describe('platforms without onnxruntime binaries', () => {
	it('names Intel Macs and musl Linux, with what to do instead', () => {
		assert.match(unsupportedPlatform('darwin', 'x64') ?? '', /no build for Intel Macs \(darwin-x64\).*Apple silicon/);
		assert.match(unsupportedPlatform('linux', 'x64', null) ?? '', /musl Linux \(Alpine\).*glibc-based/);
		assert.equal(unsupportedPlatform('linux', 'x64', '2.28'), undefined);
		assert.equal(unsupportedPlatform('darwin', 'arm64'), undefined);
		assert.equal(unsupportedPlatform('win32', 'arm64'), undefined);
	});
});
