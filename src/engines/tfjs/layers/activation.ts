/**
 * Activations, as a layer's `activation` field and as layers of their own (Activation, ReLU, LeakyReLU, ELU,
 * Softmax). Each is written with ONNX ops the autodiff transform differentiates, in the value's own layout
 * (all of them are elementwise, except softmax, whose axis follows the layout).
 */
import { attr } from '../../onnx/proto.js';
import type { ConversionContext, LayerCall, LayerRule, Value } from '../context.js';
import { onnxAxis } from '../context.js';
import { configActivation, configNumber, unsupported } from './config.js';

// SELU's constants (Klambauer et al., 2017), as TF.js uses them.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** The activation names the converter knows, normalised (lower case, no underscores). */
export const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hardsigmoid',
  'tanh',
  'softmax',
  'logsoftmax',
  'swish',
  'silu',
  'softplus',
  'softsign',
  'mish',
  'gelu',
] as const;

/** Applies activation `name` (as TF.js or Keras spells it) to `x`; the last node's output is named `hint`. */
export function activate(
  ctx: ConversionContext,
  x: Value,
  name: string,
  hint: string,
  call: LayerCall,
): Value {
  const kind = name.toLowerCase().replace(/_/g, '');
  const out = (n: string): Value => ({ ...x, name: n });
  const unary = (op: string, input = x.name, attributes = [] as ReturnType<typeof attr>[]) =>
    ctx.node(op, [input], attributes, hint);
  switch (kind) {
    case 'linear':
      return x;
    case 'relu':
      return out(unary('Relu'));
    case 'relu6':
      return out(ctx.node('Clip', [x.name, ctx.scalar(0), ctx.scalar(6)], [], hint));
    case 'elu':
      return out(unary('Elu', x.name, [attr('alpha', 1, 'float')]));
    case 'selu': {
      const elu = ctx.node('Elu', [x.name], [attr('alpha', SELU_ALPHA, 'float')], `${hint}/elu`);
      return out(ctx.node('Mul', [elu, ctx.scalar(SELU_SCALE)], [], hint));
    }
    case 'sigmoid':
      return out(unary('Sigmoid'));
    case 'hardsigmoid':
      // TF.js: clip(0.2·x + 0.5, 0, 1), ONNX's HardSigmoid with its default alpha and beta.
      return out(unary('HardSigmoid', x.name, [attr('alpha', 0.2, 'float'), attr('beta', 0.5, 'float')]));
    case 'tanh':
      return out(unary('Tanh'));
    case 'softmax':
    case 'logsoftmax':
      return out(
        unary(kind === 'softmax' ? 'Softmax' : 'LogSoftmax', x.name, [attr('axis', onnxAxis(x, -1, call))]),
      );
    case 'swish':
    case 'silu': {
      const gate = ctx.node('Sigmoid', [x.name], [], `${hint}/sigmoid`);
      return out(ctx.node('Mul', [x.name, gate], [], hint));
    }
    case 'softplus':
      return out(softplus(ctx, x.name, hint));
    case 'softsign': {
      const abs = ctx.node('Abs', [x.name], [], `${hint}/abs`);
      const denominator = ctx.node('Add', [abs, ctx.scalar(1)], [], `${hint}/denominator`);
      return out(ctx.node('Div', [x.name, denominator], [], hint));
    }
    case 'mish': {
      const tanh = ctx.node('Tanh', [softplus(ctx, x.name, `${hint}/softplus`)], [], `${hint}/tanh`);
      return out(ctx.node('Mul', [x.name, tanh], [], hint));
    }
    case 'gelu': {
      // x · Φ(x) = x · (1 + erf(x / √2)) / 2, TF.js' exact form.
      const scaled = ctx.node('Mul', [x.name, ctx.scalar(Math.SQRT1_2)], [], `${hint}/scaled`);
      const erf = ctx.node('Erf', [scaled], [], `${hint}/erf`);
      const cdf = ctx.node('Add', [erf, ctx.scalar(1)], [], `${hint}/cdf`);
      const product = ctx.node('Mul', [x.name, cdf], [], `${hint}/product`);
      return out(ctx.node('Mul', [product, ctx.scalar(0.5)], [], hint));
    }
    default:
      throw unsupported(call, `uses activation '${name}'`);
  }
}

/** log(1 + eˣ) written as relu(x) + log(1 + e^−|x|), which neither overflows nor loses small values. */
function softplus(ctx: ConversionContext, x: string, hint: string): string {
  const abs = ctx.node('Abs', [x], [], `${hint}/abs`);
  const negative = ctx.node('Neg', [abs], [], `${hint}/neg`);
  const exp = ctx.node('Exp', [negative], [], `${hint}/exp`);
  const log = ctx.node(
    'Log',
    [ctx.node('Add', [exp, ctx.scalar(1)], [], `${hint}/plus1`)],
    [],
    `${hint}/log`,
  );
  const relu = ctx.node('Relu', [x], [], `${hint}/relu`);
  return ctx.node('Add', [relu, log], [], hint);
}

/** A layer's own `activation` field, applied to what the layer computed. */
export function fusedActivation(ctx: ConversionContext, x: Value, call: LayerCall): Value {
  return activate(ctx, x, configActivation(call), `${call.path}/${configActivation(call)}`, call);
}

export const activationLayer: LayerRule = (call, ctx) =>
  activate(ctx, call.inputs[0], configActivation(call), call.path, call);

/** ReLU(max_value, negative_slope, threshold): Relu, Clip or LeakyRelu; a threshold is not supported. */
export const reluLayer: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  const maxValue = call.config.max_value;
  const slope = configNumber(call, 'negative_slope', 0);
  if (configNumber(call, 'threshold', 0) !== 0) throw unsupported(call, 'has a non-zero threshold');
  if (slope !== 0) {
    if (maxValue !== undefined && maxValue !== null)
      throw unsupported(call, 'has both max_value and negative_slope');
    return { ...x, name: ctx.node('LeakyRelu', [x.name], [attr('alpha', slope, 'float')], call.path) };
  }
  if (maxValue === undefined || maxValue === null)
    return { ...x, name: ctx.node('Relu', [x.name], [], call.path) };
  const max = configNumber(call, 'max_value', Infinity);
  return { ...x, name: ctx.node('Clip', [x.name, ctx.scalar(0), ctx.scalar(max)], [], call.path) };
};

export const leakyReluLayer: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  // TF.js' LeakyReLU defaults alpha to 0.3 (Keras 3 renamed it negative_slope).
  const alpha = configNumber(call, 'alpha', configNumber(call, 'negative_slope', 0.3));
  return { ...x, name: ctx.node('LeakyRelu', [x.name], [attr('alpha', alpha, 'float')], call.path) };
};

export const eluLayer: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  const alpha = configNumber(call, 'alpha', 1);
  return { ...x, name: ctx.node('Elu', [x.name], [attr('alpha', alpha, 'float')], call.path) };
};

export const softmaxLayer: LayerRule = (call, ctx) => {
  const x = call.inputs[0];
  const given = call.config.axis;
  const axis = Array.isArray(given) ? (given.length === 1 ? given[0] : Number.NaN) : (given ?? -1);
  if (typeof axis !== 'number' || !Number.isInteger(axis))
    throw unsupported(call, `has axis ${JSON.stringify(given)}`);
  return { ...x, name: ctx.node('Softmax', [x.name], [attr('axis', onnxAxis(x, axis, call))], call.path) };
};
