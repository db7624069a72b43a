/**
 * ONNX Runtime sessions on their own thread (engines/onnx/session-thread.ts): the same numbers and the same
 * errors as sessions on the calling thread, and the calling thread free while a model runs (onnxruntime-node's
 * own `run` holds it for the whole pass).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { openInThisThread, type SessionOpener } from '../../src/engines/onnx/open-session.js';
import { buildModel, encodeModel, floatTensor, valueInfo } from '../../src/engines/onnx/proto.js';
import type { OnnxModel } from '../../src/engines/onnx/session.js';
import { openOnSessionThread } from '../../src/engines/onnx/session-thread.js';
import { readNpy } from '../../src/io/npy-file.js';
import { openOnnxModel } from '../../src/models/open.js';

const golden = (name: string) => fileURLToPath(new URL(`../fixtures/golden/${name}`, import.meta.url));
const HINTS = { inputName: 'input', width: 16, height: 16, layout: 'NCHW' as const };

describe('sessions on the session thread', () => {
  let threaded: OnnxModel;
  let local: OnnxModel;
  beforeAll(async () => {
    const bytes = new Uint8Array(readFileSync(golden('net_tiny_cnn.onnx')));
    threaded = await openOnnxModel(bytes, HINTS, { openSession: openOnSessionThread });
    local = await openOnnxModel(bytes, HINTS);
  });
  afterAll(async () => {
    await threaded?.dispose();
    await local?.dispose();
  });

  it("give the scores and input gradients of the calling thread's sessions, and PyTorch's", async () => {
    const x = await readNpy(golden('net_tiny_cnn.input.npy'));
    const seed = await readNpy(golden('net_tiny_cnn.seed.npy'));
    const input = { data: x.data as Float32Array, dims: x.shape };
    const s = { data: seed.data as Float32Array, dims: seed.shape };
    const [a, b] = [await threaded.inputGradients(input, s), await local.inputGradients(input, s)];
    expect(a.scores.data).toEqual(b.scores.data);
    expect(a.gradients.data).toEqual(b.gradients.data);
    expect(a.gradients.dims).toEqual([2, 3, 16, 16]);
    const torch = await readNpy(golden('net_tiny_cnn.grad.npy'));
    let worst = 0;
    for (let i = 0; i < torch.data.length; i++)
      worst = Math.max(worst, Math.abs(a.gradients.data[i] - torch.data[i]));
    expect(worst).toBeLessThan(1e-4);
    const out = await readNpy(golden('net_tiny_cnn.output.npy'));
    expect((await threaded.predict(input)).data).toEqual((await local.predict(input)).data);
    expect(Math.abs(a.scores.data[3] - out.data[3])).toBeLessThan(1e-4);
  });

  it("read a layer's activations and gradients as the calling thread's do", async () => {
    const x = await readNpy(golden('net_tiny_cnn.input.npy'));
    const input = { data: x.data as Float32Array, dims: x.shape };
    const seed = { data: new Float32Array([0, 1, 0, 0, 0, 0, 0, 0, 1, 0]), dims: [2, 5] };
    const { defaultLayer } = await threaded.layers();
    const [a, b] = [
      await threaded.layer(defaultLayer, input, seed),
      await local.layer(defaultLayer, input, seed),
    ];
    expect(a.activations.dims).toEqual(b.activations.dims);
    expect(a.activations.data).toEqual(b.activations.data);
    expect(a.gradients?.data).toEqual(b.gradients?.data);
  });

  it("refuse an input of the wrong shape with the calling thread's message", async () => {
    const wrong = { data: new Float32Array(3 * 8 * 8), dims: [1, 3, 8, 8] };
    const errors = await Promise.all(
      [threaded, local].map((m) =>
        m.predict(wrong).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const e of errors) expect(e).toBeInstanceOf(SightlineError);
    expect((errors[0] as SightlineError).code).toBe('MODEL_SHAPE');
    expect((errors[0] as Error).message).toBe((errors[1] as Error).message);
    expect((errors[0] as Error).message).toMatch(/rejected an input of shape \[1, 3, 8, 8\]/);
  });

  it("refuse a model ONNX Runtime cannot load with the calling thread's message", async () => {
    // Valid protobuf whose only node is an operator no ONNX domain has.
    const bytes = encodeModel(
      buildModel({
        inputs: [valueInfo('input', ['N', 3, 4, 4])],
        outputs: [valueInfo('y', ['N', 3, 4, 4])],
        nodes: [{ opType: 'NoSuchOperator', input: ['input'], output: ['y'] }],
      }),
    );
    const errors = await Promise.all(
      [openOnSessionThread, undefined].map((openSession) =>
        openOnnxModel(bytes, { ...HINTS, width: 4, height: 4 }, { openSession }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    expect((errors[0] as SightlineError).code).toBe('MODEL_LOAD');
    expect((errors[0] as Error).message).toBe((errors[1] as Error).message);
    expect((errors[0] as Error).message).toMatch(/NoSuchOperator/);
  });
});

/**
 * A model slow enough to watch on a busy machine (a chain of 12 products by a 512 × 512 identity, 3 GFLOP a
 * run, tens of milliseconds on one thread), so the calling thread gets many turns even when it is preempted.
 */
function slowModel(): Uint8Array {
  const n = 512;
  const links = 12;
  const w = new Float32Array(n * n);
  for (let i = 0; i < n; i++) w[i * n + i] = 1;
  return encodeModel(
    buildModel({
      inputs: [valueInfo('x', [n, n])],
      outputs: [valueInfo(`y${links}`, [n, n])],
      initializers: [floatTensor('w', [n, n], w)],
      nodes: Array.from({ length: links }, (_, i) => ({
        opType: 'MatMul',
        input: [i === 0 ? 'x' : `y${i}`, 'w'],
        output: [`y${i + 1}`],
      })),
    }),
  );
}

/** Turns of the event loop while one run is in flight. */
async function turnsDuringRun(open: SessionOpener): Promise<number> {
  const session = await open(slowModel(), { intraOpNumThreads: 1 });
  try {
    const x = new ort.Tensor('float32', new Float32Array(512 * 512).fill(0.5), [512, 512]);
    await session.run({ x }, ['y12']);
    let done = false;
    const run = session.run({ x }, ['y12']).then((out) => {
      done = true;
      return out;
    });
    let turns = 0;
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
    // The identity chain gives the input back.
    expect((await run).y12.data[0]).toBe(0.5);
    return turns;
  } finally {
    await session.release();
  }
}

describe('the calling thread while a model runs', () => {
  it('is held for the whole pass by a session of its own, and free with one on the session thread', async () => {
    expect(await turnsDuringRun(openInThisThread)).toBeLessThanOrEqual(2);
    expect(await turnsDuringRun(openOnSessionThread)).toBeGreaterThan(20);
  });
});
