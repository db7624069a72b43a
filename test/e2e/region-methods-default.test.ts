import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy-file.js';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';
import { boxMassRatio, DOG_BOX, peakInBox } from '../helpers/regions.js';

// Through the built CLI on the embedded InceptionV3 (dist/ must be current: npx tsc -p tsconfig.build.json).
// Score-CAM masks with the 256 most active of the last block's 2048 channels: 257 passes (about 25 s at the
// README's 90 ms per forward pass; every channel would take about 3 minutes). XRAI runs its defaults:
// 2 × 52 gradient passes (about 30 s) and a second of segmentation.
describe('Score-CAM and XRAI on the embedded InceptionV3 (sightline explain)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-region-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['score-cam', ['--channels', '256']],
    ['xrai', []],
  ])(
    "%s writes a map that peaks on the dog and puts at least twice the box's area share inside it",
    async (method, extra) => {
      const map = join(dir, `${method}.npy`);
      const result = await runCli([
        'explain',
        join(SHARED_IMAGES, 'dog.jpg'),
        '--method',
        method,
        ...extra,
        '--out',
        join(dir, `${method}.png`),
        '--save-map',
        map,
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const json = JSON.parse(result.stdout);
      expect(json.method).toBe(method);
      const { data, shape } = await readNpy(map);
      expect(shape).toEqual([576, 768]);
      const ratio = boxMassRatio(data, 768, 576, DOG_BOX);
      console.log(`${method}: ${ratio.toFixed(2)}× the box's area share`);
      expect(peakInBox(data, 768, DOG_BOX, 15)).toBe(true);
      expect(ratio).toBeGreaterThanOrEqual(2);
    },
    900_000,
  );
});
