// A segmenter's 'top' class (issue 13): the class with most pixels, unless its label names the background,
// in which case the largest other class that has pixels, said so in the target's description.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { disposePrepared, prepare } from '../../src/explain.js';
import { openOnnxModel } from '../../src/models/open.js';
import type { Patch } from '../helpers/analytic.js';
import { SIZE, segmenterProto } from '../helpers/target-models.js';

const WHITE = { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(255) };
const READ1: Patch = { x0: 0, y0: 0, x1: 6, y1: 6 };
const READ2: Patch = { x0: 6, y0: 0, x1: 8, y1: 4 };
const NONE: Patch = { x0: 0, y0: 0, x1: 0, y1: 0 };
// Class 1 owns 4 cells, class 2 owns 16; class 0 gets the other 44.
const OWN1: Patch = { x0: 6, y0: 6, x1: 8, y1: 8 };
const OWN2: Patch = { x0: 0, y0: 4, x1: 4, y1: 8 };

async function topOf(labels: string[], owns: [Patch, Patch] = [OWN1, OWN2]) {
  const model = await openOnnxModel(encodeModel(segmenterProto([READ1, READ2], owns)), {
    mean: [0],
    std: [1],
    labels,
  });
  try {
    const prepared = await prepare({ model, image: WHITE });
    await disposePrepared(prepared);
    return { label: prepared.target.label, description: prepared.target.description };
  } finally {
    await model.dispose();
  }
}

describe("a segmenter's default class", () => {
  it.each(['background', '__background__', 'BG', ' Void '])(
    "passes over a class labelled '%s' for the largest other class by pixels",
    async (name) => {
      const top = await topOf([name, 'cat', 'dog']);
      expect(top.label).toBe('dog');
      expect(top.description).toMatchObject({
        class: 2,
        pixels: 16,
        passedOver: { index: 0, label: name },
      });
    },
  );

  it('keeps the largest class when no label names the background, or when there are no labels', async () => {
    for (const labels of [['sky', 'cat', 'dog'], [], ['backgrounds', 'cat', 'dog']]) {
      const top = await topOf(labels);
      expect(top.description).toMatchObject({ class: 0, pixels: 44 });
      expect(top.description).not.toHaveProperty('passedOver');
    }
  });

  it('keeps the background when no other class has a pixel', async () => {
    const top = await topOf(['background', 'cat', 'dog'], [NONE, NONE]);
    expect(top.label).toBe('background');
    expect(top.description).toMatchObject({ class: 0, pixels: 64 });
    expect(top.description).not.toHaveProperty('passedOver');
  });

  it('an explicit target is never replaced, the background included', async () => {
    const model = await openOnnxModel(encodeModel(segmenterProto([READ1, READ2], [OWN1, OWN2])), {
      mean: [0],
      std: [1],
      labels: ['background', 'cat', 'dog'],
    });
    try {
      const prepared = await prepare({ model, image: WHITE, target: 'background' });
      await disposePrepared(prepared);
      expect(prepared.target.description).toMatchObject({ class: 0, pixels: 44 });
      expect(prepared.target.description).not.toHaveProperty('passedOver');
    } finally {
      await model.dispose();
    }
  });
});
