// sightline evaluate on a folder where one image cannot be prepared (issue 13 review): a segmenter's class
// with no pixels in one photo skips that photo with the reason, measures the other, and says so in
// evaluation.json and evaluation.html, never "no method works with this model".
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import type { Patch } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';
import { photo, segmenterProto, toPixels } from '../helpers/target-models.js';

const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const OWN2: Patch = { x0: 0, y0: 6, x1: 2, y1: 8 };

let dir: string;
const at = (name: string) => join(dir, name);

async function png(name: string, image: { width: number; height: number; data: Uint8Array }) {
  await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toFile(at(name));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-eval-skip-'));
  await writeFile(at('seg.onnx'), encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])));
  // Input = (pixel/255 − 0.6) / 0.1: dog's cells score 9 when READ2 is white, −1 (under the background's 0)
  // when it is black.
  await writeFile(
    at('seg.json'),
    JSON.stringify({ labels: ['background', 'cat', 'dog'], mean: [0.6], std: [0.1] }),
  );
  await mkdir(at('photos'));
  await png('photos/black.png', photo(3, [{ patch: toPixels(READ2), rgb: [0, 0, 0] }]));
  await png('photos/white.png', photo(3, [{ patch: toPixels(READ2), rgb: [255, 255, 255] }]));
});

describe('sightline evaluate, a class with no pixels in one photo', () => {
  it('skips that photo with the reason and measures the other', async () => {
    const out = at('eval');
    const r = await runCli([
      'evaluate',
      at('photos'),
      '-m',
      at('seg.onnx'),
      '-t',
      'dog',
      '--methods',
      'gradient',
      '--metrics',
      'deletion',
      '--out',
      out,
    ]);
    const reason = "The model gives 'dog' (2) none of the 8 × 8 output pixels of this photo";
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`black.png: skipped: ${reason}`);
    expect(r.stderr).not.toContain('at least one method');
    const json = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(json.images.map((i: { file: string }) => i.file)).toEqual(['white.png']);
    expect(json.skipped).toHaveLength(1);
    expect(json.skipped[0].file).toBe('black.png');
    expect(json.skipped[0].reason).toContain(reason);
    const html = await readFile(join(out, 'evaluation.html'), 'utf8');
    expect(html).toContain('black.png');
    expect(html).toContain('none of the 8 × 8 output pixels of this photo');
  });
});
