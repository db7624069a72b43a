/**
 * Static shape knowledge for the backward rules. Rather than re-implement ONNX shape inference for every
 * op, we run the forward model once in ONNX Runtime with every intermediate tensor exposed as an output,
 * at batch sizes 1 and 2: a dimension that differs between the two runs follows the batch (and stays
 * symbolic in the rules' output), every other dimension is fixed. The same runs give the values of the
 * tensors that do not depend on the input (weights computed by the graph, shape arithmetic), which rules
 * need as constants.
 */
import * as ort from '#ort';
import { SightlineError } from '../../../core/errors.js';
import { encodeModel, type ModelProto } from '../proto.js';

export interface TensorShape {
  /** The dimensions at batch size 1. */
  readonly dims: readonly number[];
  /** Where a dimension grows with the batch (dims[i] is then its size per image). */
  readonly batch: readonly boolean[];
}

export interface Probe {
  readonly shapes: ReadonlyMap<string, TensorShape>;
  /** Values of the requested constant tensors; absent when a value changed with the batch size. */
  readonly values: ReadonlyMap<string, number[]>;
}

export async function probeModel(
  model: ModelProto,
  input: string,
  wantValues: ReadonlySet<string>,
): Promise<Probe> {
  const graph = model.graph ?? {};
  const declared = graph.input?.find((v) => v.name === input)?.type?.tensorType?.shape?.dim ?? [];
  const dims = declared.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : undefined));
  const batchIsSymbolic = dims.length > 0 && dims[0] === undefined;
  if (dims.slice(1).some((d) => d === undefined) || dims.length === 0) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `Gradients need the input '${input}' to have fixed dimensions after the batch; got [${declared.map((d) => d.dimValue ?? d.dimParam ?? '?').join(', ')}].`,
      { input },
    );
  }
  const names = new Set<string>();
  for (const node of graph.node ?? []) for (const out of node.output ?? []) if (out) names.add(out);
  const probe: ModelProto = {
    ...model,
    graph: { ...graph, output: [...names].map((name) => ({ name })) },
  };
  const session = await ort.InferenceSession.create(encodeModel(probe), {
    graphOptimizationLevel: 'disabled',
  });
  try {
    const run = async (n: number) => {
      const shape = [n, ...(dims.slice(1) as number[])];
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
      return session.run({ [input]: new ort.Tensor('float32', data, shape) });
    };
    const one = await run(batchIsSymbolic ? 1 : (dims[0] as number));
    // A graph that only runs at batch 1 (say, concatenating a batch-1 constant) has no batch axis to track.
    const two = batchIsSymbolic ? await run(2).catch(() => one) : one;
    const shapes = new Map<string, TensorShape>();
    const values = new Map<string, number[]>();
    for (const name of names) {
      const a = one[name] as ort.Tensor | undefined;
      const b = two[name] as ort.Tensor | undefined;
      if (!a || !b) continue;
      shapes.set(name, { dims: [...a.dims], batch: a.dims.map((d, i) => b.dims[i] !== d) });
      if (wantValues.has(name)) {
        const va = Array.from(a.data as ArrayLike<number | bigint>, Number);
        const vb = Array.from(b.data as ArrayLike<number | bigint>, Number);
        if (va.length === vb.length && va.every((v, i) => Object.is(v, vb[i]))) values.set(name, va);
      }
    }
    shapes.set(input, {
      dims: dims.map((d) => d ?? 1),
      batch: dims.map((_, i) => i === 0 && batchIsSymbolic),
    });
    return { shapes, values };
  } finally {
    await session.release();
  }
}
