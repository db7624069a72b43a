/**
 * The predict-only TF.js engine, for Graph models and Layers models the ONNX converter cannot express: the
 * model runs on TF.js (WebAssembly backend, else CPU) and offers scores only, so black-box methods work and gradient methods
 * say what they miss. This is the only file that loads TF.js, and only when such a model is opened: TF.js is an
 * optional peer dependency (about 140 MB that no other model needs), so an install without it runs everything
 * else and says what to install when a model needs it.
 */

import type { GraphModel } from '@tensorflow/tfjs-converter';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { SightlineError, throwIfAborted } from '../../core/errors.js';
import type { Capability, Model, ModelSpec, RunOptions } from '../../core/model.js';
import type { Tensor } from '../../core/tensor.js';
import type { OnnxIo } from '../onnx/session.js';
import { isGraphModel, type TfjsArtifacts } from './artifacts.js';

/**
 * What to install for this engine: package.json's optional peerDependencies, by major version (a test keeps the
 * two lists equal). The WebAssembly backend is optional at run time too (the CPU backend does the same work,
 * slower), but worth installing.
 */
export const TFJS_PACKAGES = [
  '@tensorflow/tfjs-core@4',
  '@tensorflow/tfjs-converter@4',
  '@tensorflow/tfjs-layers@4',
  '@tensorflow/tfjs-backend-cpu@4',
  '@tensorflow/tfjs-backend-wasm@4',
] as const;

/** The parts of TF.js this engine calls. */
interface TfjsLibrary {
  readonly tf: typeof TfCore;
  readonly loadGraphModel: typeof import('@tensorflow/tfjs-converter').loadGraphModel;
  readonly loadLayersModel: typeof import('@tensorflow/tfjs-layers').loadLayersModel;
}

/** What the loaded model says about itself, for the caller to build its spec from. */
export interface TfjsFacts {
  readonly kind: 'graph' | 'layers';
  /** Dimensions with -1 (or a name) for free ones, as ONNX's io lists them. */
  readonly io: OnnxIo;
  /** Whether the model ends in a softmax. */
  readonly outputs: ModelSpec['outputs'];
  /** The input's dtype; an int32 input takes whole pixel values. */
  readonly inputDtype: string;
}

export interface TfjsModelOptions {
  readonly maxBatch?: number;
  /** What the user should know about this model (shown once by the CLI), e.g. why gradients are missing. */
  readonly notes?: readonly string[];
}

let library: Promise<TfjsLibrary> | undefined;

/**
 * Imports TF.js and starts its backend, once: the WebAssembly backend (SIMD; its .wasm files ship in the npm
 * package), about 12× faster than the pure-JS CPU backend here (a 224² MobileNet-style model, batch 8: 164 ms
 * against 1.9 s); the CPU backend when WebAssembly cannot start. Production mode silences TF.js' console banners
 * and skips debug checks. A failed import is not remembered, so a long-running process finds TF.js once it
 * is installed.
 */
function loadTfjs(): Promise<TfjsLibrary> {
  library ??= start().catch((error: unknown) => {
    library = undefined;
    throw error;
  });
  return library;
}

async function start(): Promise<TfjsLibrary> {
  const [tf, converter, layers] = await Promise.all([
    import('@tensorflow/tfjs-core'),
    import('@tensorflow/tfjs-converter'),
    import('@tensorflow/tfjs-layers'),
    import('@tensorflow/tfjs-backend-cpu'),
  ]);
  tf.enableProdMode();
  let wasm = false;
  // Emscripten's loader adds process handlers that rethrow every uncaught exception and unhandled rejection
  // (printing its minified source with them); the host program's error handling is not its business.
  type Listener = (...args: never[]) => unknown;
  const host = process as unknown as {
    listeners(event: string): Listener[];
    off(event: string, listener: Listener): void;
  };
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((e) => new Set(host.listeners(e)));
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    wasm = await tf.setBackend('wasm');
  } catch {
    wasm = false; // no WebAssembly here, or the backend not installed: the CPU backend does the same work, slower
  } finally {
    events.forEach((event, i) => {
      for (const listener of host.listeners(event)) if (!before[i].has(listener)) host.off(event, listener);
    });
  }
  if (!wasm) await tf.setBackend('cpu');
  await tf.ready();
  return { tf, loadGraphModel: converter.loadGraphModel, loadLayersModel: layers.loadLayersModel };
}

/** A package that is not installed becomes a MODEL_LOAD error saying what to install; anything else stays. */
function missingTfjs(kind: string, cause: unknown): unknown {
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  const missing =
    typeof message === 'string' ? /Cannot find (?:package|module) '([^']+)'/.exec(message) : null;
  if (code !== 'ERR_MODULE_NOT_FOUND' || !missing) return cause;
  return new SightlineError(
    'MODEL_LOAD',
    `This ${kind} runs only on TF.js, which is not installed (${missing[1]} is missing); Sightline leaves it out of its own install because no other model needs it. Install it beside Sightline with \`npm install ${TFJS_PACKAGES.join(' ')}\`.`,
    { missing: missing[1] },
    { cause },
  );
}

/** A model using an op the WebAssembly backend lacks runs on the CPU backend, which has them all. */
function missingKernel(tf: typeof TfCore, error: unknown): boolean {
  return (
    tf.getBackend() !== 'cpu' && /not registered for (the )?backend/i.test((error as Error)?.message ?? '')
  );
}

export class TfjsModel implements Model {
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['predict']);
  readonly maxBatch: number;
  readonly notes: readonly string[];
  private graphNeedsAsync = false;

  private constructor(
    private readonly tfjs: TfjsLibrary,
    private readonly graph: GraphModel | undefined,
    private readonly layersModel: LayersModel | undefined,
    readonly spec: ModelSpec,
    readonly facts: TfjsFacts,
    options: TfjsModelOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 8;
    this.notes = options.notes ?? [];
  }

  /** Loads a TF.js model (Graph or Layers) from its artifacts; `resolveSpec` turns its facts into a spec. */
  static async create(
    artifacts: TfjsArtifacts,
    resolveSpec: (facts: TfjsFacts) => ModelSpec,
    options: TfjsModelOptions = {},
  ): Promise<TfjsModel> {
    const isGraph = isGraphModel(artifacts.modelJson);
    let tfjs: TfjsLibrary;
    try {
      tfjs = await loadTfjs();
    } catch (error) {
      const kind = isGraph
        ? 'TF.js Graph model'
        : 'TF.js Layers model (with a layer that does not convert to ONNX)';
      throw missingTfjs(kind, error);
    }
    const handler = tfjs.tf.io.fromMemory(memoryArtifacts(artifacts));
    let graph: GraphModel | undefined;
    let layers: LayersModel | undefined;
    try {
      if (isGraph) graph = await tfjs.loadGraphModel(handler);
      else layers = await tfjs.loadLayersModel(handler);
    } catch (cause) {
      throw new SightlineError(
        'MODEL_LOAD',
        `TF.js could not load the model: ${(cause as Error).message}`,
        {},
        { cause },
      );
    }
    const facts = graph ? graphFacts(graph, artifacts) : layersFacts(layers!);
    let spec: ModelSpec;
    try {
      spec = resolveSpec(facts);
    } catch (error) {
      (graph ?? layers)?.dispose();
      throw error;
    }
    return new TfjsModel(tfjs, graph, layers, spec, facts, options);
  }

  async predict(batch: Tensor, options: RunOptions = {}): Promise<Tensor> {
    try {
      return await this.run(batch, options);
    } catch (error) {
      if (!missingKernel(this.tfjs.tf, error)) throw error;
      await this.tfjs.tf.setBackend('cpu');
      return this.run(batch, options);
    }
  }

  private async run(batch: Tensor, options: RunOptions): Promise<Tensor> {
    throwIfAborted(options.signal);
    const { tf } = this.tfjs;
    const n = batch.dims[0];
    const x = tf.tidy(() => {
      const t = tf.tensor(batch.data, [...batch.dims], 'float32');
      return this.facts.inputDtype === 'int32' ? tf.cast(tf.round(t), 'int32') : t;
    });
    let y: TfCore.Tensor | undefined;
    try {
      const out = this.graph
        ? await this.runGraph(this.graph, x)
        : (this.layersModel!.predict(x) as TfCore.Tensor | TfCore.Tensor[]);
      const outputs = Array.isArray(out) ? out : [out];
      y = outputs[0];
      for (const extra of outputs.slice(1)) extra.dispose();
      const values = await y.data();
      const k = values.length / n;
      if (!Number.isInteger(k) || k < 1) {
        throw new SightlineError(
          'MODEL_OUTPUT',
          `The TF.js model returned ${values.length} numbers for a batch of ${n}; expected [N, K] scores.`,
        );
      }
      return { data: Float32Array.from(values as ArrayLike<number>), dims: [n, k] };
    } finally {
      x.dispose();
      y?.dispose();
    }
  }

  /**
   * execute() where the graph allows it; executeAsync() for graphs with control flow or dynamic shapes, which
   * execute() refuses (executeAsync on a plain graph works too, but prints a console warning each call).
   */
  private async runGraph(graph: GraphModel, x: TfCore.Tensor): Promise<TfCore.Tensor | TfCore.Tensor[]> {
    if (!this.graphNeedsAsync) {
      try {
        return graph.execute(x);
      } catch (error) {
        if (!/executeAsync/.test((error as Error).message)) throw error;
        this.graphNeedsAsync = true;
      }
    }
    return graph.executeAsync(x);
  }

  async dispose(): Promise<void> {
    this.graph?.dispose();
    this.layersModel?.dispose();
  }
}

/** One ModelArtifacts object for TfCore.io.fromMemory: the manifest flattened, the groups' bytes concatenated. */
function memoryArtifacts(artifacts: TfjsArtifacts): TfCore.io.ModelArtifacts {
  const { modelJson, groups } = artifacts;
  const total = groups.reduce((a, g) => a + g.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const g of groups) {
    weightData.set(g, offset);
    offset += g.byteLength;
  }
  return {
    modelTopology: modelJson.modelTopology as TfCore.io.ModelArtifacts['modelTopology'],
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy ?? undefined,
    signature: modelJson.signature as TfCore.io.ModelArtifacts['signature'],
    userDefinedMetadata: modelJson.userDefinedMetadata as TfCore.io.ModelArtifacts['userDefinedMetadata'],
    modelInitializer: modelJson.modelInitializer as TfCore.io.ModelArtifacts['modelInitializer'],
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights) as TfCore.io.WeightsManifestEntry[],
    weightData: weightData.buffer,
  };
}

function dims(shape: readonly (number | null)[] | undefined): (number | string)[] {
  return (shape ?? []).map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? 'N' : '?'));
}

function graphFacts(model: GraphModel, artifacts: TfjsArtifacts): TfjsFacts {
  const inputs = model.inputs;
  const outputs = model.outputs;
  return {
    kind: 'graph',
    io: {
      inputs: inputs.map((t) => ({ name: t.name, dims: dims(t.shape) })),
      outputs: outputs.map((t) => ({ name: t.name, dims: dims(t.shape) })),
    },
    outputs: graphEndsInSoftmax(artifacts.modelJson.modelTopology, outputs[0]?.name)
      ? 'probabilities'
      : 'logits',
    inputDtype: inputs[0]?.dtype ?? 'float32',
  };
}

/** Follows Identity nodes back from the output to see whether its producer is a Softmax. */
function graphEndsInSoftmax(topology: unknown, output: string | undefined): boolean {
  const nodes = (topology as { node?: { name?: string; op?: string; input?: string[] }[] }).node ?? [];
  const byName = new Map(nodes.map((n) => [n.name, n]));
  let node = byName.get(output?.replace(/:\d+$/, ''));
  for (let hops = 0; node?.op === 'Identity' && hops < 16; hops++) {
    node = byName.get(node.input?.[0]?.replace(/^\^/, '').replace(/:\d+$/, ''));
  }
  return node?.op === 'Softmax';
}

function layersFacts(model: LayersModel): TfjsFacts {
  return {
    kind: 'layers',
    io: {
      inputs: model.inputs.map((t) => ({ name: t.name, dims: dims(t.shape) })),
      outputs: model.outputs.map((t) => ({ name: t.name, dims: dims(t.shape) })),
    },
    outputs: endsInSoftmax(model) ? 'probabilities' : 'logits',
    inputDtype: model.inputs[0]?.dtype ?? 'float32',
  };
}

/** Whether the last layer (descending into nested models) is a softmax, as an activation or a layer. */
function endsInSoftmax(layer: { getClassName(): string; getConfig(): Record<string, unknown> }): boolean {
  const nested = (layer as { layers?: (typeof layer)[] }).layers;
  if (Array.isArray(nested) && nested.length > 0) return endsInSoftmax(nested[nested.length - 1]);
  if (layer.getClassName() === 'Softmax') return true;
  return layer.getConfig().activation === 'softmax';
}
