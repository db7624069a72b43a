import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttributionMap } from '../../src/core/attribution.js';
import type { RgbImage } from '../../src/core/image.js';
import type { Model, ModelSpec } from '../../src/core/model.js';
import { batchImageToRgb } from '../../src/core/pixels.js';
import { preprocess } from '../../src/core/preprocess.js';
import type { Tensor } from '../../src/core/tensor.js';
import { occlusion } from '../../src/methods/perturbation/occlusion.js';
import { rise } from '../../src/methods/perturbation/rise.js';
import { resolveOptions } from '../../src/methods/registry.js';
import { loadHttpModel } from '../../src/models/http.js';
import {
  type Fault,
  type ModelServer,
  type Patch,
  patchScores,
  startModelServer,
} from '../helpers/http-model-server.js';

const SIZE = 32;
const PATCH: Patch = { x0: 18, y0: 6, x1: 26, y1: 14 };

/** A photo of another size (squashed to 32 × 32), bright inside the patch's part of it, textured elsewhere. */
function photo(): RgbImage {
  const width = 40;
  const height = 48;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bright = x >= 23 && x < 32 && y >= 9 && y < 21;
      for (let c = 0; c < 3; c++)
        data[(y * width + x) * 3 + c] = bright ? 220 - 10 * c : (x * 5 + y * 3 + c * 40) % 120;
    }
  }
  return { width, height, data };
}

/**
 * The same analytic function in process: for PNG transport it sees the tensor through the documented 8-bit
 * rounding (batchImageToRgb), for float32 the tensor itself, in either layout.
 */
function inProcessModel(spec: ModelSpec, input: 'png' | 'float32'): Model {
  const plane = spec.width * spec.height;
  return {
    spec,
    capabilities: new Set(['predict']),
    maxBatch: 16,
    async predict(batch: Tensor) {
      const n = batch.dims[0];
      const data = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) {
        const off = i * 3 * plane;
        let at: (x: number, y: number, c: number) => number;
        if (input === 'png') {
          const px = batchImageToRgb(batch, i, spec).data;
          at = (x, y, c) => px[(y * spec.width + x) * 3 + c] - 128;
        } else if (spec.layout === 'NHWC') {
          at = (x, y, c) => batch.data[off + (y * spec.width + x) * 3 + c];
        } else {
          at = (x, y, c) => batch.data[off + c * plane + y * spec.width + x];
        }
        data.set(patchScores(at, PATCH), 2 * i);
      }
      return { data, dims: [n, 2] };
    },
    async dispose() {},
  };
}

const FAULTS: Fault[] = [
  { kind: 'status', status: 500 },
  { kind: 'drop' },
  { kind: 'malformed' },
  { kind: 'slow', ms: 800 },
  { kind: 'status', status: 429, retryAfter: '0.05' },
  { kind: 'hang' },
];

function maxDifference(a: AttributionMap, b: AttributionMap): number {
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  return max;
}

describe.each([
  ['png', 'NHWC'],
  ['float32', 'NCHW'],
] as const)(
  'occlusion and RISE through HTTP (%s, %s) with faults on a third of the requests',
  (input, layout) => {
    let server: ModelServer;
    let http: Model;
    let local: Model;
    let tensor: Tensor;
    let injected = 0;
    beforeAll(async () => {
      // Faults hit only the first try of a request body, so every request succeeds in the end.
      server = await startModelServer({
        patch: PATCH,
        fault: (r) => (r.firstTry && r.n % 3 === 1 ? FAULTS[injected++ % FAULTS.length] : undefined),
      });
      http = await loadHttpModel(server.url, {
        width: SIZE,
        height: SIZE,
        layout,
        http: { input, timeoutMs: 250, retries: 4, backoffMs: 10, requestBatch: 4, concurrency: 4 },
      });
      local = inProcessModel(http.spec, input);
      tensor = preprocess(photo(), http.spec).tensor;
    });
    afterAll(() => server.close());

    it('occlusion gives the in-process map', async () => {
      const options = resolveOptions(occlusion, { window: 8, stride: 4 });
      const viaHttp = await occlusion.attribute(
        { model: http, input: tensor, target: 0, classes: 2 },
        options,
      );
      const inProcess = await occlusion.attribute(
        { model: local, input: tensor, target: 0, classes: 2 },
        options,
      );
      expect(maxDifference(viaHttp, inProcess)).toBeLessThanOrEqual(1e-6);
      // The map has content (the patch matters) and faults were really injected.
      expect(Math.max(...inProcess.data)).toBeGreaterThan(0.01);
      expect(
        new Set(server.posts().flatMap((r) => (r.fault ? [r.fault.kind] : []))).size,
      ).toBeGreaterThanOrEqual(4);
    });

    it('RISE gives the in-process map', async () => {
      const options = resolveOptions(rise, { masks: 96, gridSize: 4, seed: 3 });
      const before = server.posts().length;
      const viaHttp = await rise.attribute({ model: http, input: tensor, target: 0, classes: 2 }, options);
      const inProcess = await rise.attribute({ model: local, input: tensor, target: 0, classes: 2 }, options);
      expect(maxDifference(viaHttp, inProcess)).toBeLessThanOrEqual(1e-6);
      const posts = server.posts().slice(before);
      // 96 masks in requests of 4 = 24 requests, plus one retry per injected fault.
      expect(posts.filter((r) => r.firstTry)).toHaveLength(24);
      expect(posts.filter((r) => r.fault).length).toBeGreaterThanOrEqual(6);
      expect(posts).toHaveLength(24 + posts.filter((r) => r.fault).length);
    });
  },
);
