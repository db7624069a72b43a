// The shortcut tests' parts that the end-to-end test does not pin down: the blurred fill carries no trace of the
// object, the mask follows the model's resize, the partners are deterministic and fair, the flags' rules, and
// the journal's check of the row part.
import { describe, expect, it } from 'vitest';
import { checkShortcutPart } from '../../src/audit/shortcut-check.js';
import { blurredBackground, paste, sceneAtInput } from '../../src/audit/shortcut-pixels.js';
import type { ShortcutOutcome } from '../../src/audit/shortcut-types.js';
import { flagged, ShortcutTester, shortcutPartners } from '../../src/audit/shortcuts.js';
import type { Model, ModelSpec } from '../../src/core/model.js';
import { analyticSpec, patchModel } from '../helpers/analytic.js';

/** A width × height scene of grey `bg` with a red box (x0, y0, x1, y1) as its region. */
function scene(width: number, height: number, box: readonly number[], bg = 90) {
  const plane = width * height;
  const planes = new Float32Array(3 * plane).fill(bg);
  const mask = new Uint8Array(plane);
  for (let y = box[1]; y < box[3]; y++)
    for (let x = box[0]; x < box[2]; x++) {
      const i = y * width + x;
      mask[i] = 1;
      planes[i] = 255;
      planes[plane + i] = 0;
      planes[2 * plane + i] = 0;
    }
  return { width, height, planes, mask };
}

const outcome = (index: number, label: string): ShortcutOutcome => ({
  probability: 0.9,
  top: { index, label, probability: 0.9 },
});

describe('blurredBackground', () => {
  for (const [width, height] of [
    [64, 48],
    [300, 200],
  ]) {
    it(`fills the region of a ${width} × ${height} input with the background's grey, none of the object's red`, () => {
      const s = scene(width, height, [width / 4, height / 4, (3 * width) / 4, (3 * height) / 4]);
      const fill = blurredBackground(s);
      const removed = paste(s.mask, fill, s.planes);
      // A uniform background blurred is the same grey everywhere, whatever the cells' sizes.
      expect(removed.reduce((worst, v) => Math.max(worst, Math.abs(v - 90)), 0)).toBeLessThan(1e-3);
    });
  }

  it("takes the background's mean colour where no background lies within reach, black with no background", () => {
    const s = scene(100, 100, [0, 0, 100, 100]);
    expect([...new Set(blurredBackground(s))]).toEqual([0]);
    // Background only in the top-left 2 × 2 (grey 90); the far corner is beyond 3σ of it.
    const t = scene(100, 100, [2, 0, 100, 100]);
    for (let y = 2; y < 100; y++) t.mask.fill(1, y * 100, y * 100 + 2);
    const fill = blurredBackground(t);
    expect(fill[99 * 100 + 99]).toBeCloseTo(90, 5);
  });
});

describe('sceneAtInput', () => {
  it("puts the region where the model's resize puts the photo's pixels", () => {
    // 100 × 50 squashed to 32 × 32: the right half of the photo is the right half of the input.
    const image = { width: 100, height: 50, data: new Uint8Array(100 * 50 * 3).fill(200) };
    const mask = new Uint8Array(100 * 50);
    for (let y = 0; y < 50; y++) mask.fill(1, y * 100 + 50, y * 100 + 100);
    const s = sceneAtInput(image, mask, analyticSpec(32));
    expect(s.width).toBe(32);
    const expected = Uint8Array.from({ length: 32 * 32 }, (_, i) => (i % 32 >= 16 ? 1 : 0));
    expect([...s.mask]).toEqual([...expected]);
    expect(s.planes.reduce((worst, v) => Math.max(worst, Math.abs(v - 200)), 0)).toBeLessThan(1e-3);
  });
});

describe('shortcutPartners', () => {
  const files = Array.from({ length: 9 }, (_, i) => ({ file: `f${i}.png`, label: i < 5 ? 'a' : 'b' }));

  it('draws the same partners for the same files, labels and seed, in any order', () => {
    const p = shortcutPartners(files, 7);
    expect(shortcutPartners([...files].reverse(), 7)).toEqual(p);
    expect(shortcutPartners(files, 8)).not.toEqual(p);
    for (const f of files) {
      const { random, same } = p.get(f.file)!;
      expect(random).not.toBe(f.file);
      expect(same).not.toBe(f.file);
      expect(files.find((g) => g.file === same)?.label).toBe(f.label);
    }
  });

  it('draws every other file as the random partner about equally often', () => {
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 2000; seed++) {
      const random = shortcutPartners(files, seed).get('f4.png')!.random!;
      counts.set(random, (counts.get(random) ?? 0) + 1);
    }
    expect(counts.has('f4.png')).toBe(false);
    expect(counts.size).toBe(8);
    // 250 expected each; a binomial(2000, 1/8) lies within ±60 of it with probability > 99.9%.
    for (const n of counts.values()) expect(Math.abs(n - 250)).toBeLessThan(60);
  });

  it('gives no same-class partner to a file alone in its class or without a label, and none at all to one file', () => {
    const p = shortcutPartners([{ file: 'a', label: 'x' }, { file: 'b', label: 'y' }, { file: 'c' }], 0);
    expect(p.get('a')).toEqual({ random: expect.any(String) });
    expect(p.get('c')?.same).toBeUndefined();
    expect(shortcutPartners([{ file: 'a', label: 'x' }], 0).get('a')).toEqual({});
  });
});

describe('flagged', () => {
  const target = { index: 0, label: 'dog' };

  it('says a model relies on context only when it was right on the original and stays so without the object', () => {
    const kept = flagged(target, { original: outcome(0, 'dog'), objectRemoved: outcome(0, 'dog') }, {});
    expect(kept.reliesOnContext).toBe(true);
    expect(kept.flags).toEqual(["still predicts 'dog' with the object removed"]);
    const wrongBefore = flagged(
      target,
      { original: outcome(1, 'cat'), objectRemoved: outcome(0, 'dog') },
      {},
    );
    expect(wrongBefore.reliesOnContext).toBe(false);
    const dropped = flagged(target, { original: outcome(0, 'dog'), objectRemoved: outcome(1, 'cat') }, {});
    expect(dropped.flags).toEqual([]);
  });

  it('says a model is fragile when a swapped background changes its top class', () => {
    const part = flagged(
      target,
      {
        original: outcome(0, 'dog'),
        objectRemoved: outcome(1, 'cat'),
        swapRandom: outcome(2, 'sofa'),
        swapSame: outcome(0, 'dog'),
      },
      { random: 'r.png', same: 's.png' },
    );
    expect(part.fragile).toBe(true);
    expect(part.flags).toEqual(["changes its answer when only the background changes (to 'sofa')"]);
  });
});

describe('checkShortcutPart', () => {
  const part = flagged(
    { index: 0, label: 'dog' },
    { original: { ...outcome(0, 'dog'), correct: true }, objectRemoved: outcome(0, 'dog') },
    { random: 'r.png' },
  );

  it('rebuilds a part as the tester writes it', () => {
    expect(checkShortcutPart(JSON.parse(JSON.stringify(part)))).toEqual({ part });
  });

  it('refuses a part with a field of the wrong type, naming the field', () => {
    const edited = JSON.parse(JSON.stringify(part));
    edited.variants.objectRemoved.probability = '0.5';
    expect(checkShortcutPart(edited)).toEqual({
      problem: "'shortcuts.variants.objectRemoved.probability' is not a finite number",
    });
    expect(checkShortcutPart({ ...part, flags: 'x' })).toEqual({
      problem: "'shortcuts.flags' is not a list of up to 10 texts",
    });
    expect(checkShortcutPart({ ...part, fragile: 1 })).toEqual({
      problem: "'shortcuts.fragile' is not true or false",
    });
  });
});

describe('ShortcutTester', () => {
  it('refuses a model that is not a classifier, and tests nothing of a region the crop cuts off', async () => {
    const model = await patchModel(16, { x0: 0, y0: 0, x1: 4, y1: 4 });
    try {
      // The same ONNX session read under another spec (a class instance's methods do not spread).
      const under = (spec: Partial<ModelSpec>): Model => ({
        spec: { ...model.spec, ...spec },
        capabilities: model.capabilities,
        maxBatch: model.maxBatch,
        predict: (batch, options) => model.predict(batch, options),
        dispose: async () => {},
      });
      const score = under({ task: 'score' });
      expect(() => new ShortcutTester(score, [], { background: 'black', removal: 'blur', seed: 0 })).toThrow(
        /--shortcuts tests a classifier's answer on variants of each photo; this model is read as score/,
      );
      // A 16 × 32 photo centre-cropped to its middle 16 × 16: a region in the top rows lies outside the input.
      const cropped = under({ resize: 'center-crop' });
      const tester = new ShortcutTester(cropped, [], { background: 'black', removal: 'blur', seed: 0 });
      const mask = new Uint8Array(16 * 32);
      mask.fill(1, 0, 16 * 4);
      const part = await tester.test({
        file: 'a.png',
        image: { width: 16, height: 32, data: new Uint8Array(16 * 32 * 3).fill(100) },
        mask,
        target: 0,
      });
      expect(Object.keys(part.variants)).toEqual(['original']);
      expect(part.flags).toEqual([]);
      expect(part.problems?.[0]).toContain('the region lies outside the part of the photo the model sees');
    } finally {
      await model.dispose();
    }
  });
});

describe('ShortcutTester fills and partners', () => {
  it("shows the object on its own background blurred or the audit's mean colour, and notes a partner it cannot read", async () => {
    // Class 0 scores the top-left 4 × 4 corner's mean (pixel / 255); the object is the middle 8 × 8.
    const model = await patchModel(16, { x0: 0, y0: 0, x1: 4, y1: 4 });
    try {
      const data = new Uint8Array(16 * 16 * 3).fill(100);
      const mask = new Uint8Array(16 * 16);
      for (let y = 4; y < 12; y++)
        for (let x = 4; x < 12; x++) {
          mask[y * 16 + x] = 1;
          data.fill(200, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
        }
      const image = { width: 16, height: 16, data };
      const sources = [
        { file: 'a.png', load: async () => image, regionMask: async () => mask },
        {
          file: 'b.png',
          load: async () => image,
          regionMask: async (): Promise<Uint8Array> => {
            throw new Error('its region lies outside the image');
          },
        },
      ];
      const input = { file: 'a.png', image, mask, target: 0 };
      const test = (background: 'blur' | 'mean') =>
        new ShortcutTester(model, sources, { background, removal: 'blur', seed: 0 }).test(input);
      // The background is an even 100 grey, so blurred it is 100 everywhere, the corner too.
      const blurred = await test('blur');
      expect(blurred.variants.objectOnly?.probability).toBeCloseTo(100 / 255, 5);
      // The mean of the readable images (b.png's region fails): (192 · 100 + 64 · 200) / 256 = 125.
      const mean = await test('mean');
      expect(mean.variants.objectOnly?.probability).toBeCloseTo(125 / 255, 5);
      expect(mean.variants.swapRandom).toBeUndefined();
      expect(mean.partners).toEqual({});
      expect(mean.problems).toEqual([
        "the background of 'b.png' could not be read: its region lies outside the image",
      ]);
    } finally {
      await model.dispose();
    }
  });
});
