/**
 * A target (core/targets.ts) written as a few ONNX nodes after the model's output, so the autodiff
 * differentiates through it and one seed of 1 on the new [N, 1] output drives every gradient and CAM method.
 * The head multiplies by the same weights the TypeScript evaluation uses (targetWeights):
 *   segment:    y = flatten(out) · w                      (w: the mask at class c, C·h·w × 1)
 *   similarity: y = (flatten(e) · r̂) / √(flatten(e)² · 1 + ε)
 * Only Flatten, MatMul, Mul, Add, Sqrt and Div, which every opset since 9 has and autodiff/rules cover; a
 * MatMul by a column instead of Mul + ReduceSum also avoids ReduceSum's axes moving from an attribute to an
 * input at opset 13.
 */
import { COSINE_EPSILON, type OutputTarget, targetWeights, targetWidth } from '../../core/targets.js';
import { attr, floatTensor, type ModelProto, type NodeProto, type TensorProto, valueInfo } from './proto.js';

/** The name of the head's output: prefixed so it cannot meet a name the exporter chose. */
export const TARGET_OUTPUT = 'sightline_target/value';

/** The model with `target`'s head after `output`: its one graph output is TARGET_OUTPUT, [N, 1]. */
export function appendTargetHead(proto: ModelProto, output: string, target: OutputTarget): ModelProto {
  const p = (name: string) => `sightline_target/${name}`;
  const k = targetWidth(target);
  const inits: TensorProto[] = [floatTensor(p('weights'), [k, 1], targetWeights(target))];
  const nodes: NodeProto[] = [
    { opType: 'Flatten', input: [output], output: [p('flat')], attribute: [attr('axis', 1)] },
  ];
  if (target.kind === 'segment') {
    nodes.push({ opType: 'MatMul', input: [p('flat'), p('weights')], output: [TARGET_OUTPUT] });
  } else {
    inits.push(
      floatTensor(p('ones'), [k, 1], new Float32Array(k).fill(1)),
      floatTensor(p('epsilon'), [], Float32Array.of(COSINE_EPSILON)),
    );
    nodes.push(
      { opType: 'MatMul', input: [p('flat'), p('weights')], output: [p('dot')] },
      { opType: 'Mul', input: [p('flat'), p('flat')], output: [p('squares')] },
      { opType: 'MatMul', input: [p('squares'), p('ones')], output: [p('sum')] },
      { opType: 'Add', input: [p('sum'), p('epsilon')], output: [p('padded')] },
      { opType: 'Sqrt', input: [p('padded')], output: [p('norm')] },
      { opType: 'Div', input: [p('dot'), p('norm')], output: [TARGET_OUTPUT] },
    );
  }
  const graph = proto.graph ?? {};
  return {
    ...proto,
    graph: {
      ...graph,
      node: [...(graph.node ?? []), ...nodes],
      initializer: [...(graph.initializer ?? []), ...inits],
      output: [valueInfo(TARGET_OUTPUT, ['N', 1])],
    },
  };
}
