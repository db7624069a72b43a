/**
 * The autodiff transform: a forward ONNX model in, the same model plus a backward pass out. The new graph
 * takes a seed s shaped like the output and also returns ∂(Σ s ⊙ output)/∂input (and chosen layers with
 * their gradients), so ONNX Runtime runs forward and backward in one native, batched call.
 *
 * Steps: find the differentiable path (and fail early on ops without a rule), probe the forward model once
 * for static shapes (see shapes.ts), then sweep the path backwards, letting each op's rule emit standard
 * ONNX nodes; gradients that meet at a tensor are summed.
 */
import { invalidArgument, SightlineError } from '../../../core/errors.js';
import {
  encodeExtended,
  encodeModel,
  hasSourceBytes,
  type ModelProto,
  type NodeProto,
  type ValueInfoProto,
  valueInfo,
} from '../proto.js';
import { GradientContext, unsupported } from './context.js';
import { type DifferentiablePath, differentiablePath } from './path.js';
import { GRADIENT_RULES } from './registry.js';
import type { GradientRule, RuleOverrides } from './rule.js';
import { type Probe, probeModel, type TensorShape } from './shapes.js';

export interface GradientGraphOptions {
  /** The input to differentiate with respect to; default: the single graph input that is not an initializer. */
  input?: string;
  /** The output to differentiate; default: the first graph output. */
  output?: string;
  /** Intermediate tensor names to expose with their gradients. */
  layers?: string[];
  /**
   * Whether to also compute the input gradient (default true). Without it the backward sweep stops at the
   * earliest layer, which is what the CAM family needs and saves most of the backward pass.
   */
  inputGradient?: boolean;
  /**
   * Shapes and constants from probeForGradients on the same model, input and output (kept with the graphs,
   * so later graphs skip running the model); a probe that lacks a constant this graph needs is not used.
   */
  probe?: Probe;
  /**
   * Rules that replace the exact ones for some ops (Guided Backprop's ReLU rule, …); default none, the exact
   * gradient. Refused when no node on the path is one they change: the result would be the plain gradient.
   */
  rules?: RuleOverrides;
}

export interface GradientGraph {
  /** The forward graph plus the backward nodes. */
  model: ModelProto;
  /** `model` as ONNX bytes, written without re-encoding the source where it can be. */
  encode(): Uint8Array;
  /**
   * Where the transform only appended to the source: the additions alone, as an encoded ModelProto that
   * the source's bytes followed by it make `model` (proto.ts appendToSource). Else undefined.
   */
  tail(): Uint8Array | undefined;
  /** 'sightline_seed': float32, shaped like the output, e.g. [N, K]. */
  seedName: string;
  /** The gradient of Σ seed ⊙ output with respect to the input, shaped like the input (absent with inputGradient: false). */
  inputGradientName?: string;
  /** activation: the layer tensor exposed as a graph output; gradient: its gradient output. */
  layers: { name: string; activation: string; gradient: string }[];
}

const SEED = 'sightline_seed';
const INPUT_GRADIENT = 'sightline_input_gradient';
/** Opset 16 brings ScatterElements' reduction='add' (overlapping max pools); 13–15 models move up safely. */
const SCATTER_ADD_OPSET = 16;
const MIN_OPSET = 10;

export async function addGradients(
  source: ModelProto,
  options: GradientGraphOptions = {},
): Promise<GradientGraph> {
  const model = structuredClone(source);
  const graph = model.graph ?? {};
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const input = options.input ?? defaultInput(graph.input ?? [], initializers);
  const output = options.output ?? graph.output?.[0]?.name;
  if (!graph.input?.some((v) => v.name === input)) {
    throw invalidArgument('input', `one of the graph inputs ${names(graph.input)}`, input);
  }
  if (!output || !graph.output?.some((v) => v.name === output)) {
    throw invalidArgument('output', `one of the graph outputs ${names(graph.output)}`, output);
  }
  const layers = options.layers ?? [];
  const withInput = options.inputGradient ?? true;
  if (!withInput && layers.length === 0) {
    throw invalidArgument('layers', 'at least one layer when inputGradient is false', layers);
  }
  // Without the input gradient, the sweep starts at the layer with the longest path to the output (the
  // earliest), so nothing before it is differentiated.
  const path = withInput
    ? differentiablePath(model, input, [output])
    : layers
        .map((layer) => differentiablePath(model, layer, [output]))
        .reduce((a, b) => (b.nodes.length > a.nodes.length ? b : a));
  if (path.unsupported.length > 0) {
    const node = path.unsupported[0];
    const name = node.name || node.output?.[0] || '?';
    throw new SightlineError(
      'UNSUPPORTED_OP',
      `Cannot compute gradients through op '${node.opType}' (node '${name}'): no gradient rule.`,
      { op: node.opType, node: name },
    );
  }
  if (!path.needed.has(output)) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `The output '${output}' is not a float tensor computed from the input '${input}', so it has no gradient.`,
      { input, output },
    );
  }
  for (const layer of layers) {
    if (!path.needed.has(layer)) {
      throw invalidArgument('layers', `tensors on the path from '${input}' to '${output}'`, layer);
    }
  }
  const sourceOpset = Number(
    source.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0,
  );
  const opset = raiseOpset(model);

  const wanted = constantInputs(path);
  const given = options.probe;
  const probe =
    given && [...wanted].every((name) => given.asked.has(name))
      ? given
      : await probeModel(model, input, wanted);
  const taken = allNames(model);
  const ctx = new GradientContext(
    opset,
    probe.shapes,
    path.active,
    path.types,
    graph.initializer ?? [],
    graph.node ?? [],
    probe.values,
    taken,
  );

  const forwardCount = graph.node?.length ?? 0;
  const forwardBefore = nodeShapes(graph.node ?? []);
  // The reverse sweep. Nodes are topologically sorted, so by the time a node is reached every consumer of
  // its outputs has contributed to their gradients.
  const contributions = new Map<string, string[]>([[output, [SEED]]]);
  const totals = new Map<string, string>();
  const gradientOf = (name: string): string | undefined => {
    const cached = totals.get(name);
    if (cached) return cached;
    const parts = contributions.get(name);
    if (!parts) return undefined;
    const total = parts.length === 1 ? parts[0] : ctx.emit('Sum', parts);
    totals.set(name, total);
    return total;
  };
  let modified = 0;
  const ruleFor = (node: NodeProto): GradientRule => {
    const override = options.rules?.rules[node.opType];
    if (!override || (override.applies && !override.applies(node, ctx))) return GRADIENT_RULES[node.opType];
    modified++;
    return override.rule;
  };
  for (const node of [...path.nodes].reverse()) {
    const dy = (node.output ?? []).map((name) => (path.needed.has(name) ? gradientOf(name) : undefined));
    const dx = ruleFor(node)(node, dy, ctx);
    (node.input ?? []).forEach((name, i) => {
      if (!path.needed.has(name)) return;
      const gradient = dx[i];
      if (!gradient) throw unsupported(node, `its rule gave no gradient for input ${i}`);
      const parts = contributions.get(name) ?? [];
      parts.push(gradient);
      contributions.set(name, parts);
    });
  }

  if (options.rules && !options.rules.optional && modified === 0) {
    throw new SightlineError(
      'MISSING_CAPABILITY',
      `The '${options.rules.name}' rules change ${options.rules.changes}, and the model has none on the path from '${input}' to '${output}': its map would be the plain gradient's, so it is refused rather than drawn under another name.`,
      { rules: options.rules.name, input, output },
    );
  }

  const batchName = symbolicBatch(graph.input!.find((v) => v.name === input)!) ?? 'N';
  const declared = (name: string, shape: TensorShape) =>
    valueInfo(
      name,
      shape.dims.map((d, i) => (shape.batch[i] ? batchName : d)),
    );
  const exposed: NodeProto[] = [];
  const outputs: ValueInfoProto[] = [];
  if (withInput) {
    exposed.push({
      opType: 'Identity',
      name: INPUT_GRADIENT,
      input: [gradientOf(input)!],
      output: [INPUT_GRADIENT],
    });
    outputs.push(declared(INPUT_GRADIENT, probe.shapes.get(input)!));
  }
  const layerOutputs = layers.map((layer) => {
    const gradient = `sightline_gradient/${layer}`;
    exposed.push({ opType: 'Identity', name: gradient, input: [gradientOf(layer)!], output: [gradient] });
    const shape = probe.shapes.get(layer)!;
    if (!graph.output!.some((v) => v.name === layer)) outputs.push(declared(layer, shape));
    outputs.push(declared(gradient, shape));
    return { name: layer, activation: layer, gradient };
  });

  // Where the transform only appended to the source (the opset stayed and no rule edited a forward node;
  // rules append what they need, as MaxPool's does for its indices), the source's own bytes serve
  // (encodeExtended).
  const appendedOnly = () =>
    opset === sourceOpset && nodeShapes(graph.node!.slice(0, forwardCount)) === forwardBefore;
  const seedInfo = graph.output!.find((v) => v.name === output)!;
  const additions = {
    node: [...ctx.nodes, ...exposed],
    initializer: ctx.initializers,
    input: [
      seedInfo.type?.tensorType?.shape
        ? { ...structuredClone(seedInfo), name: SEED }
        : declared(SEED, probe.shapes.get(output)!),
    ],
    output: outputs,
  };
  graph.input = [...graph.input!, ...additions.input];
  graph.node = [...(graph.node ?? []), ...additions.node];
  graph.initializer = [...(graph.initializer ?? []), ...additions.initializer];
  graph.output = [...graph.output!, ...additions.output];
  return {
    model,
    encode: () => (appendedOnly() ? encodeExtended(source, additions) : encodeModel(model)),
    tail: () => (appendedOnly() && hasSourceBytes(source) ? encodeModel({ graph: additions }) : undefined),
    seedName: SEED,
    inputGradientName: withInput ? INPUT_GRADIENT : undefined,
    layers: layerOutputs,
  };
}

/**
 * Shapes of every tensor and the constants any gradient graph between `input` and `output` needs: the
 * graphs for layers read a subset of the input gradient's path, so one probe serves them all.
 */
export function probeForGradients(model: ModelProto, input: string, output: string): Promise<Probe> {
  return probeModel(model, input, constantInputs(differentiablePath(model, input, [output])));
}

/** The tensors the path's rules may need as values: inputs of its nodes that do not carry a gradient. */
function constantInputs(path: DifferentiablePath): Set<string> {
  const wanted = new Set<string>();
  for (const node of path.nodes)
    for (const name of node.input ?? []) if (name && !path.active.has(name)) wanted.add(name);
  return wanted;
}

/** The forward nodes' wiring and plain attributes, to tell whether a rule edited one. */
function nodeShapes(nodes: readonly NodeProto[]): string {
  return JSON.stringify(
    nodes.map((n) => [
      n.opType,
      n.domain,
      n.input,
      n.output,
      (n.attribute ?? []).map((a) => [a.name, a.type, a.i, a.f, a.s, a.ints, a.floats, a.strings]),
    ]),
  );
}

function defaultInput(
  inputs: readonly ValueInfoProto[],
  initializers: ReadonlySet<string | undefined>,
): string {
  const candidates = inputs.filter((v) => !initializers.has(v.name));
  if (candidates.length !== 1) {
    throw invalidArgument(
      'input',
      `given when the model has several inputs (${names(candidates)})`,
      undefined,
    );
  }
  return candidates[0].name;
}

function names(values: readonly ValueInfoProto[] | undefined): string {
  return (values ?? []).map((v) => `'${v.name}'`).join(', ');
}

/**
 * The default-domain opset the backward nodes are written at. Models at 13–15 move to 16 (for
 * ScatterElements' reduction='add'): nothing they can contain changes meaning on the way, except RoiAlign's
 * default coordinate mode and BatchNormalization's training outputs, which keep a model where it is.
 */
function raiseOpset(model: ModelProto): number {
  const entry = model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx');
  const version = Number(entry?.version ?? 0);
  if (!entry || version < MIN_OPSET) {
    throw new SightlineError(
      'UNSUPPORTED_OP',
      `Cannot compute gradients for a model at opset ${version}: opset ${MIN_OPSET} or later is needed.`,
      { opset: version },
    );
  }
  const blocked = (model.graph?.node ?? []).some(
    (n) =>
      n.opType === 'RoiAlign' ||
      (n.opType === 'BatchNormalization' && (n.output ?? []).filter(Boolean).length > 1),
  );
  if (version >= 13 && version < SCATTER_ADD_OPSET && !blocked) {
    entry.version = SCATTER_ADD_OPSET;
    return SCATTER_ADD_OPSET;
  }
  return version;
}

function symbolicBatch(info: ValueInfoProto): string | undefined {
  return info.type?.tensorType?.shape?.dim?.[0]?.dimParam || undefined;
}

function allNames(model: ModelProto): Set<string> {
  const taken = new Set<string>([SEED, INPUT_GRADIENT]);
  const graph = model.graph ?? {};
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])])
    taken.add(v.name);
  for (const t of graph.initializer ?? []) if (t.name) taken.add(t.name);
  for (const node of graph.node ?? []) {
    for (const name of [...(node.input ?? []), ...(node.output ?? [])]) taken.add(name);
  }
  return taken;
}
