// Grad-CAM's one pass gives prepare its scores (explain.ts PrepareRequest.forMethod, engines/onnx 'top' seed):
// the model runs once per photo instead of a forward pass and then the method's, with the same scores,
// predictions, target and map as the two-pass way. Runs are counted at ONNX Runtime's session, so a forward
// pass hidden inside the engine counts too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditImages } from '../../src/audit/audit.js';
import type { AuditRow } from '../../src/audit/types.js';
import { SightlineError } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/image.js';
import type { ModelSpec } from '../../src/core/model.js';
import { openInThisThread, type SessionOpener } from '../../src/engines/onnx/open-session.js';
import { attr, buildModel, encodeModel, floatTensor, valueInfo } from '../../src/engines/onnx/proto.js';
import { OnnxModel } from '../../src/engines/onnx/session.js';
import { explain, explainPrepared, prepare } from '../../src/explain.js';
import { oneHot } from '../../src/methods/gradient/common.js';
import { analyticSpec } from '../helpers/analytic.js';

const SIZE = 8;
const CLASSES = 3;
const FEATURES = 4;

/**
 * x [N, 3, 8, 8] → Conv 3×3 (4 channels, fixed weights) → Relu 'feat' → GlobalAveragePool → Gemm → scores
 * [N, 3]. `tie`: classes 1 and 2 get the same head row, so their scores are equal on every photo (the top
 * is the first of them, and a seed of both would double Grad-CAM's weights).
 */
function tinyCnn(tie: boolean): Uint8Array {
  const w = Float32Array.from({ length: FEATURES * 3 * 9 }, (_, i) => Math.sin(i * 1.7) * 0.5);
  const head = [[1, -1, 0, 0], [-1, 1, 0, 0], tie ? [-1, 1, 0, 0] : [0, 0, 1, -1]];
  return encodeModel(
    buildModel({
      inputs: [valueInfo('x', ['N', 3, SIZE, SIZE])],
      outputs: [valueInfo('scores', ['N', CLASSES])],
      initializers: [
        floatTensor('w', [FEATURES, 3, 3, 3], w),
        floatTensor('head', [CLASSES, FEATURES], Float32Array.from(head.flat())),
      ],
      nodes: [
        { opType: 'Conv', input: ['x', 'w'], output: ['conv'], attribute: [attr('pads', [1, 1, 1, 1])] },
        { opType: 'Relu', input: ['conv'], output: ['feat'] },
        { opType: 'GlobalAveragePool', input: ['feat'], output: ['pooled'] },
        { opType: 'Flatten', input: ['pooled'], output: ['flat'] },
        { opType: 'Gemm', input: ['flat', 'head'], output: ['scores'], attribute: [attr('transB', 1)] },
      ],
    }),
  );
}

const spec: ModelSpec = { ...analyticSpec(SIZE), labels: ['a', 'b', 'c'], outputs: 'logits' };

/** Opens sessions that count their runs: every model pass, whichever code path asked for it. */
function countingOpener(): { open: SessionOpener; runs: () => number } {
  let runs = 0;
  return {
    runs: () => runs,
    open: async (bytes, options) => {
      const session = await openInThisThread(bytes, options);
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        inputMetadata: session.inputMetadata,
        outputMetadata: session.outputMetadata,
        release: () => session.release(),
        run: (feeds, fetches) => {
          runs++;
          return session.run(feeds, fetches);
        },
      };
    },
  };
}

/** A photo of the model's size: a pattern whose strength per colour channel differs with `seed`. */
function photo(seed: number): RgbImage {
  const data = new Uint8Array(SIZE * SIZE * 3);
  const gain = [seed % 3 === 0 ? 1 : 0.2, seed % 3 === 1 ? 1 : 0.2, seed % 3 === 2 ? 1 : 0.2];
  for (let i = 0; i < data.length; i++) data[i] = Math.round(((i * (37 + seed * 11)) % 256) * gain[i % 3]);
  return { width: SIZE, height: SIZE, data };
}

describe('Grad-CAM without a forward pass before it', () => {
  const counter = countingOpener();
  let model: OnnxModel;
  let tied: OnnxModel;
  beforeAll(async () => {
    model = await OnnxModel.create(tinyCnn(false), spec, { openSession: counter.open });
    tied = await OnnxModel.create(tinyCnn(true), spec, { openSession: counter.open });
  });
  afterAll(async () => {
    await model.dispose();
    await tied.dispose();
  });

  /** The two-pass way, as before: a forward pass for the scores, then the method's own pass. */
  async function twoPasses(m: OnnxModel, image: RgbImage, target?: number) {
    const prepared = await prepare({ model: m, image, target });
    return explainPrepared(m, prepared, { method: 'grad-cam' });
  }

  it('explain runs the model once per photo and gives what two passes gave, bit for bit', async () => {
    const targets = new Set<number>();
    for (let p = 0; p < 6; p++) {
      const image = photo(p);
      const expected = await twoPasses(model, image);
      const before = counter.runs();
      const got = await explain({ model, image, method: 'grad-cam' });
      expect(counter.runs() - before).toBe(1);
      expect(got.target).toEqual(expected.target);
      expect(got.predictions).toEqual(expected.predictions);
      expect(Array.from(got.scores.data)).toEqual(Array.from(expected.scores.data));
      expect(Array.from(got.map.data)).toEqual(Array.from(expected.map.data));
      expect(got.map.data.some((v) => v > 0)).toBe(true);
      targets.add(got.target.index);
    }
    // The photos' top classes differ, so a seed stuck on one class would not pass.
    expect(targets.size).toBeGreaterThan(1);
  });

  it('a class given by index or label also takes one pass, with the same map as two', async () => {
    const image = photo(2);
    for (const target of [0, 2]) {
      const expected = await twoPasses(model, image, target);
      const before = counter.runs();
      const got = await explain({ model, image, method: 'grad-cam', target: spec.labels[target] });
      expect(counter.runs() - before).toBe(1);
      expect(got.target.index).toBe(target);
      expect(Array.from(got.map.data)).toEqual(Array.from(expected.map.data));
    }
  });

  it('equal top scores: the first class, seeded alone (a seed of both would double the weights)', async () => {
    const image = photo(0);
    const x = await prepare({ model: tied, image });
    expect(x.scores.data[1]).toBe(x.scores.data[2]);
    expect(x.scores.data[1]).toBeGreaterThan(x.scores.data[0]);
    const top = await tied.layer('feat', x.input, 'top');
    const first = await tied.layer('feat', x.input, oneHot(1, CLASSES, 1));
    expect(top.seeded).toEqual([1]);
    expect(Array.from(top.gradients!.data)).toEqual(Array.from(first.gradients!.data));
    const got = await explain({ model: tied, image, method: 'grad-cam' });
    expect(got.target.index).toBe(1);
    expect(Array.from(got.map.data)).toEqual(Array.from((await twoPasses(tied, image)).map.data));
  });

  it('a batch seeds each image with its own top class', async () => {
    const a = await prepare({ model, image: photo(0) });
    const b = await prepare({ model, image: photo(3) });
    const batch = { data: Float32Array.of(...a.input.data, ...b.input.data), dims: [2, 3, SIZE, SIZE] };
    const top = await model.layer('feat', batch, 'top');
    expect(top.seeded).toEqual([a.target.index, b.target.index]);
    const seed = new Float32Array(2 * CLASSES);
    seed[a.target.index] = 1;
    seed[CLASSES + b.target.index] = 1;
    const explicit = await model.layer('feat', batch, { data: seed, dims: [2, CLASSES] });
    expect(Array.from(top.gradients!.data)).toEqual(Array.from(explicit.gradients!.data));
  });

  it('methods whose pass cannot give the scores still get a forward pass first', async () => {
    const before = counter.runs();
    await explain({ model, image: photo(4), method: 'eigen-cam' });
    // eigen-cam reads activations only: a forward pass for the scores, then its own layer pass.
    expect(counter.runs() - before).toBeGreaterThanOrEqual(2);
  });

  it('a method pass that fails leaves prepare its forward pass, and the method its own error', async () => {
    const broken = new Proxy(model, {
      get(target, key) {
        if (key === 'layer') return () => Promise.reject(new SightlineError('MODEL_SHAPE', 'no layer today'));
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const before = counter.runs();
    const prepared = await prepare({ model: broken, image: photo(0), forMethod: { method: 'grad-cam' } });
    expect(counter.runs() - before).toBe(1);
    expect(prepared.pass).toBeUndefined();
    expect(prepared.target).toEqual((await prepare({ model, image: photo(0) })).target);
    await expect(explainPrepared(broken, prepared, { method: 'grad-cam' })).rejects.toThrow('no layer today');
  });

  it('the audit runs the model once per image', async () => {
    const rows: AuditRow[] = [];
    const before = counter.runs();
    await auditImages(
      [0, 1, 2, 3].map((p) => ({ file: `${p}.png`, load: async () => photo(p) })),
      {
        model,
        method: 'grad-cam',
        onRow: async (row) => {
          rows.push(row);
        },
      },
    );
    expect(counter.runs() - before).toBe(4);
    for (const [p, row] of rows.entries()) {
      expect(row.status).toBe('ok');
      const expected = await twoPasses(model, photo(p));
      expect(row.target?.index).toBe(expected.target.index);
      expect(row.predictions).toEqual(expected.predictions);
    }
  });
});
