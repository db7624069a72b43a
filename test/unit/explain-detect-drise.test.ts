/**
 * `sightline explain` on a detector with several detections (src/cli/explain-detect.ts) and D-RISE: on the
 * hand-set square detectors and the 128 × 96 photo of test/helpers/detector-photo.ts (three detections), the
 * registered D-RISE explains them all from one set of masked passes (explain/drise-detections.ts) and writes
 * the same --json, the same text and the same overlay bytes as a D-RISE object the caller made, which still
 * goes through explain() one detection at a time; the detector sees the photo once and N masked images in all.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DetectRun, runExplainDetect } from '../../src/cli/explain-detect.js';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { type AnyMethod, getMethod } from '../../src/methods/registry.js';
import { countedDetector, openSquaresDetector, squaresPhotoFolder } from '../helpers/detector-photo.js';

const MASKS = 100;

let dir: string;
let photo: RgbImage;
beforeAll(async () => {
  ({ dir, photo } = await squaresPhotoFolder('sightline-explain-drise-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What one run printed and the overlays it wrote (to the same paths every run). */
async function explainAll(
  model: Model,
  method: AnyMethod,
  json: boolean,
  signal = new AbortController().signal,
): Promise<{ stdout: string; overlays: Buffer[] }> {
  const run: DetectRun = {
    image: join(dir, 'squares.png'),
    photo,
    model,
    method,
    options: { masks: MASKS, seed: 3 },
    target: 'top',
    detections: 3,
    out: join(dir, 'o.png'),
    json,
    look: { opacity: 0.5, outlineTop: 0, outlineSmoothing: 0, legend: !json },
    signal,
  };
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await runExplainDetect(run);
  } finally {
    write.mockRestore();
  }
  const overlays = await Promise.all([0, 1, 2].map((i) => readFile(join(dir, `o-det${i}.png`))));
  return { stdout: chunks.join(''), overlays };
}

describe.each(['yolov8', 'postnms'])('sightline explain on the %s square detector with D-RISE', (name) => {
  it.each([true, false])(
    'prints (--json %s) and draws what explaining each detection alone does, from N passes in all',
    async (json) => {
      const model = await openSquaresDetector(name);
      try {
        const together = countedDetector(model);
        const fast = await explainAll(together, getMethod('d-rise'), json);
        // A D-RISE the caller made is not the registered one: explain() for each detection, as before.
        const alone = countedDetector(model);
        const slow = await explainAll(alone, { ...getMethod('d-rise') }, json);

        expect(fast.stdout).toBe(slow.stdout);
        if (json) {
          const out = JSON.parse(fast.stdout);
          expect(out.detections.map((d: { overlay: string | null }) => d.overlay !== null)).toEqual([
            true,
            true,
            true,
          ]);
        } else expect(fast.stdout.match(/D-RISE map for /g)).toHaveLength(3);
        for (let i = 0; i < 3; i++) expect(fast.overlays[i].equals(slow.overlays[i]), `det${i}`).toBe(true);
        // The photo once, then the masks for all three; alone each detection is read again (its outputs and
        // its similarity) before its own N masked passes.
        expect(together.images).toBe(1 + MASKS);
        expect(alone.images).toBe(1 + 3 * (2 + MASKS));
      } finally {
        await model.dispose();
      }
    },
    60_000,
  );
});

describe('sightline explain with the D-RISE of all detections at once', () => {
  it('stops at a cancel in the middle of its masked passes', async () => {
    const model = await openSquaresDetector('yolov8');
    try {
      const controller = new AbortController();
      const detector = countedDetector(model, (images) => {
        if (images > MASKS / 2) controller.abort();
      });
      await expect(explainAll(detector, getMethod('d-rise'), true, controller.signal)).rejects.toMatchObject({
        code: 'ABORTED',
      });
      expect(detector.images).toBeLessThan(1 + MASKS);
    } finally {
      await model.dispose();
    }
  }, 60_000);
});
