// HTTP segmenters (issue 13): the metadata declares 'outputShape' [C, h, w] (untrusted, validated and
// bounded); a real server on 127.0.0.1 answers C·h·w values per input and is explained like an ONNX one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import type { Model } from '../../src/core/model.js';
import { HTTP_METADATA_LIMITS } from '../../src/engines/http/metadata.js';
import { explain, prepare } from '../../src/explain.js';
import { loadHttpModel } from '../../src/models/http.js';
import { type ModelServer, startModelServer } from '../helpers/http-model-server.js';

const SIDE = 16;
const GRID = 4;
const CELL = SIDE / GRID;
/** In input pixels: the bright patch, cells (1..2, 1..2). */
const PATCH = { x0: 4, y0: 4, x1: 12, y1: 12 };

/**
 * The segmenter behind the server, from float32 inputs [H, W, 3] of v = pixel − 128: class 0 ('background')
 * scores 0 everywhere; class 1 ('spot') scores the cell's mean v / 128, so a cell brighter than grey is spot.
 * `short` drops the last value of each answer (a server at odds with its own metadata).
 */
function segmentServer(
  metadata: Record<string, unknown>,
  short = false,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata));
      return;
    }
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const { inputs } = JSON.parse(body) as { inputs: { data: number[] }[] };
      const scores = inputs.map(({ data }) => {
        const out = new Array<number>(2 * GRID * GRID).fill(0);
        for (let y = 0; y < SIDE; y++)
          for (let x = 0; x < SIDE; x++)
            for (let c = 0; c < 3; c++) {
              const cell = Math.floor(y / CELL) * GRID + Math.floor(x / CELL);
              out[GRID * GRID + cell] += data[(y * SIDE + x) * 3 + c] / (128 * 3 * CELL * CELL);
            }
        return short ? out.slice(0, -1) : out;
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ scores }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/predict`, server }),
    ),
  );
}

const META = {
  width: SIDE,
  height: SIDE,
  input: 'float32',
  labels: ['background', 'spot'],
  outputShape: [2, GRID, GRID],
};

/** Dark grey (100) with the bright patch (220). */
const PHOTO = (() => {
  const data = new Uint8Array(SIDE * SIDE * 3).fill(100);
  for (let y = PATCH.y0; y < PATCH.y1; y++)
    for (let x = PATCH.x0; x < PATCH.x1; x++) data.fill(220, (y * SIDE + x) * 3, (y * SIDE + x) * 3 + 3);
  return { width: SIDE, height: SIDE, data };
})();

const servers: Server[] = [];
const close = () =>
  Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));

describe('an HTTP segmenter that declares its outputShape', () => {
  let model: Model;
  beforeAll(async () => {
    const { url, server } = await segmentServer(META);
    servers.push(server);
    model = await loadHttpModel(url, { http: { retries: 0 } });
  });
  afterAll(async () => {
    await model.dispose();
    await close();
  });

  it('is a segmenter with no task in the metadata; the spec carries the shape', () => {
    expect([model.spec.task, model.spec.outputShape]).toEqual(['segment', [2, GRID, GRID]]);
  });

  it("predicts pixel shares and explains 'spot' over its own cells; occlusion's map is in the patch", async () => {
    const prepared = await prepare({ model, image: PHOTO });
    try {
      expect(prepared.predictions.map((p) => [p.label, p.score])).toEqual([
        ['background', 12 / 16],
        ['spot', 4 / 16],
      ]);
      expect(prepared.target.description).toMatchObject({
        kind: 'segment',
        class: 1,
        pixels: 4,
        passedOver: { index: 0, label: 'background' },
      });
      // Σ over the 4 bright cells of (220 − 128) / 128.
      expect(prepared.scores.data[0]).toBeCloseTo((4 * 92) / 128, 5);
    } finally {
      await prepared.model?.dispose();
    }
    const r = await explain({ model, image: PHOTO, method: 'occlusion', options: { window: 4, stride: 4 } });
    let inside = 0;
    let total = 0;
    for (let i = 0; i < r.inputMap.data.length; i++) {
      const [x, y] = [i % SIDE, Math.floor(i / SIDE)];
      const v = Math.max(0, r.inputMap.data[i]);
      total += v;
      if (x >= PATCH.x0 && x < PATCH.x1 && y >= PATCH.y0 && y < PATCH.y1) inside += v;
    }
    expect(inside / total).toBeGreaterThanOrEqual(0.99);
  });
});

describe('an HTTP model whose outputShape is wrong', () => {
  let helpers: ModelServer[] = [];
  afterEach(async () => {
    await close();
    await Promise.all(helpers.map((s) => s.close()));
    helpers = [];
  });

  const refusal = async (metadata: Record<string, unknown>) => {
    const server = await startModelServer({ metadata });
    helpers.push(server);
    const error = await loadHttpModel(server.url, { http: { retries: 0 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('MODEL_LOAD');
    return { message: (error as SightlineError).message, url: server.url };
  };

  const limit = HTTP_METADATA_LIMITS.outputValues;
  const expected = `[C, h, w] (a segmenter) or [K] (the scores' count): whole numbers ≥ 1 with at most ${limit} values in all`;
  it.each([
    [[2, 4], '(an array of 2)'],
    [[2, 0, 4], '(an array of 3)'],
    [[2, 4.5, 4], '(an array of 3)'],
    [['2', 4, 4], '(an array of 3)'],
    [[3, 2048, 2048], '(an array of 3)'],
    [[1e300], '(an array of 1)'],
    ['2x4x4', '"2x4x4"'],
    [{ c: 2 }, '(an object)'],
  ])('refuses %j in words, naming the limit', async (shape, shown) => {
    const { message, url } = await refusal({ width: 8, height: 8, outputShape: shape });
    expect(message).toBe(
      `The metadata of the model at ${url} (GET) has 'outputShape' ${shown}; expected ${expected}.`,
    );
  });

  it('refuses a segmenter without a shape, a [C, h, w] shape on a classifier, and labels of another count', async () => {
    const none = await refusal({ width: 8, height: 8, task: 'segment' });
    expect(none.message).toBe(
      `The model at ${none.url} is a segmenter, but its metadata (GET) declares no 'outputShape': [C, h, w]; a segmenter's answer is its C·h·w values per input, row-major, which only that shape lays out.`,
    );
    const classify = await refusal({ width: 8, height: 8, task: 'classify', outputShape: [2, 4, 4] });
    expect(classify.message).toBe(
      `The model at ${classify.url} declares 'outputShape' [2, 4, 4], a segmenter's [C, h, w], but its task is 'classify'; declare a [K] shape, or the task 'segment'.`,
    );
    const labels = await refusal({ width: 8, height: 8, labels: ['a', 'b', 'c'], outputShape: [2, 4, 4] });
    expect(labels.message).toBe(
      `The model at ${labels.url} has 3 labels, but its 'outputShape' [2, 4, 4] has 2 classes; expected one label for each.`,
    );
  });

  it('an answer of another length than the declared shape stops the run (MODEL_OUTPUT)', async () => {
    const { url, server } = await segmentServer(META, true);
    servers.push(server);
    const model = await loadHttpModel(url, { http: { retries: 0 } });
    try {
      const error = await prepare({ model, image: PHOTO }).catch((e) => e);
      expect(error.code).toBe('MODEL_OUTPUT');
      expect(error.message).toBe(
        `The answer of the model at ${url} does not fit the contract: there are 31 scores per input, but its metadata declares 'outputShape' [2, 4, 4], 32 values; expected the same number every time.`,
      );
    } finally {
      await model.dispose();
    }
  });
});
