/**
 * Every op the autodiff transform can differentiate, by ONNX op type: the single, hand-kept list of what
 * is supported (a test guards it against duplicates and gaps).
 */
import type { GradientRule } from './rule.js';
import {
  clip,
  elu,
  erf,
  gelu,
  hardSigmoid,
  hardSwish,
  leakyRelu,
  prelu,
  relu,
  sigmoid,
  tanh,
} from './rules/activation.js';
import { abs, add, div, exp, log, mul, neg, pow, reciprocal, sqrt, sub } from './rules/arithmetic.js';
import { conv } from './rules/conv.js';
import { gemm, matMul } from './rules/linear.js';
import { batchNormalization, layerNormalization } from './rules/normalization.js';
import { averagePool, maxPool } from './rules/pool.js';
import { globalAveragePool, globalMaxPool, reduceMax, reduceMean, reduceSum } from './rules/reduce.js';
import { resize } from './rules/resize.js';
import { concat, gather, pad, slice, split } from './rules/select.js';
import { cast, expand, passThrough, reshapeBack, transpose } from './rules/shape.js';
import { logSoftmax, softmax } from './rules/softmax.js';

export const GRADIENT_RULES: Readonly<Record<string, GradientRule>> = {
  // Linear layers
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  // Activations
  Relu: relu,
  Clip: clip,
  LeakyRelu: leakyRelu,
  PRelu: prelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Elu: elu,
  Erf: erf,
  Gelu: gelu,
  // Arithmetic
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Pow: pow,
  Sqrt: sqrt,
  Reciprocal: reciprocal,
  Neg: neg,
  Exp: exp,
  Log: log,
  Abs: abs,
  // Normalization
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  // Pooling and reductions
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  ReduceMean: reduceMean,
  ReduceSum: reduceSum,
  ReduceMax: reduceMax,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  // Shape and selection
  Identity: passThrough,
  Dropout: passThrough,
  Cast: cast,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Expand: expand,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Pad: pad,
  Resize: resize,
};
