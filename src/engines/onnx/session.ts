/**
 * The ONNX Runtime engine (onnxruntime-node). This file and its siblings are the only places that import a
 * runtime; everything above them speaks the Model interface of core/model.ts.
 */
import * as ort from 'onnxruntime-node';
import { SightlineError, throwIfAborted } from '../../core/errors.js';
import type { Capability, Model, ModelSpec, RunOptions } from '../../core/model.js';
import type { Tensor } from '../../core/tensor.js';

export interface OnnxModelOptions {
  /** Largest batch per call; larger batches amortise overhead but cost memory. */
  readonly maxBatch?: number;
  /** Threads for one operator; defaults to the machine's cores (ORT's own default). */
  readonly intraOpThreads?: number;
}

export interface OnnxIo {
  readonly inputs: readonly { name: string; dims: readonly (number | string)[] }[];
  readonly outputs: readonly { name: string; dims: readonly (number | string)[] }[];
}

export class OnnxModel implements Model {
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['predict']);
  readonly maxBatch: number;
  private readonly outputName: string;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly spec: ModelSpec,
    maxBatch: number,
  ) {
    this.maxBatch = maxBatch;
    this.outputName = session.outputNames[0];
  }

  /** Opens a model from a file path or the bytes of an ONNX file. */
  static async create(
    source: string | Uint8Array,
    specOrResolver: ModelSpec | ((io: OnnxIo) => ModelSpec),
    options: OnnxModelOptions = {},
  ): Promise<OnnxModel> {
    let session: ort.InferenceSession;
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    };
    try {
      session =
        typeof source === 'string'
          ? await ort.InferenceSession.create(source, sessionOptions)
          : await ort.InferenceSession.create(source, sessionOptions);
    } catch (cause) {
      const where = typeof source === 'string' ? `'${source}'` : 'the given bytes';
      throw new SightlineError(
        'MODEL_LOAD',
        `ONNX Runtime could not load the model from ${where}: ${(cause as Error).message}`,
        {},
        { cause },
      );
    }
    const io = describeIo(session);
    let spec: ModelSpec;
    try {
      spec = typeof specOrResolver === 'function' ? specOrResolver(io) : specOrResolver;
    } catch (error) {
      await session.release();
      throw error;
    }
    if (!session.inputNames.includes(spec.inputName)) {
      await session.release();
      throw new SightlineError(
        'MODEL_SHAPE',
        `The model has no input named '${spec.inputName}'; its inputs are ${session.inputNames.map((n) => `'${n}'`).join(', ')}.`,
      );
    }
    if (io.outputs.length < 1) {
      await session.release();
      throw new SightlineError('MODEL_SHAPE', 'The model has no outputs; expected one [N, K] score output.');
    }
    return new OnnxModel(session, spec, options.maxBatch ?? 16);
  }

  get io(): OnnxIo {
    return describeIo(this.session);
  }

  async predict(batch: Tensor, options: RunOptions = {}): Promise<Tensor> {
    throwIfAborted(options.signal);
    const n = batch.dims[0];
    if (n > this.maxBatch) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `A batch of ${n} exceeds this model's maxBatch of ${this.maxBatch}; split it (core/batch.ts does).`,
      );
    }
    const feeds = { [this.spec.inputName]: new ort.Tensor('float32', batch.data, batch.dims as number[]) };
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.session.run(feeds, [this.outputName]);
    } catch (cause) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `The model rejected an input of shape [${batch.dims.join(', ')}]: ${(cause as Error).message}`,
        { dims: batch.dims },
        { cause },
      );
    }
    const out = result[this.outputName] as ort.Tensor;
    const dims = out.dims.length === 1 ? [1, out.dims[0]] : [...out.dims];
    const k = dims.slice(1).reduce((a, b) => a * b, 1);
    if (dims[0] !== n || out.type !== 'float32') {
      throw new SightlineError(
        'MODEL_OUTPUT',
        `Expected the model's output '${this.outputName}' to be float32 [${n}, K]; got ${out.type} [${out.dims.join(', ')}].`,
      );
    }
    const data = out.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new SightlineError(
          'MODEL_OUTPUT',
          `The model's output '${this.outputName}' contains ${data[i]} at position ${i}; scores must be finite.`,
        );
      }
    }
    return { data, dims: [n, k] };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function describeIo(session: ort.InferenceSession): OnnxIo {
  const meta = (names: readonly string[], metadata: readonly ort.InferenceSession.ValueMetadata[]) =>
    names.map((name, i) => {
      const m = metadata[i];
      return { name, dims: m?.isTensor ? [...m.shape] : [] };
    });
  return {
    inputs: meta(session.inputNames, session.inputMetadata),
    outputs: meta(session.outputNames, session.outputMetadata),
  };
}
