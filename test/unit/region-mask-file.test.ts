// --region mask.png was decoded as a photo: transparency flattened onto white, so a mask that marks its region
// by alpha (transparent outside, as image editors save a selection) counted every pixel as inside — the
// "region" silently became the whole photo — and a 16-bit label mask was scaled to 8 bits, its small labels
// becoming 0. It is read as the audit reads masks (audit/regions/masks.ts): nonzero colour where not fully
// transparent, 16-bit values kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { readRegion } from '../../src/cli/target-flags.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-region-mask-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const W = 8;
const H = 4;

/** Pixels inside x < 2 are marked; the rest are `outside`. */
async function mask(name: string, channels: 3 | 4, inside: number[], outside: number[]) {
  const data = Buffer.alloc(W * H * channels);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) data.set(x < 2 ? inside : outside, (y * W + x) * channels);
  const path = join(dir, name);
  await sharp(data, { raw: { width: W, height: H, channels } })
    .png()
    .toFile(path);
  return path;
}

const inside = (region: Awaited<ReturnType<typeof readRegion>>) => {
  if ('x0' in region) throw new Error('a box');
  const marked: number[] = [];
  for (let i = 0; i < region.width * region.height; i++) {
    let on = false;
    for (let c = 0; c < region.channels; c++) on ||= region.data[i * region.channels + c] !== 0;
    if (on) marked.push(i % region.width);
  }
  return new Set(marked);
};

describe('--region mask.png', () => {
  it('a mask marked by alpha keeps only its opaque pixels', async () => {
    const path = await mask('alpha.png', 4, [255, 0, 0, 255], [255, 255, 255, 0]);
    expect([...inside(await readRegion(path, { width: W, height: H }))].sort()).toEqual([0, 1]);
  });

  it('a black-and-white mask is read as before', async () => {
    const path = await mask('bw.png', 3, [255, 255, 255], [0, 0, 0]);
    expect([...inside(await readRegion(path, { width: W, height: H }))].sort()).toEqual([0, 1]);
  });

  it('a mask of another size is refused naming both sizes', async () => {
    const path = await mask('small.png', 3, [255, 255, 255], [0, 0, 0]);
    await expect(readRegion(path, { width: 16, height: 16 })).rejects.toThrow(/8×4 but its image is 16×16/);
  });
});
