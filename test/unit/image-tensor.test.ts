import { describe, expect, it } from 'vitest';
import { fromPlanes, imageDims, imageView, reduceChannels, toPlanes } from '../../src/core/image-tensor.js';
import type { ModelSpec } from '../../src/core/model.js';
import { inputToRgb } from '../../src/core/pixels.js';
import { preprocess } from '../../src/core/preprocess.js';
import { createRng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { getMethod, resolveOptions } from '../../src/methods/registry.js';
import { analyticSpec, weightedModelProto } from '../helpers/analytic.js';

/** Where value (n, c, y, x) lies, written out for each layout independently of the view. */
const OFFSET = {
  NCHW: (d: number[], n: number, c: number, y: number, x: number) => ((n * d[1] + c) * d[2] + y) * d[3] + x,
  NHWC: (d: number[], n: number, c: number, y: number, x: number) => ((n * d[1] + y) * d[2] + x) * d[3] + c,
};

describe('imageView', () => {
  it.each([
    ['NCHW', [2, 3, 4, 5]],
    ['NHWC', [2, 4, 5, 3]],
  ] as const)(
    '%s: sizes, and every value at n · size + c · channelStride + (y · W + x) · pixelStride',
    (layout, dims) => {
      const v = imageView(dims, layout);
      expect(v).toMatchObject({ batch: 2, channels: 3, height: 4, width: 5, plane: 20, size: 60 });
      expect(imageDims(layout, 3, 4, 5, 2)).toEqual(dims);
      const seen = new Set<number>();
      for (let n = 0; n < 2; n++)
        for (let c = 0; c < 3; c++)
          for (let y = 0; y < 4; y++)
            for (let x = 0; x < 5; x++) {
              const at = n * v.size + c * v.channelStride + (y * v.width + x) * v.pixelStride;
              expect(at).toBe(OFFSET[layout]([...dims], n, c, y, x));
              seen.add(at);
            }
      expect(seen.size).toBe(120);
    },
  );

  it('refuses a tensor that is not rank 4', () => {
    expect(() => imageView([3, 4, 5], 'NCHW')).toThrow(
      "Argument 'dims' must be a rank-4 image tensor in NCHW layout; got [3, 4, 5].",
    );
  });

  it('planes and back, and per-pixel reductions over channels, agree across layouts', () => {
    // Image 1 of a batch of 2, 2 × 2 pixels, 3 channels; value = 100·c + 10·y + x, negated in channel 2.
    const value = (c: number, y: number, x: number) => (c === 2 ? -1 : 1) * (100 * c + 10 * y + x);
    const planes = Float32Array.from({ length: 12 }, (_, j) => value(Math.floor(j / 4), (j >> 1) & 1, j & 1));
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const v = imageView(imageDims(layout, 3, 2, 2, 2), layout);
      const data = new Float32Array(24);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 2; x++)
            data[OFFSET[layout]([...imageDims(layout, 3, 2, 2, 2)], 1, c, y, x)] = value(c, y, x);
      expect(toPlanes(data, v, 1)).toEqual(planes);
      expect(fromPlanes(planes, v)).toEqual(data.subarray(12));
      const image = data.subarray(12);
      // Pixel (y, x): channels x + 10y, 100 + x + 10y, −(200 + x + 10y).
      expect(Array.from(reduceChannels(image, v, 'sum'))).toEqual([-100, -99, -90, -89]);
      expect(Array.from(reduceChannels(image, v, 'max'))).toEqual([100, 101, 110, 111]);
      expect(Array.from(reduceChannels(image, v, 'max-abs'))).toEqual([200, 201, 210, 211]);
    }
  });
});

/**
 * A linear model whose class-0 score weighs every value differently (w = sin(1 + index in NCHW order)), so a
 * method that confused channels with pixels in one layout would give a different map there. The NHWC model
 * holds the same weights transposed, and its input is the same photo, so every map must agree.
 */
async function weightedModel(size: number, layout: 'NCHW' | 'NHWC'): Promise<OnnxModel> {
  const nchw = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(1 + i) * 50);
  const view = imageView(imageDims(layout, 3, size, size), layout);
  const weights = fromPlanes(nchw, view);
  const proto = weightedModelProto(weights, imageDims(layout, 3, size, size));
  const spec: ModelSpec = { ...analyticSpec(size, layout), mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
  return OnnxModel.create(encodeModel(proto), spec, { maxBatch: 32 });
}

describe('every method that reads the layout gives the same map for NCHW and NHWC', async () => {
  const size = 12;
  const rng = createRng(7);
  const photo = {
    width: size,
    height: size,
    data: Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rng.next() * 256)),
  };
  const models = { NCHW: await weightedModel(size, 'NCHW'), NHWC: await weightedModel(size, 'NHWC') };
  const inputs: Record<string, Tensor> = {
    NCHW: preprocess(photo, models.NCHW.spec).tensor,
    NHWC: preprocess(photo, models.NHWC.spec).tensor,
  };

  it('preprocess writes the same values in each layout, and inputToRgb reads the photo back', () => {
    const view = imageView(inputs.NHWC.dims, 'NHWC');
    expect(inputs.NCHW.dims).toEqual([1, 3, size, size]);
    expect(inputs.NHWC.dims).toEqual([1, size, size, 3]);
    expect(toPlanes(inputs.NHWC.data, view)).toEqual(inputs.NCHW.data);
    expect(inputToRgb(inputs.NCHW, models.NCHW.spec)).toEqual(photo);
    expect(inputToRgb(inputs.NHWC, models.NHWC.spec)).toEqual(photo);
  });

  it.each([
    ['gradient', {}],
    ['gradient-x-input', {}],
    ['integrated-gradients', { baselineType: 'blur', steps: 8 }],
    ['integrated-gradients', { baselineType: 'noise', steps: 8 }],
    ['integrated-gradients', { baselineType: 'white', steps: 8 }],
    ['expected-gradients', { samples: 12 }],
    ['xrai', { steps: 8 }],
    ['occlusion', { window: 4, stride: 2 }],
    ['rise', { masks: 40, gridSize: 3 }],
    ['lime', { segments: 6, samples: 60, fill: 'mean' }],
    ['kernel-shap', { segments: 6, fill: 'blur' }],
  ] as const)('%s %j', async (id, options) => {
    const method = getMethod(id);
    const maps = await Promise.all(
      (['NCHW', 'NHWC'] as const).map((layout) =>
        method.attribute(
          { model: models[layout], input: inputs[layout], target: 0, classes: 2 },
          resolveOptions(method, options),
        ),
      ),
    );
    expect([maps[1].width, maps[1].height]).toEqual([size, size]);
    const scale = maps[0].data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0);
    let worst = 0;
    for (let i = 0; i < size * size; i++)
      worst = Math.max(worst, Math.abs(maps[0].data[i] - maps[1].data[i]));
    expect(worst, `${id}: largest difference, against a map scale of ${scale}`).toBeLessThanOrEqual(
      1e-4 * scale,
    );
  });
});
