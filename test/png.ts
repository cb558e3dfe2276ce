/** @file PNG files written by hand, for sizes and contents sharp will not make (headers that lie, 20,000,000 × 1). */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) {
		c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	}
	return c >>> 0;
});

function crc(buf: Buffer): number {
	let c = 0xffffffff;
	for (const b of buf) {
		c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
	}
	return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const td = Buffer.concat([Buffer.from(type), data]);
	const c = Buffer.alloc(4);
	c.writeUInt32BE(crc(td));
	return Buffer.concat([len, td, c]);
}

/** An 8-bit RGB PNG of `width` × `height` whose IDAT holds `idat` (already deflated). */
export function pngWithIdat(width: number, height: number, idat: Buffer): Buffer {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8;
	ihdr[9] = 2;
	return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** A tiny PNG whose header claims enormous dimensions (a decompression bomb). */
export function pngBomb(width: number, height: number): Buffer {
	return pngWithIdat(width, height, Buffer.from('789c030000000001', 'hex'));
}

/** A real black RGB PNG of `width` × `height` (its rows deflate to almost nothing: 20,000,000 × 1 is about 20 KB). */
export function blackPng(width: number, height: number): Buffer {
	return pngWithIdat(width, height, deflateSync(Buffer.alloc((1 + 3 * width) * height), { level: 9 }));
}
