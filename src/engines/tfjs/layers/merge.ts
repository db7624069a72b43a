/** Merge layers: elementwise sums, differences, products and means, and concatenation. */
import { SightlineError } from '../../../core/errors.js';
import { attr } from '../../onnx/proto.js';
import type { LayerCall, LayerRule, Layout, Value } from '../context.js';
import { onnxAxis } from '../context.js';
import { unsupported } from './config.js';

/** The inputs in one layout (the first's) and the broadcast output shape; all must have the same rank. */
function aligned(call: LayerCall, minimum: number): { layout: Layout; shape: number[] } {
  const { inputs } = call;
  if (inputs.length < minimum) {
    throw new SightlineError(
      'MODEL_SHAPE',
      `TF.js layer '${call.name}' (${call.className}) needs at least ${minimum} inputs; got ${inputs.length}.`,
      { layer: call.name },
    );
  }
  const rank = inputs[0].shape.length;
  if (inputs.some((v) => v.shape.length !== rank)) {
    throw unsupported(
      call,
      `merges inputs of different ranks (${inputs.map((v) => `[N, ${v.shape.join(', ')}]`).join(', ')})`,
    );
  }
  return {
    layout: inputs[0].layout,
    shape: inputs[0].shape.map((_, i) => Math.max(...inputs.map((v) => v.shape[i]))),
  };
}

function elementwise(op: 'Add' | 'Sub' | 'Mul', exactlyTwo = false): LayerRule {
  return (call, ctx) => {
    const { layout, shape } = aligned(call, 2);
    if (exactlyTwo && call.inputs.length !== 2)
      throw unsupported(call, `has ${call.inputs.length} inputs; expected 2`);
    const names = call.inputs.map((v) => ctx.as(v, layout));
    let name = names[0];
    for (let i = 1; i < names.length; i++) {
      name = ctx.node(op, [name, names[i]], [], i === names.length - 1 ? call.path : `${call.path}/${i}`);
    }
    return { name, shape, layout };
  };
}

export const add = /* @__PURE__ */ elementwise('Add');
export const subtract = /* @__PURE__ */ elementwise('Sub', true);
export const multiply = /* @__PURE__ */ elementwise('Mul');

export const average: LayerRule = (call, ctx) => {
  const sum = add({ ...call, path: `${call.path}/sum` }, ctx) as Value;
  return { ...sum, name: ctx.node('Mul', [sum.name, ctx.scalar(1 / call.inputs.length)], [], call.path) };
};

/** Concatenate along Keras axis `axis` (default −1, the channels); images stay in the first input's layout. */
export const concatenate: LayerRule = (call, ctx) => {
  const { layout } = aligned(call, 1);
  const first = call.inputs[0];
  const given = call.config.axis ?? -1;
  if (typeof given !== 'number' || !Number.isInteger(given))
    throw unsupported(call, `has axis ${JSON.stringify(given)}`);
  const rank = first.shape.length + 1;
  const kerasAxis = (given < 0 ? given + rank : given) - 1;
  const shape = [...first.shape];
  for (const v of call.inputs.slice(1)) {
    const fits = v.shape.every((d, i) => i === kerasAxis || d === first.shape[i]);
    if (!fits) {
      throw new SightlineError(
        'MODEL_SHAPE',
        `TF.js layer '${call.name}' (Concatenate) joins [N, ${first.shape.join(', ')}] and [N, ${v.shape.join(', ')}] along axis ${given}; the other axes must match.`,
        { layer: call.name },
      );
    }
    shape[kerasAxis] += v.shape[kerasAxis];
  }
  const names = call.inputs.map((v) => ctx.as(v, layout));
  const axis = onnxAxis({ ...first, layout }, given, call);
  return { name: ctx.node('Concat', names, [attr('axis', axis)], call.path), shape, layout };
};
