/**
 * The detector audit's D-RISE on all of a photo's targets at once (src/audit/detect.ts with
 * explain/drise-detections.ts): on the hand-set square detectors (scripts/golden/detectors.py) and the
 * 128 × 96 photo of test/helpers/detector-photo.ts (letterboxed, so mapping back is on the path), a photo with
 * three detections and a missed object gives the same row and the same maps, bit for bit, as explaining each
 * target alone through explainPrepared, which a D-RISE object that is not the registered one still does; and
 * the detector sees the photo once and N masked images in all, not 1 + N per target.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditDetections, type DetectMap } from '../../src/audit/detect.js';
import type { AuditRow } from '../../src/audit/types.js';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { type AnyMethod, getMethod } from '../../src/methods/registry.js';
import { countedDetector, openSquaresDetector, squaresPhotoFolder } from '../helpers/detector-photo.js';

const MASKS = 100;

let dir: string;
let photo: RgbImage;
beforeAll(async () => {
  ({ dir, photo } = await squaresPhotoFolder('sightline-audit-drise-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

// Photo pixels (the 64 × 64 squares doubled): red found; a green box over empty background, missed.
const OBJECTS = [
  { label: 'red', box: [20, 28, 52, 60] as const },
  { label: 'green', box: [0, 64, 30, 94] as const },
];

async function audit(
  model: Model,
  method: string | AnyMethod,
  signal?: AbortSignal,
): Promise<{ row: AuditRow; maps: readonly DetectMap[]; progress: number[] }> {
  const rows: { row: AuditRow; maps: readonly DetectMap[] }[] = [];
  const progress: number[] = [];
  await auditDetections([{ file: 'squares.png', load: async () => photo, objects: async () => OBJECTS }], {
    model,
    method,
    options: { masks: MASKS, seed: 3 },
    concurrency: 1,
    signal,
    onProgress: (p) => progress.push(p.done),
    async onRow(row, result) {
      rows.push({ row, maps: result?.maps ?? [] });
    },
  });
  return { ...rows[0], progress };
}

describe.each(['yolov8', 'postnms'])('the %s square detector audited with D-RISE', (name) => {
  it('gives every detection and missed object the map and row it gets explained alone, from N passes in all', async () => {
    const model = await openSquaresDetector(name);
    try {
      const together = countedDetector(model);
      const fast = await audit(together, 'd-rise');
      // A D-RISE the caller made is not the registered one: the per-target path, explainPrepared each time.
      const alone = countedDetector(model);
      const slow = await audit(alone, { ...getMethod('d-rise') });

      const { seconds: _a, ...row } = fast.row;
      const { seconds: _b, ...rowAlone } = slow.row;
      expect(row.status, JSON.stringify(row)).toBe('ok');
      expect(row.detect?.explained).toBe(3);
      expect(row.detect?.misses.map((m) => m.object)).toEqual([1]);
      expect(row).toEqual(rowAlone);
      expect(fast.maps.map((m) => m.key)).toEqual(['det0', 'det1', 'det2', 'miss1']);
      expect(fast.maps.length).toBe(slow.maps.length);
      for (let t = 0; t < fast.maps.length; t++) {
        const [a, b] = [fast.maps[t], slow.maps[t]];
        expect({ ...a, map: undefined }).toEqual({ ...b, map: undefined });
        expect([a.map.width, a.map.height, a.map.signed]).toEqual([photo.width, photo.height, true]);
        expect([b.map.width, b.map.height, b.map.signed]).toEqual([photo.width, photo.height, true]);
        const bytes = (d: Float32Array) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
        expect(bytes(a.map.data).equals(bytes(b.map.data))).toBe(true);
        // Not all empty: the red square's map has evidence on both (at 100 masks the post-NMS detector's
        // blue and green ones have none, as alone).
        if (a.key === 'det0') expect(a.map.data.some((v) => v !== a.map.data[0])).toBe(true);
      }
      // The photo once, then the masks: one set for all four targets, where alone each costs its own
      // unmasked pass and its N masked ones.
      expect(together.images).toBe(1 + MASKS);
      expect(alone.images).toBe(1 + 4 * (1 + MASKS));
      expect(fast.progress).toEqual([0, 1]);
    } finally {
      await model.dispose();
    }
  }, 60_000);
});

describe('the D-RISE of all targets at once', () => {
  it('stops at a cancel in the middle of its masked passes', async () => {
    const model = await openSquaresDetector('yolov8');
    try {
      const controller = new AbortController();
      const detector = countedDetector(model, (images) => {
        if (images > MASKS / 2) controller.abort();
      });
      await expect(audit(detector, 'd-rise', controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
      expect(detector.images).toBeLessThan(1 + MASKS);
    } finally {
      await model.dispose();
    }
  }, 60_000);
});
