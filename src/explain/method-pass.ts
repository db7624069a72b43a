// A method's model pass run early, by prepare, for its scores (explain.ts PrepareRequest.forMethod), and handed
// to the method when it asks for the same pass, so the model runs once per photo where it used to run twice.
import type { LayerResult, LayerSeed, Model, RunOptions } from '../core/model.js';
import type { Tensor } from '../core/tensor.js';
import type { PreparedImage, PrepareRequest } from '../explain.js';
import { checkTaskWidth } from '../models/spec.js';
import { pickIndex, rankPredictions, resolveTarget } from './predictions.js';

/**
 * Methods whose one pass is a layer's activations with the gradients of the target's one-hot seed
 * (methods/cam/base.ts readLayer): that pass's forward half gives the scores prepare needs.
 */
export const ONE_LAYER_PASS: ReadonlySet<string> = new Set([
  'grad-cam',
  'grad-cam-pp',
  'xgrad-cam',
  'layer-cam',
  'hires-cam',
]);

/** A layer pass already run: which layer, on which input tensor, seeded with which class, and its result. */
export interface LayerPass {
  readonly layer: string;
  readonly input: Tensor;
  readonly target: number;
  readonly result: LayerResult;
}

/** Passes already handed to a method: once only, as a method may write into the arrays it is given. */
const handed = new WeakSet<LayerPass>();

/**
 * `model`, except that the first call of `layer` asking for exactly `pass` (same layer, the same input
 * tensor, a one-hot seed of the same class) is answered with its result instead of a run; every other call,
 * and that one a second time (from any model withPass made), goes to the model. The methods need no change
 * and cannot get another pass's numbers: anything that does not match runs as before.
 */
export function withPass(model: Model, pass: LayerPass | undefined): Model {
  if (!pass || !model.layer) return model;
  const layer = (name: string, batch: Tensor, seed: LayerSeed, options?: RunOptions) => {
    if (!handed.has(pass) && name === pass.layer && batch === pass.input && isOneHot(seed, pass.target)) {
      handed.add(pass);
      return Promise.resolve(pass.result);
    }
    return model.layer!(name, batch, seed, options);
  };
  return new Proxy(model, {
    get(target, key) {
      if (key === 'layer') return layer;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Whether `seed` is [1, K] with a 1 at `index` and 0 elsewhere. */
function isOneHot(seed: LayerSeed, index: number): boolean {
  if (!seed || seed === 'top' || seed.dims.length !== 2 || seed.dims[0] !== 1) return false;
  const { data } = seed;
  for (let i = 0; i < data.length; i++) if (data[i] !== (i === index ? 1 : 0)) return false;
  return true;
}

/**
 * prepare's scores from the method's own pass where it gives them (PrepareRequest.forMethod): a gradient CAM
 * on a classifier, multilabel or score model. 'top' is seeded inside the pass (Model.layer's 'top'); the target
 * is then resolved from the pass's scores as from a forward pass's, and the pass is kept for the method only
 * if it seeded that same class. Undefined where the method's pass cannot serve (prepare runs a forward pass).
 */
export async function scoresFromMethodPass(
  request: PrepareRequest,
  input: Tensor,
): Promise<Omit<PreparedImage, 'geometry'> | undefined> {
  const { model, forMethod } = request;
  const id = typeof forMethod?.method === 'string' ? forMethod.method : forMethod?.method.id;
  const task = model.spec.task ?? 'classify';
  if (!id || !ONE_LAYER_PASS.has(id) || !['classify', 'multilabel', 'score'].includes(task)) return undefined;
  if (!model.layer || !model.layers || !model.capabilities.has('layers')) return undefined;
  const wanted = request.target ?? 'top';
  const shape = model.spec.outputShape;
  const k = shape?.length === 1 ? shape[0] : undefined;
  // A class named before the pass needs the number of scores to be read; unknown before the first pass.
  if (wanted !== 'top' && k === undefined) return undefined;
  const index = wanted === 'top' ? undefined : pickIndex(model, k!, wanted);
  const seed = index === undefined ? 'top' : oneHotSeed(k!, index);
  let layer: string;
  let result: LayerResult;
  try {
    layer = forMethod?.layer ?? (await model.layers()).defaultLayer;
    result = await model.layer(layer, input, seed, { signal: request.signal });
  } catch (error) {
    // The method's own failure stays the method's (evaluate runs the other methods, the audit reports the
    // method's error with the predictions known): prepare takes the forward pass it always took.
    if (request.signal?.aborted) throw error;
    return undefined;
  }
  const { scores } = result;
  checkTaskWidth(model.spec, scores.dims[1]);
  const target = resolveTarget(model, scores, index ?? 'top');
  const seeded = index ?? result.seeded?.[0];
  return {
    input,
    scores,
    classes: scores.dims[1],
    predictions: rankPredictions(model, scores, request.topK ?? 5),
    target,
    ...(seeded === target.index ? { pass: { layer, input, target: seeded, result } } : {}),
  };
}

function oneHotSeed(k: number, index: number): Tensor {
  const data = new Float32Array(k);
  data[index] = 1;
  return { data, dims: [1, k] };
}
