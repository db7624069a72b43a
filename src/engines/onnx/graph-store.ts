/**
 * What the autodiff makes once per model and keeps in its GradientGraphCache: the shape probe (layer list,
 * shapes, constants) and the gradient graphs. A graph that only appends to the model is stored as the
 * additions alone and joined to the model's own bytes when read (proto.ts appendToSource).
 */
import { SightlineError } from '../../core/errors.js';
import type { BackwardRules, ModelSpec } from '../../core/model.js';
import {
  AUTODIFF_VERSION,
  addGradients,
  differentiablePath,
  type Probe,
  probeForGradients,
  probeFromJson,
  probeToJson,
  RULE_SETS,
} from './autodiff/index.js';
import { appendToSource, type ModelProto } from './proto.js';
import type { GradientGraphCache } from './session.js';

/** What a stored gradient graph's user needs besides the ONNX bytes. */
export interface GraphMeta {
  seedName: string;
  /** Graphs seeded with the top class (autodiff topSeed): the output holding each image's seeded index. */
  topIndexName?: string;
  inputGradientName?: string;
  layers: { activation: string; gradient: string }[];
}

/** The model a probe or gradient graph is made from, and where they are kept. */
export interface GraphSource {
  /** The decoded model (the object decodeModel returned, so its bytes can be extended). */
  readonly proto: ModelProto;
  readonly spec: ModelSpec;
  readonly outputName: string;
  readonly cache?: GradientGraphCache;
}

/** The forward model's shapes and constants (autodiff/shapes.ts), from the cache or probed and stored. */
export async function storedProbe(source: GraphSource): Promise<Probe> {
  const { proto, spec, outputName, cache } = source;
  const make = () => probeForGradients(withFixedInput(proto, spec), spec.inputName, outputName);
  if (!cache) return make();
  const key = JSON.stringify({
    v: AUTODIFF_VERSION,
    input: spec.inputName,
    size: [spec.width, spec.height],
    probe: outputName,
  });
  const stored = await cache.load(key, async () => ({
    model: new Uint8Array(0),
    meta: probeToJson(await make()),
  }));
  return probeFromJson(stored.meta) ?? make();
}

/**
 * Which gradient graph: the layers it exposes (none: the input gradient alone), whether it also computes the
 * input gradient when it exposes layers (default not: the CAM family's graphs stop at the earliest layer),
 * the backward rules (default 'exact'), and
 * `topSeed`: seeded inside the graph with each image's top class (autodiff/gradient-graph.ts) instead of taking a seed input.
 */
export interface GraphRequest {
  readonly layers: readonly string[];
  readonly withInput?: boolean;
  readonly rules?: BackwardRules;
  readonly topSeed?: boolean;
}

/** A request's identity within one process (sessions and shared graphs are kept under it). */
export function requestKey(request: GraphRequest): string {
  const withInput = request.layers.length === 0 || request.withInput === true;
  return JSON.stringify([request.layers, withInput, request.rules ?? 'exact', request.topSeed === true]);
}

/** The gradient graph a request names as ONNX bytes, from the cache or made. */
export async function storedGradientGraph(
  source: GraphSource,
  request: GraphRequest,
  probe: () => Promise<Probe>,
): Promise<{ bytes: Uint8Array; meta: GraphMeta }> {
  const stored = await gradientGraphEntry(source, request, probe);
  const bytes = stored.appended ? appendToSource(source.proto, stored.model) : stored.model;
  if (!bytes)
    throw new SightlineError(
      'MODEL_LOAD',
      'A cached gradient graph holds only additions to a model this process did not read from a file; clear the cache folder ($SIGHTLINE_CACHE_DIR) and run again.',
    );
  return { bytes, meta: stored.meta };
}

/**
 * A gradient graph as kept in the cache: the whole graph, or (`appended`) only the additions that follow the
 * model's own bytes. The additions read weights only through nodes (autodiff/rules), so they serve the
 * same model with other weights too (session.ts withWeights).
 */
export interface GradientGraphEntry {
  readonly model: Uint8Array;
  readonly meta: GraphMeta;
  readonly appended: boolean;
}

/** The gradient graph a request names, as stored: from the cache or made. */
export async function gradientGraphEntry(
  source: GraphSource,
  request: GraphRequest,
  probe: () => Promise<Probe>,
): Promise<GradientGraphEntry> {
  const { proto, spec, outputName, cache } = source;
  const layers = [...request.layers];
  const withInput = layers.length === 0 || request.withInput === true;
  const rules = request.rules && request.rules !== 'exact' ? request.rules : undefined;
  const make = async () => {
    const fixed = withFixedInput(proto, spec);
    const graph = await addGradients(fixed, {
      input: spec.inputName,
      output: outputName,
      layers,
      inputGradient: withInput,
      probe: await probe(),
      rules: rules && RULE_SETS[rules],
      topSeed: request.topSeed === true,
    });
    const meta: GraphMeta = {
      seedName: graph.seedName,
      ...(graph.topIndexName ? { topIndexName: graph.topIndexName } : {}),
      inputGradientName: graph.inputGradientName,
      layers: graph.layers.map(({ activation, gradient }) => ({ activation, gradient })),
    };
    // Stored as the additions alone where the graph only appends to this model (a few MB, not 95).
    const tail = fixed === proto ? graph.tail() : undefined;
    return tail
      ? { model: tail, meta: JSON.stringify({ ...meta, appended: true }) }
      : { model: graph.encode(), meta: JSON.stringify(meta) };
  };
  const key = JSON.stringify({
    v: AUTODIFF_VERSION,
    input: spec.inputName,
    size: [spec.width, spec.height],
    // Stored metas before 'layers' held one 'layer': a new key keeps old cache entries from being read.
    layers: layers.join('\n'),
    // Only where they differ from the defaults, so the keys of existing exact graphs stay as they were.
    ...(layers.length > 0 && withInput ? { withInput } : {}),
    ...(rules ? { rules } : {}),
    ...(rules && RULE_SETS[rules].revision ? { revision: RULE_SETS[rules].revision } : {}),
    // Absent for seed-input graphs, so their keys (and stored graphs) stay as they were.
    ...(request.topSeed ? { seed: 'top' } : {}),
  });
  const stored = cache ? await cache.load(key, make) : await make();
  const { appended, ...meta } = JSON.parse(stored.meta) as GraphMeta & { appended?: boolean };
  return { model: stored.model, meta, appended: appended === true };
}

/** Gradient graphs need static sizes after the batch: take them from the spec where the file leaves them open. */
export function withFixedInput(proto: ModelProto, spec: ModelSpec): ModelProto {
  const input = proto.graph?.input?.find((v) => v.name === spec.inputName);
  const dims = input?.type?.tensorType?.shape?.dim;
  if (!input || !dims || dims.length !== 4 || dims.slice(1).every((d) => d.dimValue !== undefined))
    return proto;
  const fixed = spec.layout === 'NCHW' ? [3, spec.height, spec.width] : [spec.height, spec.width, 3];
  const patched = {
    ...input,
    type: {
      tensorType: {
        ...input.type!.tensorType,
        shape: { dim: [dims[0], ...fixed.map((v) => ({ dimValue: v }))] },
      },
    },
  };
  return {
    ...proto,
    graph: { ...proto.graph, input: proto.graph!.input!.map((v) => (v === input ? patched : v)) },
  };
}

/** Why the autodiff transform cannot serve this model, or undefined when it can. */
export function whyNoGradients(proto: ModelProto, input: string, output: string): string | undefined {
  const path = differentiablePath(proto, input, [output]);
  if (path.unsupported.length > 0) {
    const ops = [...new Set(path.unsupported.map((n) => n.opType))];
    return `no gradient rule for op${ops.length > 1 ? 's' : ''} ${ops.map((o) => `'${o}'`).join(', ')} on the path from the input to the scores.`;
  }
  if (!path.needed.has(output))
    return `the output '${output}' does not depend differentiably on the input '${input}'.`;
  return undefined;
}
