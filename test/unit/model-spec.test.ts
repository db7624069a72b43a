import { describe, expect, it } from 'vitest';
import { imageInputShape, specFromIo } from '../../src/models/spec.js';
import { thrown } from '../helpers/errors.js';

describe('imageInputShape reads an image input’s layout and fixed size from its dims', () => {
  it.each([
    [[1, 3, 224, 200], undefined, { layout: 'NCHW', width: 200, height: 224 }],
    [[1, 224, 200, 3], undefined, { layout: 'NHWC', width: 200, height: 224 }],
    // Dim 1 wins when both could be channels.
    [[1, 3, 5, 3], undefined, { layout: 'NCHW', width: 3, height: 5 }],
    // Symbolic and −1 dims are no fixed size.
    [['N', 3, 'H', 'W'], undefined, { layout: 'NCHW', width: undefined, height: undefined }],
    [[-1, -1, 96, 3], undefined, { layout: 'NHWC', width: 96, height: undefined }],
    // A layout the caller knows (a flag, a converted TFLite model) overrides the guess.
    [[1, 3, 224, 200], 'NHWC', { layout: 'NHWC', width: 224, height: 3 }],
    [[1, 'c', 64, 32], 'NCHW', { layout: 'NCHW', width: 32, height: 64 }],
  ] as const)('%j with layout %s', (dims, layout, expected) => {
    expect(imageInputShape(dims, layout)).toEqual(expected);
  });

  it('says nothing when no dim says the layout, not even a size read at a guessed position', () => {
    expect(imageInputShape([1, 1, 28, 28])).toEqual({});
    expect(imageInputShape(['N', 'C', 224, 224])).toEqual({});
  });
});

describe('specFromIo takes layout and size by the same rule', () => {
  const io = (dims: (number | string)[]) => ({ inputs: [{ name: 'x', dims }], outputs: [] });
  const hints = { labels: [], outputs: 'logits' as const };

  it('fills layout, width and height from the dims, and hints override them', () => {
    const s = specFromIo(io([1, 160, 128, 3]), hints);
    expect([s.layout, s.width, s.height]).toEqual(['NHWC', 128, 160]);
    const t = specFromIo(io(['N', 3, 'H', 'W']), { ...hints, width: 64, height: 48 });
    expect([t.layout, t.width, t.height]).toEqual(['NCHW', 64, 48]);
  });

  it('names an input whose layout or size it cannot tell', () => {
    expect(thrown(() => specFromIo(io([1, 1, 28, 28]), hints)).message).toBe(
      "Cannot tell the layout of input 'x' [1, 1, 28, 28]; pass --layout NCHW or NHWC.",
    );
    expect(thrown(() => specFromIo(io([1, 3, 'H', 'W']), hints)).message).toBe(
      "Input 'x' [1, 3, H, W] has no fixed size; pass --input-size (e.g. 224 or 224x224).",
    );
  });
});
