// `sightline explain` on maps an overlay could hide: a map the same at every pixel is written and said so in
// words (a uniform overlay is not attention), and a map whose attention sits on fewer pixels than the
// percentile clip leaves out (a 2 × 2 watermark in 64², 0.1%) shows those pixels instead of an empty overlay.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { patchModelProto } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';

const SIZE = 64;
/** The watermark the tiny model scores: 4 of 4096 pixels. */
const MARK = { x0: 30, y0: 30, x1: 32, y1: 32 };
let dir: string;

const explainArgs = (model: string, ...more: string[]) => [
  'explain',
  join(dir, 'grey.png'),
  '--model',
  join(dir, model),
  '--labels',
  join(dir, 'labels.txt'),
  '--mean',
  '0',
  '--std',
  '1',
  ...more,
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-flat-'));
  const dims = ['N', 3, SIZE, SIZE];
  // Class 0 scores the mean of the whole image (its gradient is the same at every pixel), class 1 its negative.
  await writeFile(
    join(dir, 'whole.onnx'),
    encodeModel(patchModelProto({ x0: 0, y0: 0, x1: SIZE, y1: SIZE }, { dims })),
  );
  await writeFile(join(dir, 'mark.onnx'), encodeModel(patchModelProto(MARK, { dims })));
  await writeFile(join(dir, 'labels.txt'), 'mark\nminus mark\n');
  await sharp(Buffer.alloc(SIZE * SIZE * 3, 128), { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(join(dir, 'grey.png'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pixels(path: string) {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
}

describe('sightline explain on maps an overlay could hide', () => {
  it('says so when the map is the same at every pixel, in text and in JSON', async () => {
    const out = join(dir, 'whole.png');
    const text = await runCli(explainArgs('whole.onnx', '--method', 'gradient', '--out', out));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain(
      "sightline: warning: The map has the same value at every pixel: by this method every pixel counts alike for 'mark'",
    );
    // The overlay is written all the same: one colour over one grey.
    const at = await pixels(out);
    expect(at(0, 0)).toEqual(at(40, 20));

    const json = await runCli(
      explainArgs(
        'whole.onnx',
        '--method',
        'gradient-x-input',
        '--target',
        'minus mark',
        '--json',
        '--out',
        out,
      ),
    );
    expect(json.code, json.stderr).toBe(0);
    // Gradient × input for the negative class is −x / (3 · 64²) < 0 everywhere: nothing above zero to show.
    expect(JSON.parse(json.stdout).flatMap).toMatch(
      /^Nothing in the photo raised the score of 'minus mark': the map has no value above zero/,
    );
    expect(json.stderr).toContain('--mode negative shows what lowered it');
  }, 60_000);

  it('shows a watermark of four pixels, and says nothing of a flat map', async () => {
    const out = join(dir, 'mark.png');
    const result = await runCli(explainArgs('mark.onnx', '--method', 'gradient', '--out', out));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('warning');
    const at = await pixels(out);
    // The four pixels take the colormap's top, the rest its bottom: they differ, as the map does.
    expect(at(30, 30)).toEqual(at(31, 31));
    expect(at(30, 30)).not.toEqual(at(5, 5));
    expect(at(5, 5)).toEqual(at(60, 10));
    const json = JSON.parse(
      (await runCli(explainArgs('mark.onnx', '--method', 'gradient', '--json', '--out', out))).stdout,
    );
    expect(json.flatMap).toBeUndefined();
  }, 60_000);
});
