/**
 * The ONNX Runtime engine. `#ort` (package.json "imports") is onnxruntime-node in Node and onnxruntime-web
 * in a browser bundle; both implement onnxruntime-common's API, so this file serves both. This file and its
 * siblings are the only places that import a runtime; everything above them speaks core/model.ts.
 *
 * Gradients come from our autodiff transform (autodiff/): on first use the model is rewritten to take an
 * output seed and return input (or layer) gradients, and that graph gets its own session, so forward and
 * backward run in one native, batched call.
 */
import * as ort from '#ort';
import { SightlineError, throwIfAborted } from '../../core/errors.js';
import type {
  AttentionResult,
  BiasGradientResult,
  Capability,
  GradientOptions,
  GradientResult,
  LayerInfo,
  LayerResult,
  LayerSeed,
  Model,
  ModelOutput,
  ModelSpec,
  RunOptions,
  WeightLayer,
  WeightReplacer,
} from '../../core/model.js';
import type { OutputTarget } from '../../core/targets.js';
import type { Tensor } from '../../core/tensor.js';
import { ABLATION_SCALE, ChannelAblation, channelScaleFeed } from './ablation.js';
import { attentionBlocks, hasAttention, toHeads } from './attention.js';
import { differentiablePath, type Probe } from './autodiff/index.js';
import { biasGradientsOf, biasTerms } from './biases.js';
import {
  type GradientGraphEntry,
  type GraphMeta,
  type GraphRequest,
  type GraphSource,
  gradientGraphEntry,
  requestKey,
  storedGradientGraph,
  storedProbe,
  whyNoGradients,
  withFixedInput,
} from './graph-store.js';
import { findLayer, type LayerPlan, planLayers, toNchw, topSeed } from './layers.js';
import { LazySession } from './lazy-session.js';
import {
  describeIo,
  type OnnxIo,
  type OrtSession,
  openInThisThread,
  type SessionOpener,
} from './open-session.js';
import { namedOutputs, scoresOf, seedShapedAs } from './outputs.js';
import { decodeModel, encodeModel, type ModelProto, sourceBytesOf } from './proto.js';
import { appendTargetHead } from './target-head.js';
import { WeightFeeds } from './weight-feeds.js';
import {
  gradientGraphWith,
  replaceWeights,
  weightLayersOf,
  weightValuesOf,
  withInitializers,
} from './weights.js';

export type { OnnxIo };

export interface OnnxModelOptions {
  /** Largest batch per call; larger batches amortise overhead but cost memory. */
  readonly maxBatch?: number;
  /** Threads for one operator; defaults to the machine's cores (ORT's own default). */
  readonly intraOpThreads?: number;
  /** ONNX Runtime execution providers in order of preference (onnxruntime-web: 'webgpu', 'wasm'); default CPU/wasm. */
  readonly executionProviders?: readonly string[];
  /** Where gradient graphs are kept between processes; without it they are rebuilt on first use. */
  readonly gradientCache?: GradientGraphCache;
  /** Opens ONNX Runtime sessions (default: in this thread; Node's loaders pass session-thread.ts's). */
  readonly openSession?: SessionOpener;
}

/** Stores the (costly) gradient-augmented graphs; `key` names the graph's options and the transform's version. */
export interface GradientGraphCache {
  load(
    key: string,
    make: () => Promise<{ model: Uint8Array; meta: string }>,
  ): Promise<{ model: Uint8Array; meta: string }>;
}

interface GradientSession extends GraphMeta {
  readonly session: OrtSession;
}

export class OnnxModel implements Model {
  readonly capabilities: ReadonlySet<Capability>;
  readonly maxBatch: number;
  private readonly outputName: string;
  private readonly gradientSessions = new Map<string, Promise<GradientSession>>();
  private layerList?: Promise<LayerPlan>;
  private probed?: Promise<Probe>;
  /** For a model withWeights made: the model whose graphs it runs, and the weights swapped in them. */
  private reweighted?: { readonly base: OnnxModel; readonly values: ReadonlyMap<string, Float32Array> };
  /** A withWeights model's weights fed at run time, and (on a base) the feeds its latest such model uses. */
  private fed?: { readonly feeds: WeightFeeds; readonly tensors: Record<string, Tensor> };
  private feeds?: WeightFeeds;
  private readonly sharedGraphs = new Map<string, Promise<GradientGraphEntry>>();
  private readonly ablation = new ChannelAblation((bytes) => openSession(bytes, this.options));

  private constructor(
    private readonly session: OrtSession,
    /** The spec; its outputShape is filled from the first prediction when the file leaves dims open. */
    private specValue: ModelSpec,
    /** The decoded ONNX model (read-only). */
    readonly proto: ModelProto,
    /** Why gradients are unavailable, when they are. */
    private readonly gradientBlocker: string | undefined,
    private readonly options: OnnxModelOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 16;
    this.outputName = session.outputNames[0];
    const gradients: Capability[] = ['inputGradients', 'layers', 'backwardRules', 'biasGradients'];
    // Only transformers get 'attention', so menus and checks offer rollout where it can run (attention.ts).
    if (!gradientBlocker && hasAttention(proto, specValue.inputName, this.outputName))
      gradients.push('attention');
    const always: Capability[] = ['predict', 'outputs', 'weights'];
    this.capabilities = new Set<Capability>([...always, ...(gradientBlocker ? [] : gradients)]);
  }

  /** Opens a model from the bytes of an ONNX file (models/load.ts reads files). */
  static async create(
    bytes: Uint8Array,
    specOrResolver: ModelSpec | ((io: OnnxIo) => ModelSpec),
    options: OnnxModelOptions = {},
  ): Promise<OnnxModel> {
    let proto: ModelProto;
    let session: OrtSession;
    try {
      proto = decodeModel(bytes);
      session = await openSession(bytes, options);
    } catch (cause) {
      throw new SightlineError(
        'MODEL_LOAD',
        `ONNX Runtime could not load the model: ${(cause as Error).message}`,
        {},
        { cause },
      );
    }
    const io = describeIo(session);
    let spec: ModelSpec;
    try {
      spec = typeof specOrResolver === 'function' ? specOrResolver(io) : specOrResolver;
      if (!session.inputNames.includes(spec.inputName)) {
        throw new SightlineError(
          'MODEL_SHAPE',
          `The model has no input named '${spec.inputName}'; its inputs are ${session.inputNames.map((n) => `'${n}'`).join(', ')}.`,
        );
      }
      if (io.outputs.length < 1)
        throw new SightlineError(
          'MODEL_SHAPE',
          'The model has no outputs; expected one [N, K] score output.',
        );
    } catch (error) {
      await session.release();
      throw error;
    }
    const blocker = whyNoGradients(proto, spec.inputName, session.outputNames[0]);
    return new OnnxModel(session, spec, proto, blocker, options);
  }

  get spec(): ModelSpec {
    return this.specValue;
  }

  get io(): OnnxIo {
    return describeIo(this.session);
  }

  async predict(batch: Tensor, options: RunOptions = {}): Promise<Tensor> {
    const result = await this.run(this.session, batch, {}, [this.outputName], options);
    return this.scores(result[this.outputName], batch.dims[0]);
  }

  /** Capability 'outputs': every output, converted to float32 (outputs.ts). */
  async outputs(batch: Tensor, options: RunOptions = {}): Promise<ModelOutput[]> {
    const names = [...this.session.outputNames];
    return namedOutputs(names, await this.run(this.session, batch, {}, names, options));
  }

  async inputGradients(batch: Tensor, seed: Tensor, options: GradientOptions = {}): Promise<GradientResult> {
    const g = await this.gradientSession({ layers: [], rules: options.rules });
    const name = g.inputGradientName!;
    const result = await this.run(
      g.session,
      batch,
      { [g.seedName]: this.outputSeed(seed) },
      [this.outputName, name],
      options,
    );
    return { scores: this.scores(result[this.outputName], batch.dims[0]), gradients: toTensor(result[name]) };
  }

  /** Feature maps, token sequences and channels-last maps in graph order, and the default (layers.ts). */
  async layers(): Promise<{ layers: LayerInfo[]; defaultLayer: string }> {
    const { layers, defaultLayer } = await this.layerPlan();
    return { layers, defaultLayer };
  }

  private layerPlan(): Promise<LayerPlan> {
    this.requireGradients('layers');
    this.layerList ??= (async () => {
      const model = withFixedInput(this.proto, this.spec);
      const path = differentiablePath(model, this.spec.inputName, [this.outputName]);
      const probe = await this.probe();
      return planLayers(path, probe.shapes, this.spec.inputName, this.spec.layout);
    })();
    return this.layerList;
  }

  private graphSource(): GraphSource {
    const { proto, spec, outputName } = this;
    return { proto, spec, outputName, cache: this.options.gradientCache };
  }

  /**
   * The forward model's shapes and constants (autodiff/shapes.ts), probed once per model and kept with its
   * gradient graphs, so a later process lists layers and builds graphs without running the model.
   */
  private probe(): Promise<Probe> {
    if (this.reweighted) return this.reweighted.base.probe();
    if (!this.probed) {
      const probed = storedProbe(this.graphSource());
      // A failed probe is tried again on the next call rather than remembered.
      probed.catch(() => {
        if (this.probed === probed) this.probed = undefined;
      });
      this.probed = probed;
    }
    return this.probed;
  }

  async layer(name: string, batch: Tensor, seed: LayerSeed, options: RunOptions = {}): Promise<LayerResult> {
    const info = await this.layerInfo(name);
    const top = seed === 'top';
    if (top && this.io.outputs[0]?.dims.length !== 2) {
      // Only an [N, K] output has a graph that seeds its top class (autodiff topSeed): a forward pass picks it.
      const picked = topSeed(await this.predict(batch, options));
      return { ...(await this.layer(name, batch, picked.seed, options)), seeded: picked.seeded };
    }
    const g = await this.gradientSession({ layers: [name], topSeed: top });
    const { activation, gradient } = g.layers[0];
    const feeds: Record<string, Tensor> = {};
    if (!top) {
      // Activations alone still run the backward graph; a zero seed makes its gradients zero.
      const k = seed?.dims[1] ?? (await this.predict(batch, options)).dims[1];
      const zeros = { data: new Float32Array(batch.dims[0] * k), dims: [batch.dims[0], k] };
      feeds[g.seedName] = this.outputSeed(seed ?? zeros);
    }
    const fetches = [this.outputName, activation, gradient, ...(top ? [g.topIndexName!] : [])];
    const result = await this.run(g.session, batch, feeds, fetches, options);
    return {
      scores: this.scores(result[this.outputName], batch.dims[0]),
      activations: toNchw(info, toTensor(result[activation])),
      gradients: seed ? toNchw(info, toTensor(result[gradient])) : undefined,
      ...(top ? { seeded: Array.from(result[g.topIndexName!].data as BigInt64Array, Number) } : {}),
    };
  }

  /** Capability 'layers': the scores with `name`'s channels scaled by `scale` [N, C] (ablation.ts). */
  async ablate(name: string, batch: Tensor, scale: Tensor, options: RunOptions = {}): Promise<Tensor> {
    const info = await this.layerInfo(name);
    const session = await this.ablation.session(this.proto, info);
    const feed = { [ABLATION_SCALE]: channelScaleFeed(info, scale) };
    const result = await this.run(session, batch, feed, [this.outputName], options);
    return this.scores(result[this.outputName], batch.dims[0]);
  }

  private async layerInfo(name: string): Promise<LayerInfo> {
    return findLayer((await this.layerPlan()).layers, name);
  }

  /** Capability 'attention': every block's attention probabilities [N, heads, T, T] (attention.ts). */
  async attention(batch: Tensor, seed: Tensor | null, options: RunOptions = {}): Promise<AttentionResult> {
    const { blocks, grid, extraTokens } = attentionBlocks(await this.layerPlan());
    const g = await this.gradientSession({ layers: blocks.map((b) => b.name) });
    const k = seed?.dims[1] ?? (await this.predict(batch, options)).dims[1];
    const zeros = { data: new Float32Array(batch.dims[0] * k), dims: [batch.dims[0], k] };
    const fetches = g.layers.flatMap((l) => (seed ? [l.activation, l.gradient] : [l.activation]));
    const result = await this.run(
      g.session,
      batch,
      { [g.seedName]: seed ?? zeros },
      [this.outputName, ...fetches],
      options,
    );
    return {
      scores: this.scores(result[this.outputName], batch.dims[0]),
      probabilities: g.layers.map((l, i) => toHeads(blocks[i], toTensor(result[l.activation]))),
      gradients: seed ? g.layers.map((l, i) => toHeads(blocks[i], toTensor(result[l.gradient]))) : undefined,
      grid,
      extraTokens,
    };
  }

  /** Capability 'biasGradients': the input gradient and every bias's gradient ⊙ bias in one run (biases.ts). */
  async biasGradients(batch: Tensor, seed: Tensor, options: RunOptions = {}): Promise<BiasGradientResult> {
    const terms = biasTerms(this.proto, this.spec.inputName, this.outputName);
    const g = await this.gradientSession({ layers: terms.map((t) => t.layer), withInput: true });
    const fetches = [this.outputName, g.inputGradientName!, ...g.layers.map((l) => l.gradient)];
    const r = await this.run(g.session, batch, { [g.seedName]: this.outputSeed(seed) }, fetches, options);
    const [gradients, ...layers] = fetches.slice(1).map((name) => toTensor(r[name]));
    const scores = this.scores(r[this.outputName], batch.dims[0]);
    return { scores, gradients, biases: biasGradientsOf(terms, layers) };
  }

  /** Capability 'weights': the nodes that read float32 weights, output first (weights.ts). */
  weightLayers(): WeightLayer[] {
    return weightLayersOf(this.proto, this.spec.inputName, this.outputName);
  }

  /** Capability 'weights': a float32 initializer's values. */
  weightValues(name: string): Float32Array {
    return weightValuesOf(this.proto, name);
  }

  /**
   * Capability 'weights': the same model (spec, options) with some float32 initializers replaced: `replace` sees every float32
   * initializer's name, values and dims, and returns new values of the same length, or undefined to keep it.
   * Used by the model-randomization sanity check (metrics/sanity.ts). The caller disposes the new model.
   *
   * It runs the graphs already made for the base model with the weights swapped in their bytes (weights.ts
   * withInitializers): no transform and no shape probe, exact because the backward nodes read weights only
   * through nodes over the initializers (autodiff/rules), which ONNX Runtime folds anew at each load. With
   * `variable`, those weights are fed at run time instead, so the models share the base's one set of
   * sessions for them (weight-feeds.ts). No gradientCache: stored graphs are keyed by options, not weights.
   */
  async withWeights(
    replace: WeightReplacer,
    { variable }: { readonly variable?: readonly string[] } = {},
  ): Promise<OnnxModel> {
    const { proto, values } = replaceWeights(this.proto, replace, this.reweighted?.values);
    const base = this.reweighted?.base ?? this;
    const { gradientCache: _, ...options } = this.options;
    const feeds = variable && base.feedsFor(values, variable);
    const session =
      feeds?.forward() ??
      new LazySession(() => openSession(withInitializers(base.ownBytes(), values), options), this.session);
    const model = new OnnxModel(session, this.spec, proto, this.gradientBlocker, options);
    model.layerList = this.layerList; // shapes only, so the weights do not change it
    model.reweighted = { base, values };
    if (feeds) model.fed = { feeds: feeds.retain(), tensors: feeds.tensors(values) };
    return model;
  }

  /** This base model's feeds of `variable` with the other `values` baked, kept while they serve (weight-feeds.ts). */
  private feedsFor(values: ReadonlyMap<string, Float32Array>, variable: readonly string[]): WeightFeeds {
    if (this.feeds?.serves(values, variable)) return this.feeds;
    void this.feeds?.retire().catch(() => undefined); // a failed release leaves nothing to undo
    const { gradientCache: _, ...options } = this.options;
    const source = {
      proto: this.proto,
      like: this.session,
      modelBytes: () => this.ownBytes(),
      entry: (request: GraphRequest) => this.sharedGradientGraph(request),
      open: (graph: Uint8Array) => openSession(graph, options, { logSeverityLevel: 3 }),
    };
    this.feeds = new WeightFeeds(source, variable, values);
    return this.feeds;
  }

  /** The gradient graph a request names: this model's own, or for withWeights' models the base's with their weights. */
  private async gradientGraph(request: GraphRequest): Promise<{ bytes: Uint8Array; meta: GraphMeta }> {
    if (!this.reweighted) return storedGradientGraph(this.graphSource(), request, () => this.probe());
    const { base, values } = this.reweighted;
    const entry = await base.sharedGradientGraph(request);
    return { bytes: gradientGraphWith(base.ownBytes(), entry, values), meta: entry.meta };
  }

  /** This model's ONNX bytes: those it was read from, not a copy. */
  private ownBytes(): Uint8Array {
    return sourceBytesOf(this.proto) ?? encodeModel(this.proto);
  }

  /** A gradient graph as stored, kept for the models withWeights makes from this one (one transform for all). */
  private sharedGradientGraph(request: GraphRequest): Promise<GradientGraphEntry> {
    const key = requestKey(request);
    let pending = this.sharedGraphs.get(key);
    if (!pending) {
      pending = gradientGraphEntry(this.graphSource(), request, () => this.probe());
      this.sharedGraphs.set(key, pending);
      pending.catch(() => this.sharedGraphs.delete(key));
    }
    return pending;
  }

  /**
   * The model with `target` appended to its graph as a head (target-head.ts), so the autodiff differentiates
   * through it: input gradients and CAM layers serve the target with a seed of 1. The head's graph gets no
   * gradientCache: cached graphs are keyed by the options, not by the head's weights (a region, a reference).
   */
  withTargetHead(target: OutputTarget, spec: ModelSpec): Promise<OnnxModel> {
    const { gradientCache: _, ...options } = this.options;
    const proto = appendTargetHead(this.proto, this.outputName, target);
    return OnnxModel.create(encodeModel(proto), spec, options);
  }

  async dispose(): Promise<void> {
    await this.session.release();
    await this.fed?.feeds.drop();
    await this.feeds?.release();
    for (const pending of this.gradientSessions.values())
      await (await pending.catch(() => undefined))?.session.release();
    this.gradientSessions.clear();
    await this.ablation.release();
    this.sharedGraphs.clear();
  }

  private requireGradients(what: string): void {
    if (this.gradientBlocker)
      throw new SightlineError('MISSING_CAPABILITY', `${what}: ${this.gradientBlocker}`, {
        capability: what,
      });
  }

  private gradientSession(request: GraphRequest): Promise<GradientSession> {
    this.requireGradients(request.layers.length > 0 ? 'layers' : 'inputGradients');
    const layer = requestKey(request);
    let pending = this.gradientSessions.get(layer);
    if (!pending) {
      pending = (async () => {
        if (this.fed) return this.fed.feeds.gradient(request);
        const { bytes, meta } = await this.gradientGraph(request);
        const session = await openSession(bytes, this.options);
        return { session, ...meta };
      })();
      this.gradientSessions.set(layer, pending);
      pending.catch(() => this.gradientSessions.delete(layer));
    }
    return pending;
  }

  private async run(
    session: OrtSession,
    batch: Tensor,
    extra: Record<string, Tensor>,
    fetches: string[],
    options: RunOptions,
  ): Promise<ort.InferenceSession.OnnxValueMapType> {
    throwIfAborted(options.signal);
    const n = batch.dims[0];
    if (n > this.maxBatch) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `A batch of ${n} exceeds this model's maxBatch of ${this.maxBatch}; split it (core/batch.ts does).`,
      );
    }
    const feeds: Record<string, ort.Tensor> = {
      [this.spec.inputName]: new ort.Tensor('float32', batch.data, batch.dims as number[]),
    };
    for (const [name, t] of Object.entries({ ...this.fed?.tensors, ...extra }))
      feeds[name] = new ort.Tensor('float32', t.data, t.dims as number[]);
    try {
      return await session.run(feeds, fetches);
    } catch (cause) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `The model rejected an input of shape [${batch.dims.join(', ')}]: ${(cause as Error).message}`,
        { dims: batch.dims },
        { cause },
      );
    }
  }

  private outputSeed(seed: Tensor): Tensor {
    return seedShapedAs(seed, this.io.outputs[0]?.dims ?? [], this.spec.outputShape);
  }

  private scores(out: ort.Tensor, n: number): Tensor {
    const { scores, outputShape } = scoresOf(this.outputName, out, n);
    if (!this.specValue.outputShape && outputShape) this.specValue = { ...this.specValue, outputShape };
    return scores;
  }
}

function openSession(
  bytes: Uint8Array,
  options: OnnxModelOptions,
  more: ort.InferenceSession.SessionOptions = {},
): Promise<OrtSession> {
  return (options.openSession ?? openInThisThread)(bytes, {
    ...more,
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.executionProviders ? { executionProviders: [...options.executionProviders] } : {}),
  });
}

function toTensor(t: ort.Tensor): Tensor {
  return { data: t.data as Float32Array, dims: [...t.dims] };
}
