// The report's small heat maps as PNG without sharp, so report.html is rendered the same way by the CLI and by
// the web app in a browser (which has no sharp): RGB rows, unfiltered, deflated by fflate (pure JavaScript).
// The maps are at most a few hundred pixels square, where filtering would save little.
import { zlibSync } from 'fflate';
import type { RgbImage } from '../../core/image.js';
import { crc32 } from '../../models/tfjs-zip.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** RGB pixels (8 bits a channel) as a PNG file's bytes. */
export function encodeSmallPng(image: RgbImage): Uint8Array {
  const { width, height, data } = image;
  const stride = width * 3;
  const raw = new Uint8Array((stride + 1) * height);
  // Each row starts with its filter type, 0 (none).
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8);
  const chunks = [
    chunk('IHDR', header),
    chunk('IDAT', zlibSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array()),
  ];
  const out = new Uint8Array(SIGNATURE.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(SIGNATURE);
  let at = SIGNATURE.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A chunk: its length, type, data and the CRC of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Each pixel of an RGB image as a scale × scale square (nearest-neighbour upscaling). */
export function upscaleNearest(image: RgbImage, scale: number): RgbImage {
  const width = image.width * scale;
  const height = image.height * scale;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = Math.floor(y / scale) * image.width;
    for (let x = 0; x < width; x++) {
      const s = (from + Math.floor(x / scale)) * 3;
      const d = (y * width + x) * 3;
      data[d] = image.data[s];
      data[d + 1] = image.data[s + 1];
      data[d + 2] = image.data[s + 2];
    }
  }
  return { width, height, data };
}
