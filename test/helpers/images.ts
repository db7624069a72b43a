import { constants, crc32, deflateRawSync } from 'node:zlib';

/**
 * A valid all-black greyscale PNG of any size, built in milliseconds: the deflate stream of a block of zero
 * rows ends on a full flush, so it can be repeated byte for byte, and the Adler-32 of n zero bytes is known in
 * closed form (a = 1, b = n mod 65521). sharp takes seconds to write a 20000×20000 PNG; this takes none.
 */
export function blankPng(width: number, height: number): Uint8Array {
  const rowBytes = width + 1; // filter byte + one grey byte per pixel
  const rowsPerBlock = Math.min(100, height); // a 49,000,000 × 1 picture needs no 100-row block
  const blocks = Math.floor(height / rowsPerBlock);
  const rest = height % rowsPerBlock;
  const full = deflateRawSync(new Uint8Array(rowBytes * rowsPerBlock), {
    finishFlush: constants.Z_FULL_FLUSH,
  });
  const tail = deflateRawSync(new Uint8Array(rowBytes * rest), { finishFlush: constants.Z_FULL_FLUSH });
  const end = deflateRawSync(new Uint8Array(0));
  const total = rowBytes * height;
  const adler = ((total % 65521) << 16) | 1;
  const adlerBytes = new Uint8Array(4);
  new DataView(adlerBytes.buffer).setUint32(0, adler >>> 0);
  const parts: Uint8Array[] = [Uint8Array.of(0x78, 0x01)];
  for (let i = 0; i < blocks; i++) parts.push(full);
  parts.push(tail, end, adlerBytes);
  const idat = concat(parts);

  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, adaptive filtering, no interlace
  const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  return concat([signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
