/**
 * Weights fed at run time: the sessions that serve a series of withWeights models (session.ts) whose new
 * values differ only in tensors named in advance (`variable`, the sanity check's randomization steps).
 * Those tensors become graph inputs (weights.ts withInputs) and every run feeds them, each model its own
 * values (the original ones where it keeps them), so one load of each graph serves every step, where baking
 * each step's values into new bytes cost a session load per step (≈ 2 gradient passes of InceptionV3, more
 * than the step's own map; scripts/bench-sanity.mjs). The price is paid per run: ORT neither folds nor
 * prepacks a weight that is an input, so the layers that read one run unfused kernels (InceptionV3, 1 thread:
 * +0.04–0.06 s on a 0.40 s gradient pass with its top three blocks fed, +0.22 s with every weight fed), and
 * sum in another order (≈ 1e-6 of the largest gradient). Weights replaced but not variable are baked into
 * the bytes once, for the whole series.
 */
import { invalidArgument } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { type GradientGraphEntry, type GraphMeta, type GraphRequest, requestKey } from './graph-store.js';
import { LazySession } from './lazy-session.js';
import type { OrtSession } from './open-session.js';
import { DataType, encodeModel, type ModelProto, tensorFloats, valueInfo } from './proto.js';
import { gradientGraphWith, withInputs } from './weights.js';

/** What the feeds need of the model whose graphs they run (session.ts gives it). */
export interface FedGraphSource {
  /** The base model, for the weights' dims and the inputs it declares already. */
  readonly proto: ModelProto;
  /** The base model's own bytes. */
  modelBytes(): Uint8Array;
  /** The base's stored gradient graph a request names (graph-store.ts). */
  entry(request: GraphRequest): Promise<GradientGraphEntry>;
  /** Opens a session (quietly: ORT warns once per overridable initializer). */
  open(bytes: Uint8Array): Promise<OrtSession>;
  /** A session of the base's forward graph, for names and metadata before the forward graph is loaded. */
  readonly like: OrtSession;
}

export class WeightFeeds {
  private readonly variable: ReadonlySet<string>;
  private readonly baked: ReadonlyMap<string, Float32Array>;
  private readonly dims = new Map<string, number[]>();
  /** The variable weights' original values, fed where a model keeps them. */
  private readonly originals = new Map<string, Float32Array>();
  private readonly tail: Uint8Array;
  private readonly forwardSession: LazySession;
  private readonly gradients = new Map<string, Promise<GraphMeta & { session: OrtSession }>>();
  private users = 0;
  private retired = false;

  /**
   * Feeds for `variable` over graphs with `values` (every replaced tensor's new values) baked in, those of
   * `variable` excepted. INVALID_ARGUMENT when a name is not one of the model's float32 initializers.
   */
  constructor(
    private readonly source: FedGraphSource,
    variable: Iterable<string>,
    values: ReadonlyMap<string, Float32Array>,
  ) {
    this.variable = new Set(variable);
    // A model from before IR version 4 may list its initializers as inputs already.
    const declared = new Set((source.proto.graph?.input ?? []).map((v) => v.name));
    const inputs = [];
    for (const t of source.proto.graph?.initializer ?? []) {
      if (!t.name || t.dataType !== DataType.FLOAT || !this.variable.has(t.name)) continue;
      const dims = (t.dims ?? []).map(Number);
      this.dims.set(t.name, dims);
      this.originals.set(t.name, tensorFloats(t));
      if (!declared.has(t.name)) inputs.push(valueInfo(t.name, dims));
    }
    for (const name of this.variable) {
      if (!this.dims.has(name))
        throw invalidArgument('variable', "names of the model's float32 weight tensors", name);
    }
    this.baked = new Map([...values].filter(([name]) => !this.variable.has(name)));
    this.tail = encodeModel({ graph: { input: inputs } });
    this.forwardSession = new LazySession(() => this.open(null).then((g) => g.session), source.like);
  }

  /**
   * Whether these feeds serve a model with `values` and `variable`: the same variable tensors, and every
   * other replaced tensor replaced by the very array baked in (the sanity check's steps reuse their noise).
   */
  serves(values: ReadonlyMap<string, Float32Array>, variable: readonly string[]): boolean {
    if (this.retired || variable.length !== this.variable.size) return false;
    if (!variable.every((name) => this.variable.has(name))) return false;
    let fixed = 0;
    for (const [name, data] of values) {
      if (this.variable.has(name)) continue;
      if (this.baked.get(name) !== data) return false;
      fixed++;
    }
    return fixed === this.baked.size;
  }

  /** The tensors to feed for a model with `values`: every variable weight, new or original. */
  tensors(values: ReadonlyMap<string, Float32Array>): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const [name, dims] of this.dims)
      feeds[name] = { data: values.get(name) ?? this.originals.get(name)!, dims };
    return feeds;
  }

  /** The forward session, shared: its user's release leaves it open. */
  forward(): OrtSession {
    return borrowed(this.forwardSession);
  }

  /** The gradient graph a request names, its session shared as forward()'s is. */
  async gradient(request: GraphRequest): Promise<GraphMeta & { session: OrtSession }> {
    const key = requestKey(request);
    let pending = this.gradients.get(key);
    if (!pending) {
      pending = this.open(request);
      this.gradients.set(key, pending);
      pending.catch(() => this.gradients.delete(key));
    }
    const { session, ...meta } = await pending;
    return { ...meta, session: borrowed(session) };
  }

  /** A model now uses these feeds (returned). */
  retain(): this {
    this.users++;
    return this;
  }

  /** A model stopped using them: released once no model does and newer feeds replaced them. */
  async drop(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.retired && this.users === 0) await this.release();
  }

  /** No new model will use these feeds; released when the last user drops them (now, if none). */
  async retire(): Promise<void> {
    this.retired = true;
    if (this.users === 0) await this.release();
  }

  /** Closes the sessions, whoever still holds them (the base model is disposed). */
  async release(): Promise<void> {
    this.retired = true;
    const pending = [...this.gradients.values()];
    this.gradients.clear();
    await this.forwardSession.release();
    for (const p of pending) await (await p.catch(() => undefined))?.session.release();
  }

  /** The forward graph (`request` null) or a gradient graph with the variable weights as inputs, opened. */
  private async open(request: GraphRequest | null): Promise<GraphMeta & { session: OrtSession }> {
    const { baked, variable, tail } = this;
    const own = this.source.modelBytes();
    if (!request)
      return {
        seedName: '',
        layers: [],
        session: await this.source.open(withInputs(own, baked, variable, tail)),
      };
    const entry = await this.source.entry(request);
    const session = await this.source.open(gradientGraphWith(own, entry, baked, variable, tail));
    return { ...entry.meta, session };
  }
}

/** A view of a shared session whose release leaves it open (its owner releases it). */
function borrowed(session: OrtSession): OrtSession {
  return {
    get inputNames() {
      return session.inputNames;
    },
    get outputNames() {
      return session.outputNames;
    },
    get inputMetadata() {
      return session.inputMetadata;
    },
    get outputMetadata() {
      return session.outputMetadata;
    },
    run: (feeds, fetches) => session.run(feeds, fetches),
    release: async () => {},
  };
}
