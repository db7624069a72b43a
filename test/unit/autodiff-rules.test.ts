/**
 * Every gradient rule against central differences on a tiny graph built here. The forward graphs run in
 * float32, so inputs are well conditioned (distinct values for max pooling, positive ones for log/sqrt)
 * and the comparison is relative to the largest gradient element.
 */
import { describe, expect, test } from 'vitest';
import { attr, floatTensor, int64Tensor, type ModelProto } from '../../src/engines/onnx/proto.js';
import { compareGradient, distinctTensor, randomTensor } from '../helpers/autodiff-check.js';
import { graph, ints, node, weights } from '../helpers/autodiff-graphs.js';

interface Case {
  readonly name: string;
  readonly model: ModelProto;
  /** Input dims after the batch axis of 1. */
  readonly input: readonly number[];
  readonly values?: 'signed' | 'distinct' | 'positive';
  readonly step?: number;
  readonly separate?: boolean;
  readonly tolerance?: number;
}

function conv(
  input: number[],
  w: number[],
  attributes: ReturnType<typeof attr>[],
  bias = false,
): Case['model'] {
  return graph({
    input,
    nodes: [node('Conv', bias ? ['x', 'w', 'b'] : ['x', 'w'], attributes)],
    initializers: [weights('w', w, 3), ...(bias ? [weights('b', [w[0]], 4)] : [])],
  });
}

const CONV: Case[] = [
  {
    name: '3×3, pad 1, bias',
    model: conv([2, 6, 6], [3, 2, 3, 3], [attr('pads', [1, 1, 1, 1])], true),
    input: [2, 6, 6],
  },
  {
    name: 'stride 2, pad 1',
    model: conv([2, 7, 7], [3, 2, 3, 3], [attr('strides', [2, 2]), attr('pads', [1, 1, 1, 1])]),
    input: [2, 7, 7],
  },
  {
    name: '1×1, stride 2 (empty phases)',
    model: conv([3, 6, 6], [4, 3, 1, 1], [attr('strides', [2, 2])]),
    input: [3, 6, 6],
  },
  {
    name: 'dilation 2, pad 2',
    model: conv([2, 7, 7], [2, 2, 3, 3], [attr('dilations', [2, 2]), attr('pads', [2, 2, 2, 2])]),
    input: [2, 7, 7],
  },
  {
    name: 'dilation 2, stride 2',
    model: conv(
      [2, 9, 9],
      [2, 2, 3, 3],
      [attr('dilations', [2, 2]), attr('strides', [2, 2]), attr('pads', [1, 2, 1, 0])],
    ),
    input: [2, 9, 9],
  },
  {
    name: 'dilation 2, stride 3',
    model: conv([1, 11, 10], [2, 1, 3, 2], [attr('dilations', [2, 2]), attr('strides', [3, 3])]),
    input: [1, 11, 10],
  },
  {
    name: 'groups 2',
    model: conv([4, 5, 5], [6, 2, 3, 3], [attr('group', 2), attr('pads', [1, 1, 1, 1])]),
    input: [4, 5, 5],
  },
  {
    name: 'depthwise, stride 2',
    model: conv(
      [3, 8, 8],
      [3, 1, 3, 3],
      [attr('group', 3), attr('strides', [2, 2]), attr('pads', [1, 1, 1, 1])],
    ),
    input: [3, 8, 8],
  },
  {
    name: 'depthwise multiplier 2',
    model: conv([2, 6, 6], [4, 1, 3, 3], [attr('group', 2), attr('pads', [1, 1, 1, 1])]),
    input: [2, 6, 6],
  },
  {
    name: 'groups 2, one output per group',
    model: conv([6, 5, 5], [2, 3, 3, 2], [attr('group', 2), attr('pads', [1, 0, 1, 1])]),
    input: [6, 5, 5],
  },
  {
    // Not an initializer (as a DequantizeLinear's output is not): read from the probe, flipped here.
    name: 'weights computed from constants in the graph',
    model: graph({
      input: [2, 5, 5],
      nodes: [
        node('Mul', ['w0', 'half']),
        node('Conv', ['x', 'mul_out'], [attr('group', 2), attr('pads', [1, 1, 1, 1])]),
      ],
      initializers: [weights('w0', [4, 1, 3, 3], 3), weights('half', [1], 5)],
    }),
    input: [2, 5, 5],
  },
  {
    name: 'depthwise 3×1, one channel',
    model: conv([1, 5, 4], [1, 1, 3, 1], [attr('pads', [1, 0, 1, 0])]),
    input: [1, 5, 4],
  },
  {
    name: 'auto_pad SAME_UPPER, stride 2',
    model: conv([2, 7, 7], [2, 2, 4, 4], [attr('auto_pad', 'SAME_UPPER'), attr('strides', [2, 2])]),
    input: [2, 7, 7],
  },
  {
    name: 'auto_pad SAME_LOWER',
    model: conv([2, 6, 6], [2, 2, 2, 2], [attr('auto_pad', 'SAME_LOWER')]),
    input: [2, 6, 6],
  },
  {
    name: 'auto_pad VALID, stride 2',
    model: conv([2, 7, 7], [2, 2, 3, 3], [attr('auto_pad', 'VALID'), attr('strides', [2, 2])]),
    input: [2, 7, 7],
  },
  {
    name: 'asymmetric pads, strides 2×1',
    model: conv([2, 7, 6], [3, 2, 3, 2], [attr('pads', [0, 1, 2, 0]), attr('strides', [2, 1])]),
    input: [2, 7, 6],
  },
  {
    name: 'stride 3 past a kernel of 2 (untouched inputs)',
    model: conv([1, 8, 8], [2, 1, 2, 2], [attr('strides', [3, 3])]),
    input: [1, 8, 8],
  },
  {
    name: 'padding wider than the kernel',
    model: conv([2, 5, 5], [2, 2, 1, 1], [attr('pads', [2, 1, 0, 2])]),
    input: [2, 5, 5],
  },
  {
    name: '1-D, stride 3, kernel 5',
    model: conv([2, 13], [3, 2, 5], [attr('strides', [3]), attr('pads', [2, 1])]),
    input: [2, 13],
  },
];

function binary(
  op: string,
  a: string,
  b: string,
  initializers: ReturnType<typeof weights>[],
  input: number[],
): Case['model'] {
  return graph({ input, nodes: [node(op, [a, b])], initializers });
}

function unary(op: string, attributes: ReturnType<typeof attr>[] = [], opset = 17): Case['model'] {
  return graph({ input: [3, 4], nodes: [node(op, ['x'], attributes)], opset });
}

const LINEAR: Case[] = [
  {
    name: 'Gemm',
    model: graph({
      input: [4],
      nodes: [
        node(
          'Gemm',
          ['x', 'w', 'c'],
          [attr('transB', 1), attr('alpha', 0.5, 'float'), attr('beta', 2, 'float')],
        ),
      ],
      initializers: [weights('w', [3, 4], 5), weights('c', [3], 6)],
    }),
    input: [4],
  },
  {
    name: 'Gemm transA, no C',
    model: graph({
      input: [4],
      nodes: [node('Transpose', ['x']), node('Gemm', ['transpose_out', 'w'], [attr('transA', 1)])],
      initializers: [weights('w', [4, 3], 5)],
    }),
    input: [4],
  },
  {
    name: 'Gemm with the input as B',
    model: graph({
      input: [4],
      nodes: [
        node('Gemm', ['w', 'x'], [attr('transB', 1), attr('alpha', 1.5, 'float')]),
        node('Transpose', ['gemm_out']),
      ],
      initializers: [weights('w', [3, 4], 5)],
    }),
    input: [4],
  },
  {
    name: 'Gemm, both operands from the input',
    model: graph({ input: [3], nodes: [node('Gemm', ['x', 'x'], [attr('transA', 1)])] }),
    input: [3],
    separate: true,
  },
  { name: 'MatMul', model: binary('MatMul', 'x', 'w', [weights('w', [4, 3], 5)], [4]), input: [4] },
  {
    name: 'MatMul, batched and broadcast',
    model: binary('MatMul', 'x', 'w', [weights('w', [2, 4, 5], 5)], [1, 3, 4]),
    input: [1, 3, 4],
  },
  {
    name: 'MatMul with a 1-D right operand',
    model: binary('MatMul', 'x', 'w', [weights('w', [4], 5)], [3, 4]),
    input: [3, 4],
  },
  {
    name: 'MatMul of the input with its transpose',
    model: graph({
      input: [3, 4],
      nodes: [node('Transpose', ['x'], [attr('perm', [0, 2, 1])]), node('MatMul', ['x', 'transpose_out'])],
    }),
    input: [3, 4],
  },
];

const ACTIVATIONS: Case[] = [
  { name: 'Relu', model: unary('Relu'), input: [3, 4] },
  {
    name: 'Clip (inputs)',
    model: graph({
      input: [3, 4],
      nodes: [node('Clip', ['x', 'lo', 'hi'])],
      initializers: [
        floatTensor('lo', [], new Float32Array([-0.4])),
        floatTensor('hi', [], new Float32Array([0.5])),
      ],
    }),
    input: [3, 4],
  },
  {
    name: 'Clip (max only)',
    model: graph({
      input: [3, 4],
      nodes: [node('Clip', ['x', '', 'hi'])],
      initializers: [floatTensor('hi', [], new Float32Array([0.3]))],
    }),
    input: [3, 4],
  },
  {
    name: 'Clip (attributes, opset 10)',
    model: unary('Clip', [attr('min', -0.2, 'float'), attr('max', 0.6, 'float')], 10),
    input: [3, 4],
  },
  { name: 'LeakyRelu', model: unary('LeakyRelu', [attr('alpha', 0.2, 'float')]), input: [3, 4] },
  {
    name: 'PRelu',
    model: binary('PRelu', 'x', 's', [weights('s', [3, 1], 8, 0.1, 0.5)], [3, 4]),
    input: [3, 4],
  },
  { name: 'Sigmoid', model: unary('Sigmoid'), input: [3, 4] },
  { name: 'Tanh', model: unary('Tanh'), input: [3, 4] },
  { name: 'HardSigmoid', model: unary('HardSigmoid', [attr('alpha', 0.7, 'float')]), input: [3, 4] },
  {
    name: 'HardSwish',
    model: graph({
      input: [3, 4],
      nodes: [node('Mul', ['x', 'k']), node('HardSwish', ['mul_out'])],
      initializers: [floatTensor('k', [], new Float32Array([5]))],
    }),
    input: [3, 4],
  },
  { name: 'Elu', model: unary('Elu', [attr('alpha', 0.8, 'float')]), input: [3, 4] },
  { name: 'Erf', model: unary('Erf'), input: [3, 4] },
  { name: 'Gelu', model: unary('Gelu', [], 20), input: [3, 4] },
  { name: 'Gelu (tanh)', model: unary('Gelu', [attr('approximate', 'tanh')], 20), input: [3, 4] },
  { name: 'Neg', model: unary('Neg'), input: [3, 4] },
  { name: 'Exp', model: unary('Exp'), input: [3, 4] },
  { name: 'Log', model: unary('Log'), input: [3, 4], values: 'positive' },
  { name: 'Abs', model: unary('Abs'), input: [3, 4] },
  { name: 'Sqrt', model: unary('Sqrt'), input: [3, 4], values: 'positive' },
  {
    name: 'Pow (exponent 3)',
    model: binary('Pow', 'x', 'p', [floatTensor('p', [], new Float32Array([3]))], [3, 4]),
    input: [3, 4],
  },
  {
    // An integer exponent: the rule casts it to float32 in the graph.
    name: 'Pow (int64 exponent 2)',
    model: binary('Pow', 'x', 'p', [int64Tensor('p', [], [2])], [3, 4]),
    input: [3, 4],
  },
  {
    name: 'Pow (per-column exponents)',
    model: binary('Pow', 'x', 'p', [weights('p', [4], 9, 0.5, 2.5)], [3, 4]),
    input: [3, 4],
    values: 'positive',
  },
  { name: 'Identity', model: unary('Identity'), input: [3, 4] },
  { name: 'Dropout', model: unary('Dropout'), input: [3, 4] },
  { name: 'Cast float → float', model: unary('Cast', [attr('to', 1)]), input: [3, 4] },
  {
    name: 'Cast through double and back',
    model: graph({
      input: [3, 4],
      nodes: [
        node('Cast', ['x'], [attr('to', 11)], ['wide']),
        node('Exp', ['wide']),
        node('Cast', ['exp_out'], [attr('to', 1)], ['narrow']),
      ],
    }),
    input: [3, 4],
  },
];

const ARITHMETIC: Case[] = [
  {
    name: 'Add, broadcast constant',
    model: binary('Add', 'x', 'c', [weights('c', [3, 1, 1], 10)], [3, 2, 2]),
    input: [3, 2, 2],
  },
  {
    name: 'Sub, constant minus input',
    model: binary('Sub', 'c', 'x', [weights('c', [2], 10)], [3, 2]),
    input: [3, 2],
  },
  {
    name: 'Mul, broadcast constant',
    model: binary('Mul', 'c', 'x', [weights('c', [1, 3, 1], 10)], [2, 3, 4]),
    input: [2, 3, 4],
  },
  {
    name: 'Div, constant over input',
    model: binary('Div', 'c', 'x', [weights('c', [4], 10)], [3, 4]),
    input: [3, 4],
    values: 'positive',
  },
  {
    name: 'Mul and Div, both operands from the input, broadcast',
    model: graph({
      input: [3, 4],
      nodes: [
        node('ReduceMean', ['x'], [attr('axes', [2]), attr('keepdims', 1)]),
        node('Mul', ['x', 'reducemean_out']),
        node('ReduceSum', ['x', 'axis1']),
        node('Add', ['reducesum_out', 'two']),
        node('Div', ['mul_out', 'add_out']),
        node('Sub', ['div_out', 'reducemean_out']),
      ],
      initializers: [ints('axis1', [1]), floatTensor('two', [], new Float32Array([2]))],
    }),
    input: [3, 4],
    values: 'positive',
  },
];

const NORMALIZATION: Case[] = [
  {
    name: 'BatchNormalization',
    model: graph({
      input: [3, 2, 2],
      nodes: [node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], [attr('epsilon', 1e-3, 'float')])],
      initializers: [
        weights('s', [3], 11),
        weights('b', [3], 12),
        weights('m', [3], 13),
        weights('v', [3], 14, 0.2, 2),
      ],
    }),
    input: [3, 2, 2],
  },
  {
    name: 'LayerNormalization, last axis',
    model: graph({
      input: [3, 5],
      nodes: [node('LayerNormalization', ['x', 's', 'b'])],
      initializers: [weights('s', [5], 15), weights('b', [5], 16)],
    }),
    input: [3, 5],
  },
  {
    name: 'LayerNormalization, last two axes (opset 18)',
    model: graph({
      input: [2, 3, 4],
      opset: 18,
      nodes: [node('LayerNormalization', ['x', 's'], [attr('axis', -2)])],
      initializers: [weights('s', [3, 4], 15)],
    }),
    input: [2, 3, 4],
  },
];

function pool(op: string, attributes: ReturnType<typeof attr>[], input: number[], opset = 17): Case['model'] {
  return graph({ input, nodes: [node(op, ['x'], attributes)], opset });
}

const POOLING: Case[] = [
  {
    name: 'MaxPool 3×3 stride 2 pad 1 (overlapping)',
    model: pool(
      'MaxPool',
      [attr('kernel_shape', [3, 3]), attr('strides', [2, 2]), attr('pads', [1, 1, 1, 1])],
      [2, 7, 7],
    ),
    input: [2, 7, 7],
    values: 'distinct',
  },
  {
    name: 'MaxPool 2×2 stride 2',
    model: pool('MaxPool', [attr('kernel_shape', [2, 2]), attr('strides', [2, 2])], [2, 6, 6]),
    input: [2, 6, 6],
    values: 'distinct',
  },
  {
    name: 'MaxPool ceil mode',
    model: pool(
      'MaxPool',
      [attr('kernel_shape', [3, 3]), attr('strides', [2, 2]), attr('ceil_mode', 1)],
      [1, 6, 6],
    ),
    input: [1, 6, 6],
    values: 'distinct',
  },
  {
    name: 'MaxPool dilated',
    model: pool(
      'MaxPool',
      [attr('kernel_shape', [2, 2]), attr('dilations', [2, 2]), attr('pads', [1, 0, 1, 0])],
      [1, 6, 6],
    ),
    input: [1, 6, 6],
    values: 'distinct',
  },
  {
    name: 'MaxPool at opset 13 (raised to 16)',
    model: pool('MaxPool', [attr('kernel_shape', [3, 3]), attr('strides', [1, 1])], [1, 5, 5], 13),
    input: [1, 5, 5],
    values: 'distinct',
  },
  {
    name: 'MaxPool non-overlapping at opset 11',
    model: pool('MaxPool', [attr('kernel_shape', [2, 2]), attr('strides', [2, 2])], [1, 4, 4], 11),
    input: [1, 4, 4],
    values: 'distinct',
  },
  {
    name: 'AveragePool pad 1, excluding pads',
    model: pool(
      'AveragePool',
      [attr('kernel_shape', [3, 3]), attr('strides', [2, 2]), attr('pads', [1, 1, 1, 1])],
      [2, 7, 7],
    ),
    input: [2, 7, 7],
  },
  {
    name: 'AveragePool pad 1, counting pads',
    model: pool(
      'AveragePool',
      [
        attr('kernel_shape', [3, 3]),
        attr('strides', [2, 2]),
        attr('pads', [1, 1, 1, 1]),
        attr('count_include_pad', 1),
      ],
      [2, 7, 7],
    ),
    input: [2, 7, 7],
  },
  {
    name: 'AveragePool ceil mode, excluding pads',
    model: pool(
      'AveragePool',
      [
        attr('kernel_shape', [3, 3]),
        attr('strides', [2, 2]),
        attr('ceil_mode', 1),
        attr('pads', [1, 0, 1, 0]),
      ],
      [1, 6, 6],
    ),
    input: [1, 6, 6],
  },
  {
    name: 'AveragePool ceil mode, counting pads',
    model: pool(
      'AveragePool',
      [
        attr('kernel_shape', [3, 2]),
        attr('strides', [2, 2]),
        attr('ceil_mode', 1),
        attr('pads', [1, 1, 0, 1]),
        attr('count_include_pad', 1),
      ],
      [1, 6, 7],
    ),
    input: [1, 6, 7],
  },
  {
    name: 'AveragePool strides 3×1 (general interleave)',
    model: pool(
      'AveragePool',
      [attr('kernel_shape', [4, 2]), attr('strides', [3, 1]), attr('pads', [1, 0, 2, 1])],
      [2, 8, 5],
    ),
    input: [2, 8, 5],
  },
  {
    name: 'AveragePool 1-D, stride 2',
    model: pool(
      'AveragePool',
      [attr('kernel_shape', [3]), attr('strides', [2]), attr('ceil_mode', 1)],
      [2, 8],
    ),
    input: [2, 8],
  },
  {
    name: 'AveragePool 2×2 stride 2',
    model: pool('AveragePool', [attr('kernel_shape', [2, 2]), attr('strides', [2, 2])], [2, 4, 4]),
    input: [2, 4, 4],
  },
  { name: 'GlobalAveragePool', model: pool('GlobalAveragePool', [], [3, 4, 5]), input: [3, 4, 5] },
  {
    name: 'GlobalMaxPool',
    model: pool('GlobalMaxPool', [], [3, 4, 5]),
    input: [3, 4, 5],
    values: 'distinct',
  },
  {
    name: 'ReduceMean, axes attribute, keepdims 0',
    model: pool('ReduceMean', [attr('axes', [1, -1]), attr('keepdims', 0)], [3, 4, 5]),
    input: [3, 4, 5],
  },
  {
    name: 'ReduceMean, axes input (opset 18)',
    model: graph({
      input: [3, 4],
      opset: 18,
      nodes: [node('ReduceMean', ['x', 'axes'])],
      initializers: [ints('axes', [2])],
    }),
    input: [3, 4],
  },
  {
    name: 'ReduceSum, axes input, keepdims 0',
    model: graph({
      input: [3, 4],
      nodes: [node('ReduceSum', ['x', 'axes'], [attr('keepdims', 0)])],
      initializers: [ints('axes', [1])],
    }),
    input: [3, 4],
  },
  {
    name: 'ReduceSum, axes attribute (opset 11)',
    model: pool('ReduceSum', [attr('axes', [2])], [3, 4], 11),
    input: [3, 4],
  },
  {
    name: 'ReduceMax',
    model: pool('ReduceMax', [attr('axes', [2]), attr('keepdims', 0)], [3, 4]),
    input: [3, 4],
    values: 'distinct',
  },
];

function softmaxCase(op: string, axis: number, opset: number): Case {
  return {
    name: `${op} axis ${axis} (opset ${opset})`,
    model: pool(op, [attr('axis', axis)], [3, 4, 2], opset),
    input: [3, 4, 2],
    separate: axis === 0,
  };
}

const SOFTMAX: Case[] = [
  ...[0, 1, 2, 3, -1].map((axis) => softmaxCase('Softmax', axis, 13)),
  ...[1, 2, -1].map((axis) => softmaxCase('LogSoftmax', axis, 17)),
  softmaxCase('Softmax', 1, 11),
  softmaxCase('LogSoftmax', 2, 11),
];

const SHAPES: Case[] = [
  {
    name: 'Flatten',
    model: graph({
      input: [2, 3],
      nodes: [node('Flatten', ['x']), node('MatMul', ['flatten_out', 'w'])],
      initializers: [weights('w', [6, 2], 17)],
    }),
    input: [2, 3],
  },
  {
    name: 'Reshape',
    model: graph({
      input: [2, 3],
      nodes: [node('Reshape', ['x', 'shape']), node('Mul', ['reshape_out', 'w'])],
      initializers: [ints('shape', [0, 3, 2]), weights('w', [3, 2], 17)],
    }),
    input: [2, 3],
  },
  {
    name: 'Squeeze and Unsqueeze',
    model: graph({
      input: [1, 3],
      nodes: [
        node('Squeeze', ['x', 'a1']),
        node('Unsqueeze', ['squeeze_out', 'a2']),
        node('Mul', ['unsqueeze_out', 'w']),
      ],
      initializers: [ints('a1', [1]), ints('a2', [2]), weights('w', [3, 1], 17)],
    }),
    input: [1, 3],
  },
  {
    name: 'Transpose',
    model: graph({
      input: [2, 3, 4],
      nodes: [node('Transpose', ['x'], [attr('perm', [0, 3, 1, 2])]), node('Mul', ['transpose_out', 'w'])],
      initializers: [weights('w', [4, 2, 3], 17)],
    }),
    input: [2, 3, 4],
  },
  {
    name: 'Expand',
    model: graph({
      input: [1, 4],
      nodes: [node('Expand', ['x', 'shape']), node('Mul', ['expand_out', 'w'])],
      initializers: [ints('shape', [1, 3, 4]), weights('w', [3, 4], 17)],
    }),
    input: [1, 4],
  },
  {
    name: 'Concat of the input with itself',
    model: graph({
      input: [2, 3],
      nodes: [
        node('Exp', ['x']),
        node('Concat', ['x', 'x', 'exp_out'], [attr('axis', 1)]),
        node('Mul', ['concat_out', 'w']),
      ],
      initializers: [weights('w', [6, 3], 17)],
    }),
    input: [2, 3],
  },
  {
    name: 'Concat with a constant',
    model: graph({
      input: [2, 3],
      nodes: [node('Concat', ['c', 'x'], [attr('axis', -1)]), node('Mul', ['concat_out', 'w'])],
      initializers: [weights('c', [1, 2, 2], 18), weights('w', [2, 5], 17)],
    }),
    input: [2, 3],
    separate: true,
  },
  {
    name: 'Split, one output unused',
    model: graph({
      input: [5, 2],
      nodes: [node('Split', ['x', 'sizes'], [attr('axis', 1)], ['a', 'b', 'c']), node('Mul', ['a', 'c'])],
      initializers: [ints('sizes', [2, 1, 2])],
    }),
    input: [5, 2],
  },
  {
    name: 'Slice with steps and negative indices',
    model: graph({
      input: [6, 7],
      nodes: [node('Slice', ['x', 'st', 'en', 'ax', 'sp'])],
      initializers: [ints('st', [-1, 1]), ints('en', [-7, 100]), ints('ax', [1, 2]), ints('sp', [-2, 3])],
    }),
    input: [6, 7],
  },
  {
    name: 'Slice, step 1',
    model: graph({
      input: [6, 7],
      nodes: [node('Slice', ['x', 'st', 'en', 'ax'])],
      initializers: [ints('st', [1, -4]), ints('en', [5, -1]), ints('ax', [1, -1])],
    }),
    input: [6, 7],
  },
  {
    name: 'Gather, scalar index',
    model: graph({
      input: [4, 3],
      nodes: [node('Gather', ['x', 'i'], [attr('axis', 1)])],
      initializers: [ints('i', [-2], [])],
    }),
    input: [4, 3],
  },
  {
    name: 'Gather, unordered indices',
    model: graph({
      input: [5, 3],
      nodes: [node('Gather', ['x', 'i'], [attr('axis', 1)])],
      initializers: [ints('i', [3, 0, 4])],
    }),
    input: [5, 3],
  },
  {
    name: 'Pad, constant',
    model: graph({
      input: [2, 3],
      nodes: [node('Pad', ['x', 'p', 'v']), node('Mul', ['pad_out', 'w'])],
      initializers: [
        ints('p', [0, 1, 0, 0, 0, 2]),
        floatTensor('v', [], new Float32Array([0.5])),
        weights('w', [3, 5], 17),
      ],
    }),
    input: [2, 3],
  },
];

function resize(attributes: ReturnType<typeof attr>[], scales: number[]): Case['model'] {
  return graph({
    input: [2, 4, 5],
    nodes: [node('Resize', ['x', '', 'scales'], attributes), node('Mul', ['resize_out', 'w'])],
    initializers: [
      floatTensor('scales', [4], Float32Array.from(scales)),
      weights('w', [Math.floor(4 * scales[2]), Math.floor(5 * scales[3])], 19),
    ],
  });
}

const RESIZE: Case[] = [
  {
    name: 'Resize nearest ×2 (asymmetric, floor)',
    model: resize(
      [attr('coordinate_transformation_mode', 'asymmetric'), attr('nearest_mode', 'floor')],
      [1, 1, 2, 2],
    ),
    input: [2, 4, 5],
  },
  { name: 'Resize nearest ×1.5 (half_pixel)', model: resize([], [1, 1, 1.5, 1.5]), input: [2, 4, 5] },
  {
    name: 'Resize linear ×2 (half_pixel)',
    model: resize([attr('mode', 'linear')], [1, 1, 2, 2]),
    input: [2, 4, 5],
  },
  {
    name: 'Resize linear ×1.75, ×0.6 (align_corners)',
    model: resize(
      [attr('mode', 'linear'), attr('coordinate_transformation_mode', 'align_corners')],
      [1, 1, 1.75, 0.6],
    ),
    input: [2, 4, 5],
  },
  {
    name: 'Resize linear ×0.5 (pytorch_half_pixel)',
    model: resize(
      [attr('mode', 'linear'), attr('coordinate_transformation_mode', 'pytorch_half_pixel')],
      [1, 1, 0.5, 0.5],
    ),
    input: [2, 4, 5],
  },
];

const GROUPS: [string, Case[]][] = [
  ['Conv', CONV],
  ['Gemm and MatMul', LINEAR],
  ['activations and pointwise ops', ACTIVATIONS],
  ['broadcasting arithmetic', ARITHMETIC],
  ['normalization', NORMALIZATION],
  ['pooling and reductions', POOLING],
  ['Softmax and LogSoftmax', SOFTMAX],
  ['shape and selection ops', SHAPES],
  ['Resize', RESIZE],
];

for (const [group, cases] of GROUPS) {
  describe(`gradient rules: ${group}`, () => {
    test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const size = c.input.reduce((a, b) => a * b, 1);
      const x =
        c.values === 'distinct'
          ? distinctTensor(size, 21)
          : c.values === 'positive'
            ? randomTensor(size, 21, 0.5, 2)
            : randomTensor(size, 21);
      const result = await compareGradient(c.model, {
        x,
        dims: [1, ...c.input],
        step: c.step,
        separate: c.separate,
      });
      expect(result.error).toBeLessThan(c.tolerance ?? 2e-3);
    });
  });
}
