/**
 * Which nodes lie on a differentiable path from the input to the output. A tensor is active when it is
 * floating point and computed from the input; a node is on the path when it reads an active tensor and writes an
 * active tensor that the output needs. Everything else (weights, Constant nodes, shape arithmetic on
 * integers) is a constant of the backward pass.
 */
import { DataType, type ModelProto, type NodeProto } from '../proto.js';
import { attrInt, attrTensor } from './attributes.js';
import { GRADIENT_RULES } from './registry.js';

export interface DifferentiablePath {
  /** The nodes on the path, in the graph's (topological) order. */
  readonly nodes: NodeProto[];
  /** Path nodes whose op has no gradient rule. */
  readonly unsupported: NodeProto[];
  /** Float tensors computed from the input. */
  readonly active: ReadonlySet<string>;
  /** Element types of the graph's tensors, as far as they can be inferred. */
  readonly types: ReadonlyMap<string, number>;
  /** Active tensors the output depends on (those that receive a gradient). */
  readonly needed: ReadonlySet<string>;
}

/** Element types that carry gradients (the graph may cast float32 to double and back, say). */
const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);

/** Ops whose outputs are never float, whatever their inputs are. */
const INTEGER_OUTPUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);
const BOOLEAN_OUTPUT = new Set([
  'Equal',
  'Greater',
  'GreaterOrEqual',
  'Less',
  'LessOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
]);

export function differentiablePath(
  model: ModelProto,
  input: string,
  outputs: readonly string[],
): DifferentiablePath {
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const types = elementTypes(model);
  const active = new Set<string>([input]);
  for (const node of nodes) {
    if (!(node.input ?? []).some((name) => active.has(name))) continue;
    for (const out of node.output ?? []) if (out && FLOAT_TYPES.has(types.get(out) ?? 0)) active.add(out);
  }
  const needed = new Set(outputs.filter((name) => active.has(name)));
  const path: NodeProto[] = [];
  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n];
    if (!(node.output ?? []).some((name) => needed.has(name))) continue;
    const reads = (node.input ?? []).filter((name) => active.has(name));
    if (reads.length === 0) continue;
    path.push(node);
    for (const name of reads) needed.add(name);
  }
  path.reverse();
  return {
    nodes: path,
    unsupported: path.filter((node) => !Object.hasOwn(GRADIENT_RULES, node.opType) || isCustomDomain(node)),
    active,
    needed,
    types,
  };
}

function isCustomDomain(node: NodeProto): boolean {
  return node.domain !== undefined && node.domain !== '' && node.domain !== 'ai.onnx';
}

/**
 * Element types of every tensor, inferred forward from the graph inputs, initializers and Constant nodes.
 * Only float-or-not matters here, so ops default to their first typed input's type.
 */
export function elementTypes(model: ModelProto): Map<string, number> {
  const graph = model.graph ?? {};
  const types = new Map<string, number>();
  for (const v of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const t = v.type?.tensorType?.elemType;
    if (t) types.set(v.name, t);
  }
  for (const t of graph.initializer ?? []) if (t.name && t.dataType) types.set(t.name, t.dataType);
  for (const node of graph.node ?? []) {
    const outs = node.output ?? [];
    const first = (node.input ?? []).map((name) => types.get(name)).find((t) => t !== undefined);
    const main = outputType(node, first, types);
    outs.forEach((name, i) => {
      if (!name || types.has(name)) return;
      const secondary =
        (node.opType === 'MaxPool' || node.opType === 'TopK') && i === 1
          ? DataType.INT64
          : node.opType === 'Dropout' && i === 1
            ? DataType.BOOL
            : main;
      if (secondary !== undefined) types.set(name, secondary);
    });
  }
  return types;
}

function outputType(
  node: NodeProto,
  first: number | undefined,
  types: Map<string, number>,
): number | undefined {
  if (INTEGER_OUTPUT.has(node.opType)) return DataType.INT64;
  if (BOOLEAN_OUTPUT.has(node.opType)) return DataType.BOOL;
  switch (node.opType) {
    case 'Cast':
      return attrInt(node, 'to', DataType.FLOAT);
    case 'CastLike':
      return types.get(node.input?.[1] ?? '');
    case 'Constant':
    case 'ConstantOfShape':
      return (
        attrTensor(node, 'value')?.dataType ??
        (node.opType === 'Constant' ? constantType(node) : DataType.FLOAT)
      );
    case 'Where':
      return types.get(node.input?.[1] ?? '') ?? types.get(node.input?.[2] ?? '');
    default:
      return first;
  }
}

function constantType(node: NodeProto): number {
  const name = node.attribute?.[0]?.name ?? '';
  return name.startsWith('value_int') ? DataType.INT64 : name.startsWith('value_float') ? DataType.FLOAT : 0;
}
