/**
 * Static shape knowledge for the backward rules. Rather than re-implement ONNX shape inference for every
 * op, we run the forward model once in ONNX Runtime with every intermediate tensor exposed as an output,
 * at batch sizes 1 and 2: a dimension that differs between the two runs follows the batch (and stays
 * symbolic in the rules' output), every other dimension is fixed. The same runs give the values of the
 * tensors that do not depend on the input (weights computed by the graph, shape arithmetic), which rules
 * need as constants. When no such value is needed and ORT's own shape inference agrees with the first
 * run, the second run is skipped. Callers keep the result (probeToJson) so it is made once per model.
 */
import * as ort from '#ort';
import { SightlineError } from '../../../core/errors.js';
import { stopSpinningAfterRuns } from '../open-session.js';
import { encodeExtended, type ModelProto } from '../proto.js';

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
  /** The names whose values were asked for, so a probe made once can tell whether it serves another graph. */
  readonly asked: ReadonlySet<string>;
}

/** Stored probes keep constants up to this many numbers in all (shape arithmetic, small tables), not weights. */
const STORED_VALUES = 1 << 20;

/**
 * A probe as JSON, for the gradient-graph cache: with it, a later process lists layers and builds graphs
 * without running the model. Large or non-finite constants (weights the graph computes, masks of -∞) are
 * left out, and left out of `asked` too, so a graph that needs them probes again rather than go without.
 */
export function probeToJson(probe: Probe): string {
  const values: [string, number[]][] = [];
  let total = 0;
  for (const [name, data] of probe.values) {
    if (total + data.length > STORED_VALUES || !data.every(Number.isFinite)) continue;
    total += data.length;
    values.push([name, data]);
  }
  const kept = new Set(values.map(([name]) => name));
  return JSON.stringify({
    shapes: [...probe.shapes].map(([name, s]) => [name, s.dims, s.batch]),
    values,
    // A name asked for whose value changed with the batch has no value, and needs none stored.
    asked: [...probe.asked].filter((name) => kept.has(name) || !probe.values.has(name)),
  });
}

/** The probe stored by probeToJson, or undefined when the text is not one (a damaged cache file). */
export function probeFromJson(text: string): Probe | undefined {
  try {
    const raw = JSON.parse(text) as { shapes: unknown; values: unknown; asked: unknown };
    const isDims = (v: unknown) => Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 0);
    const shapes = new Map<string, TensorShape>();
    for (const [name, dims, batch] of raw.shapes as [string, number[], boolean[]][]) {
      if (typeof name !== 'string' || !isDims(dims) || !Array.isArray(batch) || batch.length !== dims.length)
        return undefined;
      shapes.set(name, { dims, batch: batch.map(Boolean) });
    }
    const values = new Map<string, number[]>();
    for (const [name, data] of raw.values as [string, number[]][]) {
      if (typeof name !== 'string' || !Array.isArray(data) || !data.every(Number.isFinite)) return undefined;
      values.set(name, data);
    }
    const asked = new Set(raw.asked as string[]);
    if (![...asked].every((name) => typeof name === 'string')) return undefined;
    return { shapes, values, asked };
  } catch {
    return undefined;
  }
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
  const declaredOutputs = new Set((graph.output ?? []).map((v) => v.name));
  const probe = encodeExtended(model, {
    output: [...names].filter((name) => !declaredOutputs.has(name)).map((name) => ({ name })),
  });
  const session = await ort.InferenceSession.create(
    probe,
    stopSpinningAfterRuns({ graphOptimizationLevel: 'disabled' }),
  );
  const inputShape: TensorShape = {
    dims: dims.map((d) => d ?? 1),
    batch: dims.map((_, i) => i === 0 && batchIsSymbolic),
  };
  // Values are compared across two runs; Constant nodes' values the rules read from the graph itself.
  const computed = new Set<string>();
  for (const node of graph.node ?? [])
    if (node.opType !== 'Constant') for (const out of node.output ?? []) if (out) computed.add(out);
  const needValues = [...wantValues].some((name) => computed.has(name));
  try {
    const run = async (n: number) => {
      const shape = [n, ...(dims.slice(1) as number[])];
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
      return session.run({ [input]: new ort.Tensor('float32', data, shape) });
    };
    const one = await run(batchIsSymbolic ? 1 : (dims[0] as number));
    // Which axes follow the batch, from ORT's shape inference, saves the second run when every inferred
    // shape matches the run's (ORT's inference and kernels disagree on some, e.g. AveragePool's ceil_mode).
    const inferred = needValues
      ? undefined
      : inferredShapes(session, batchIsSymbolic ? declared[0].dimParam : undefined);
    if (
      inferred &&
      [...names].every((name) => {
        const a = one[name] as ort.Tensor | undefined;
        const s = inferred.get(name);
        return a && s && a.dims.length === s.dims.length && a.dims.every((d, i) => d === s.dims[i]);
      })
    ) {
      inferred.set(input, inputShape);
      return { shapes: inferred, values: new Map(), asked: new Set(wantValues) };
    }
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
    shapes.set(input, inputShape);
    return { shapes, values, asked: new Set(wantValues) };
  } finally {
    await session.release();
  }
}

/**
 * The shapes ONNX Runtime inferred when it loaded the probe graph, when it knows every one: each dimension
 * fixed or the input's own batch symbol (counted as 1, the size per image). Undefined when any dimension is
 * unknown or some other symbol.
 */
function inferredShapes(
  session: ort.InferenceSession,
  batchSymbol: string | undefined,
): Map<string, TensorShape> | undefined {
  const metadata = (session as { outputMetadata?: readonly ort.InferenceSession.ValueMetadata[] })
    .outputMetadata;
  if (!metadata || metadata.length !== session.outputNames.length) return undefined;
  const shapes = new Map<string, TensorShape>();
  for (const [i, name] of session.outputNames.entries()) {
    const m = metadata[i];
    if (!m?.isTensor) return undefined;
    const dims: number[] = [];
    const batch: boolean[] = [];
    for (const d of m.shape) {
      const fixed = typeof d === 'number' && Number.isInteger(d) && d >= 0;
      if (!fixed && (batchSymbol === undefined || d !== batchSymbol)) return undefined;
      dims.push(fixed ? d : 1);
      batch.push(!fixed);
    }
    shapes.set(name, { dims, batch });
  }
  return shapes;
}
