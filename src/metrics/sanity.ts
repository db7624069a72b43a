/**
 * Sanity checks for saliency maps (Adebayo, Gilmer, Muelly, Goodfellow, Hardt and Kim, "Sanity Checks for
 * Saliency Maps", NeurIPS 2018). A method whose map hardly changes when the model's weights are replaced by
 * noise (model randomization, §3) or when it is asked about another class (a training-free stand-in for the
 * data randomization test, §4) explains the image rather than the model. Each check compares the new maps with
 * the original by Spearman's ρ of |map|, Spearman's ρ of the signed map, and SSIM of the normalised |map|
 * (similarity.ts), as the paper's figures do. The numbers are computed, not judged: low similarity is what a
 * method sensitive to the model should show.
 */
import type { AttributionMap } from '../core/attribution.js';
import { invalidArgument, SightlineError, throwIfAborted } from '../core/errors.js';
import type { MethodOptions } from '../core/method.js';
import type { Model, WeightLayer } from '../core/model.js';
import type { ProgressCallback } from '../core/progress.js';
import { createRng } from '../core/random.js';
import type { Tensor } from '../core/tensor.js';
import { type AnyMethod, checkCapabilities, getMethod, resolveOptions } from '../methods/registry.js';
import { averageRanks, pearson } from './agreement.js';
import { ssim } from './similarity.js';

export type { WeightLayer } from '../core/model.js';

/**
 * The model's weight layers from the output back to the input (capability 'weights'; for ONNX models see
 * engines/onnx/weights.ts: the nodes on the path from the input to the scores that read float32 weights of
 * more than one element, each weight counted once, for the layer nearest the output).
 */
export function weightLayers(model: Model): WeightLayer[] {
  return [...weightAccess(model).weightLayers()];
}

/**
 * Groups layers by the first `segments` '/'-separated parts of their names (leading slashes ignored): for the
 * TF-Slim InceptionV3, byNamePrefix(3) turns 'InceptionV3/InceptionV3/Mixed_7c/Branch_1/…' into the block
 * 'InceptionV3/InceptionV3/Mixed_7c' and the classifier into 'InceptionV3/Logits/Conv2d_1c_1x1'; for a PyTorch
 * export, '/layer4/layer4.1/conv2/Conv' with 2 segments is 'layer4/layer4.1'.
 */
export function byNamePrefix(segments: number): (layer: WeightLayer) => string {
  if (!Number.isInteger(segments) || segments < 1) {
    throw invalidArgument('segments', 'a whole number of at least 1', segments);
  }
  return (layer) =>
    layer.name
      .split('/')
      .filter((part) => part !== '')
      .slice(0, segments)
      .join('/');
}

/**
 * What the checks compare maps of. The caller prepares the photo (explain.ts `prepare`: preprocess, predict,
 * resolve the target), so a check sees the same input and class as the map it checks.
 */
export interface SanityRequest {
  /** Model randomization needs capability 'weights' (ONNX and TFLite models, the default model). */
  readonly model: Model;
  /** The preprocessed photo, a batch of one shaped as the model's spec says. */
  readonly input: Tensor;
  readonly method: string | AnyMethod;
  /** The index of the class explained. */
  readonly target: number;
  /** How many scores the model gives (default: from one prediction of `input`). */
  readonly classes?: number;
  readonly options?: MethodOptions;
  /** The method's map on the unchanged model, when the caller has it already (saves one computation). */
  readonly original?: AttributionMap;
  /** The feature map CAM methods read (default: the model's last spatial one). */
  readonly layer?: string;
  /** Seeds the weight noise or the random class (default 0). */
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
}

/** How layers become randomization steps: each weight layer alone, the network's blocks (byBlocks), or a key function. */
export type LayerGrouping = 'layer' | 'block' | ((layer: WeightLayer) => string);

export interface ModelRandomizationRequest extends SanityRequest {
  /** 'cascading' (default): weights randomized cumulatively from the top; 'independent': one group at a time. */
  readonly mode?: 'cascading' | 'independent';
  /** How many groups to step through, from the top (default: all). */
  readonly layers?: number;
  /** Step through at most the model's groups when `layers` asks for more, instead of failing. */
  readonly clampLayers?: boolean;
  /**
   * The step a layer belongs to: layers with equal keys are randomized together, in the order their first
   * layer appears from the output. Default 'layer': every weight layer is its own step (an InceptionV3 has 95);
   * 'block' groups them by name (byBlocks); byNamePrefix(n) names the prefix depth yourself.
   */
  readonly group?: LayerGrouping;
}

/** How alike a map is to the original one (see similarity.ts). */
export interface MapSimilarity {
  /** Spearman's ρ of |map| against |original|, on every pixel. NaN when either is constant. */
  readonly spearmanAbs: number;
  /** Spearman's ρ of the signed maps (the same as spearmanAbs for a non-negative method). */
  readonly spearman: number;
  /** SSIM of the maps normalised to |v| / max |v| (7 × 7 window). */
  readonly ssim: number;
}

export interface RandomizationStep extends MapSimilarity {
  /** The group randomized at this step (its key). */
  readonly layer: string;
  /** The weight initializers randomized in this step's model (cumulative when cascading). */
  readonly weights: number;
}

export interface ModelRandomization {
  readonly target: number;
  readonly steps: readonly RandomizationStep[];
}

/**
 * Model randomization (Adebayo et al. 2018, §3). The weight layers (weightLayers) are grouped (`group`) and
 * the first `layers` groups from the output are stepped through. At step k the model's weights of group k —
 * in 'cascading' mode of groups 0…k — are replaced by Gaussian noise with each tensor's own mean and standard
 * deviation (population), and the map is recomputed with the same method, options and target, then compared
 * with the original map. The noise of group i comes from mulberry32(seed + (i + 1)·0x9e3779b9 mod 2³²), drawn
 * by Box–Muller (gaussianLike) over the group's tensors in order, so a group gets the
 * same noise in both modes and the same seed gives the same numbers. One map per step, plus the original.
 */
export async function modelRandomization(request: ModelRandomizationRequest): Promise<ModelRandomization> {
  const [result] = await modelRandomizations({ ...request, methods: [request] });
  return result;
}

/** One method of several checked against the same randomized models (modelRandomizations). */
export type MethodUnderTest = Pick<SanityRequest, 'method' | 'options' | 'original'>;

/**
 * modelRandomization for several methods at once: each step's randomized model is built once and every
 * method's map is recomputed on it. Results are in the order of `methods`; they equal what
 * modelRandomization gives for each method alone. Every step's model is asked for with the same `variable`
 * weights (all the steps'), which the ONNX engine feeds at run time: one session load serves all the steps
 * (and the next check on the same model), not one per step (engines/onnx/weight-feeds.ts).
 */
export async function modelRandomizations(
  request: Omit<ModelRandomizationRequest, keyof MethodUnderTest> & { methods: readonly MethodUnderTest[] },
): Promise<ModelRandomization[]> {
  const model = weightAccess(request.model);
  const mode = request.mode ?? 'cascading';
  if (mode !== 'cascading' && mode !== 'independent') {
    throw invalidArgument('mode', "'cascading' or 'independent'", mode);
  }
  const layers = [...model.weightLayers()];
  const group = request.group ?? 'layer';
  const key =
    group === 'layer' ? (layer: WeightLayer) => layer.name : group === 'block' ? byBlocks(layers) : group;
  if (typeof key !== 'function') throw invalidArgument('group', "'layer', 'block' or a function", group);
  const groups = groupLayers(layers, key);
  const count = request.clampLayers
    ? Math.min(request.layers ?? groups.length, groups.length)
    : (request.layers ?? groups.length);
  if (!Number.isInteger(count) || count < 0 || count > groups.length) {
    throw invalidArgument('layers', `a whole number from 0 to ${groups.length} (the model's groups)`, count);
  }
  const prepared: Prepared[] = [];
  for (const m of request.methods) prepared.push(await prepareCheck({ ...request, ...m }));
  const seed = request.seed ?? 0;
  const noise = new Map<string, Float32Array>();
  // Named up front, so an engine can feed them to one prepared model rather than load one per step.
  const variable = groups.slice(0, count).flatMap((g) => g.weights);
  const steps: RandomizationStep[][] = prepared.map(() => []);
  for (let k = 0; k < count; k++) {
    throwIfAborted(request.signal);
    if (mode === 'independent') noise.clear();
    const drawn = groupNoise(model, seed, k, groups[k].weights);
    for (const [i, name] of groups[k].weights.entries()) noise.set(name, drawn[i]);
    const randomized = await model.withWeights((name) => noise.get(name), { variable });
    try {
      for (const [i, p] of prepared.entries()) {
        const map = await p.attribute(randomized);
        steps[i].push({ layer: groups[k].key, weights: noise.size, ...similarity(p.map, map) });
      }
    } finally {
      await randomized.dispose();
    }
    request.onProgress?.({ done: k + 1, total: count, unit: 'randomization steps' });
  }
  return prepared.map((p, i) => ({ target: p.target, steps: steps[i] }));
}

/**
 * A network's blocks from its layer names: the deepest '/'-separated name prefix (byNamePrefix) that joins
 * some layers into one group and still gives at most `most` groups. The TF-Slim InceptionV3 gets depth 3 (its
 * 17 blocks: Logits, Mixed_7c, …, Conv2d_1a_3x3, as in Adebayo et al.'s figures); a PyTorch ResNet export gets
 * depth 2 ('layer4/layer4.1'), since at depth 3 every convolution is still alone. When no depth joins layers
 * (flat names), every layer is its own group.
 */
export function byBlocks(layers: readonly WeightLayer[], most = 24): (layer: WeightLayer) => string {
  const distinct = new Set(layers.map((l) => l.name)).size;
  for (let depth = 8; depth >= 1; depth--) {
    const candidate = byNamePrefix(depth);
    const groups = new Set(layers.map(candidate)).size;
    if (groups < distinct && groups <= most) return candidate;
  }
  return (layer) => layer.name;
}

export interface LabelRandomization extends MapSimilarity {
  readonly target: number;
  /** The other class, drawn uniformly from the K − 1 classes that are not the target. */
  readonly randomTarget: number;
}

/**
 * Label randomization without retraining: the map for a class drawn at random (mulberry32(seed), uniform over
 * the other K − 1 classes) compared with the target's map. Adebayo et al.'s data randomization test retrains
 * the model on permuted labels; this cheap variant asks the same model about a class the image does not show,
 * so a method whose map stays the same is not explaining the class.
 */
export async function labelRandomization(request: SanityRequest): Promise<LabelRandomization> {
  const prepared = await prepareCheck(request);
  if (prepared.classes < 2) {
    throw invalidArgument('model', 'a model with at least two classes', prepared.classes);
  }
  const draw = Math.floor(createRng(request.seed ?? 0).next() * (prepared.classes - 1));
  const randomTarget = draw >= prepared.target ? draw + 1 : draw;
  const map = await prepared.attribute(request.model, randomTarget);
  return { target: prepared.target, randomTarget, ...similarity(prepared.map, map) };
}

interface Prepared {
  readonly target: number;
  readonly classes: number;
  /** The original map. */
  readonly map: AttributionMap;
  /** The map of `model` for `target` (default: the request's), with the request's method, options and layer. */
  attribute(model: Model, target?: number): Promise<AttributionMap>;
}

/** Validates the request, resolves the layer, and computes the original map. */
async function prepareCheck(request: SanityRequest): Promise<Prepared> {
  const { model, input } = request;
  const method = typeof request.method === 'string' ? getMethod(request.method) : request.method;
  const options = resolveOptions(method, request.options);
  checkCapabilities(method, model);
  if (typeof input !== 'object' || input === null || !(input.data instanceof Float32Array)) {
    throw invalidArgument('input', 'a preprocessed batch of one (a Tensor with Float32Array data)', input);
  }
  const classes = request.classes ?? (await model.predict(input, { signal: request.signal })).dims[1];
  const { target } = request;
  if (!Number.isInteger(target) || target < 0 || target >= classes) {
    throw invalidArgument('target', `a class index from 0 to ${classes - 1}`, target);
  }
  // Resolved once on the original model, so every randomized copy explains the same feature map.
  const layer = method.requires.includes('layers')
    ? (request.layer ?? (await model.layers!()).defaultLayer)
    : undefined;
  const attribute = (m: Model, t = target) =>
    method.attribute({ model: m, input, target: t, classes, layer, signal: request.signal }, options);
  const given = request.original;
  if (given && (given.width !== model.spec.width || given.height !== model.spec.height)) {
    throw invalidArgument(
      'original',
      `a map at the model's input size ${model.spec.width}×${model.spec.height}`,
      `${given.width}×${given.height}`,
    );
  }
  const original = given ?? (await attribute(model));
  return { target, classes, map: original, attribute };
}

/**
 * similarity.ts's spearman and ssim, with the original map's ranks computed once per check rather than once
 * per step, and the signed ranks taken as the absolute ones when both maps are non-negative (then equal):
 * the same numbers, a quarter of the sorting (a 299² map's ranks cost about a gradient pass of MobileNetV2).
 */
function similarity(original: AttributionMap, map: AttributionMap): MapSimilarity {
  // ssim first: it checks that the maps are alike in size and finite.
  const structural = ssim(original.data, map.data, map.width, map.height);
  const reference = ranksOf(original);
  const absRanks = averageRanks(absolute(map.data));
  const spearmanAbs = pearson(reference.abs, absRanks);
  const signed =
    reference.signed === reference.abs && map.data.every((v) => v >= 0)
      ? spearmanAbs
      : pearson(reference.signed, averageRanks(Float64Array.from(map.data)));
  return { spearmanAbs, spearman: signed, ssim: structural };
}

/** |v| of each value, as doubles (a loop: Float64Array.from with Math.abs cost as much as the ranking). */
function absolute(data: Float32Array): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.abs(data[i]);
  return out;
}

const rankCache = new WeakMap<AttributionMap, { abs: Float64Array; signed: Float64Array }>();

/** A map's ranks of |v| and of v (the same array when no value is negative), kept while the map lives. */
function ranksOf(map: AttributionMap): { abs: Float64Array; signed: Float64Array } {
  let ranks = rankCache.get(map);
  if (!ranks) {
    const abs = averageRanks(absolute(map.data));
    ranks = { abs, signed: map.data.every((v) => v >= 0) ? abs : averageRanks(Float64Array.from(map.data)) };
    rankCache.set(map, ranks);
  }
  return ranks;
}

type WeightAccess = Model & Required<Pick<Model, 'weightLayers' | 'weightValues' | 'withWeights'>>;

/** The model, after checking that it lets its weights be listed, read and replaced. */
function weightAccess(model: Model): WeightAccess {
  if (
    !model.capabilities.has('weights') ||
    !model.weightLayers ||
    !model.weightValues ||
    !model.withWeights
  ) {
    throw new SightlineError(
      'MISSING_CAPABILITY',
      "Model randomization replaces a model's weights, and this model does not give access to them " +
        "(capability 'weights'); ONNX, TFLite and TF.js Layers models and the default model do, HTTP and " +
        'TF.js Graph models do not.',
      { missing: ['weights'] },
    );
  }
  return model as WeightAccess;
}

/** Layers grouped by key, groups in the order their first layer appears. */
function groupLayers(
  layers: readonly WeightLayer[],
  group: (layer: WeightLayer) => string,
): { key: string; weights: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const layer of layers) {
    const key = group(layer);
    const weights = groups.get(key) ?? [];
    weights.push(...layer.weights);
    groups.set(key, weights);
  }
  return [...groups].map(([key, weights]) => ({ key, weights }));
}

/** Noise drawn for a model's groups, by seed, step and weight names, and the weights it covers. */
const noiseCache = new WeakMap<Model, { entries: Map<string, Float32Array[]>; names: Set<string> }>();

/**
 * Group k's noise (see modelRandomization), one array per weight in order. Kept with the model, since it
 * depends only on the model's weights, the seed and the group: checks of several photos with one seed (the
 * default, 0) draw it once, and the noise cost more than the step's map (6M weights of InceptionV3's
 * Mixed_7c: ≈ 0.5 CPU s, a gradient pass 0.4 s). evaluate seeds each photo by its file name, so it draws
 * each photo's own. Each weight has at most one noise kept (a weight drawn again under another seed or
 * grouping clears the cache), so it holds at most as many values as the model has weights.
 */
function groupNoise(
  model: WeightAccess,
  seed: number,
  k: number,
  weights: readonly string[],
): Float32Array[] {
  const cache = noiseCache.get(model) ?? { entries: new Map(), names: new Set<string>() };
  noiseCache.set(model, cache);
  const key = JSON.stringify([seed, k, weights]);
  const kept = cache.entries.get(key);
  if (kept) return kept;
  const stream = { state: (seed + Math.imul(k + 1, 0x9e3779b9)) >>> 0 };
  const drawn = weights.map((name) => gaussianLike(model.weightValues(name), stream));
  if (weights.some((name) => cache.names.has(name))) {
    cache.entries.clear();
    cache.names.clear();
  }
  cache.entries.set(key, drawn);
  for (const name of weights) cache.names.add(name);
  return drawn;
}

/**
 * Gaussian noise with the values' own mean and (population) standard deviation, drawn as
 * mean + std · z, z = √(−2 ln u) · cos(2π v) (Box–Muller) with u and v two draws of createRng(seed), the
 * generator's state carried in `stream` from one tensor of a group to the next. mulberry32 (core/random.ts)
 * is written out here, the same operations in the same order so the same numbers: a call per number through
 * the Rng closure cost a third more (6M weights, InceptionV3's Mixed_7c: 0.53 → 0.36 CPU s), and the noise is
 * the largest cost of a check's first pass over its steps (scripts/bench-sanity.mjs).
 * test/unit/sanity-weight-feeds.test.ts compares it, bit for bit, with that definition through createRng. Not core/normal.ts's faster
 * draws (SmoothGrad's): another draw of the noise would change every number of the README's sanity tables,
 * over half an hour of two cores to compute again. They would save a few tenths of a CPU second in a check's
 * first steps (scripts/bench-sanity.mjs, the first check's mean step overhead: 2.38 gradient passes with them,
 * 2.86 and 3.14 with these, in three runs of npm run bench on one afternoon).
 */
export function gaussianLike(values: Float32Array, stream: { state: number }): Float32Array {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (values[i] - mean) ** 2;
  const std = Math.sqrt(variance / n);
  const out = new Float32Array(n);
  let state = stream.state | 0;
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = Math.max(((t ^ (t >>> 14)) >>> 0) / 4294967296, 1e-12);
    state = (state + 0x6d2b79f5) | 0;
    t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const v = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = mean + std * (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  stream.state = state >>> 0;
  return out;
}
