/**
 * The autodiff transform as a whole: the rule registry, gradients that meet, shape-only subgraphs,
 * non-float paths, the unsupported-op error, exposed layers and batch independence.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { addGradients, differentiablePath, GRADIENT_RULES } from '../../src/engines/onnx/autodiff/index.js';
import { attr, DataType, floatTensor, type ModelProto, tensorFloats } from '../../src/engines/onnx/proto.js';
import { compareGradient, forward, randomTensor, runGradient } from '../helpers/autodiff-check.js';
import { graph, ints, node, weights } from '../helpers/autodiff-graphs.js';

const REQUIRED = [
  'Conv',
  'Gemm',
  'MatMul',
  'Relu',
  'Clip',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'Elu',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'BatchNormalization',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'ReduceMean',
  'ReduceSum',
  'Flatten',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Concat',
  'Split',
  'Slice',
  'Gather',
  'Pad',
  'Softmax',
  'LogSoftmax',
  'Identity',
  'Dropout',
  'Erf',
  'Gelu',
  'LayerNormalization',
  'Pow',
  'Sqrt',
  'Resize',
  'Expand',
  'Cast',
  'Neg',
  'Exp',
  'Log',
  'Abs',
  'ReduceMax',
];

describe('GRADIENT_RULES', () => {
  test('lists every required op, each once', () => {
    const source = readFileSync(
      new URL('../../src/engines/onnx/autodiff/registry.ts', import.meta.url),
      'utf8',
    );
    const body = source.slice(source.indexOf('GRADIENT_RULES'));
    const keys = [...body.matchAll(/^\s+(\w+): \w+,$/gm)].map((m) => m[1]);
    expect(keys.length).toBe(new Set(keys).size);
    expect(keys.sort()).toEqual(Object.keys(GRADIENT_RULES).sort());
    for (const op of REQUIRED) expect(GRADIENT_RULES, op).toHaveProperty(op);
  });
});

describe('addGradients', () => {
  test('sums gradients that meet at a tensor used three times', async () => {
    const model = graph({
      input: [2, 3],
      nodes: [
        node('Relu', ['x']),
        node('Sigmoid', ['x']),
        node('Mul', ['relu_out', 'sigmoid_out']),
        node('Add', ['mul_out', 'x']),
      ],
    });
    const result = await compareGradient(model, { x: randomTensor(6, 1), dims: [1, 2, 3] });
    expect(result.error).toBeLessThan(2e-3);
    expect(result.graph.model.graph!.node!.some((n) => n.opType === 'Sum')).toBe(true);
  });

  test('passes shape-only subgraphs (Shape → Gather → Concat into Reshape) through untouched', async () => {
    const model = graph({
      input: [2, 3],
      nodes: [
        node('Shape', ['x']),
        node('Gather', ['shape_out', 'zero'], [attr('axis', 0)]),
        node('Unsqueeze', ['gather_out', 'axes']),
        node('Concat', ['unsqueeze_out', 'six'], [attr('axis', 0)]),
        node('Reshape', ['x', 'concat_out']),
        node('MatMul', ['reshape_out', 'w']),
      ],
      initializers: [ints('zero', [0], []), ints('axes', [0]), ints('six', [6]), weights('w', [6, 2], 2)],
    });
    const path = differentiablePath(model, 'x', ['matmul_out']);
    expect(path.nodes.map((n) => n.opType)).toEqual(['Reshape', 'MatMul']);
    const result = await compareGradient(model, { x: randomTensor(6, 1), dims: [1, 2, 3] });
    expect(result.error).toBeLessThan(2e-3);
  });

  test('sends no gradient along integer tensors', async () => {
    const model = graph({
      input: [4],
      nodes: [
        node('Mul', ['x', 'ten']),
        node('Cast', ['mul_out'], [attr('to', DataType.INT64)], ['int']),
        node('Cast', ['int'], [attr('to', DataType.FLOAT)], ['back']),
        node('Add', ['back', 'x']),
      ],
      initializers: [floatTensor('ten', [], new Float32Array([10]))],
    });
    const g = await addGradients(model);
    const seed = Float32Array.from([1, 2, 3, 4]);
    const out = await runGradient(g, randomTensor(4, 3), [1, 4], seed, [1, 4]);
    expect(Array.from(out[g.inputGradientName!].data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  test('names the op and node that has no rule, before building anything', async () => {
    const model = graph({
      input: [3],
      nodes: [node('Relu', ['x']), { opType: 'Sin', name: 'wave', input: ['relu_out'], output: ['y'] }],
    });
    expect(differentiablePath(model, 'x', ['y']).unsupported.map((n) => n.name)).toEqual(['wave']);
    const error = await addGradients(model).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('UNSUPPORTED_OP');
    expect((error as SightlineError).message).toBe(
      "Cannot compute gradients through op 'Sin' (node 'wave'): no gradient rule.",
    );
    expect((error as SightlineError).details).toEqual({ op: 'Sin', node: 'wave' });
  });

  test('names what a rule does not cover', async () => {
    const model = graph({
      input: [3],
      nodes: [node('Resize', ['x', '', 's'], [attr('mode', 'cubic')])],
      initializers: [floatTensor('s', [2], new Float32Array([1, 2]))],
    });
    await expect(addGradients(model)).rejects.toThrow(
      "Cannot compute gradients through op 'Resize' (node 'Resize_node'): mode 'cubic' is not supported.",
    );
  });

  test('rejects unknown inputs and layers off the path', async () => {
    const model = graph({ input: [3], nodes: [node('Relu', ['x'])] });
    await expect(addGradients(model, { input: 'image' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(addGradients(model, { layers: ['w'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('keeps the original outputs and declares the new ones with a symbolic batch', async () => {
    const model = graph({ input: [3], nodes: [node('Relu', ['x']), node('Neg', ['relu_out'])] });
    const g = await addGradients(model, { layers: ['relu_out'] });
    const outputs = g.model.graph!.output!.map((o) => o.name);
    expect(outputs).toEqual([
      'neg_out',
      'sightline_input_gradient',
      'relu_out',
      'sightline_gradient/relu_out',
    ]);
    expect(g.seedName).toBe('sightline_seed');
    const seed = g.model.graph!.input!.find((v) => v.name === 'sightline_seed')!;
    expect(seed.type?.tensorType?.elemType).toBe(DataType.FLOAT);
    const grad = g.model.graph!.output!.find((o) => o.name === 'sightline_input_gradient')!;
    expect(grad.type?.tensorType?.shape?.dim).toEqual([{ dimParam: 'N' }, { dimValue: 3 }]);
    expect(model.graph!.node!.length).toBe(2);
  });

  test('exposes layers with their activations and gradients', async () => {
    // y = W·flatten(relu(conv(x))) + c, so ∂(seed·y)/∂layer = reshape(seedᵀW) where the layer is relu's output.
    const w = weights('w', [2 * 3 * 3, 4], 5);
    const model = graph({
      input: [1, 5, 5],
      nodes: [
        node('Conv', ['x', 'k'], [attr('kernel_shape', [3, 3])]),
        node('Relu', ['conv_out']),
        node('Flatten', ['relu_out']),
        node('Gemm', ['flatten_out', 'w', 'c']),
      ],
      initializers: [weights('k', [2, 1, 3, 3], 4), w, weights('c', [4], 6)],
    });
    const x = randomTensor(25, 7);
    const g = await addGradients(model, { layers: ['relu_out'] });
    expect(g.layers).toEqual([
      { name: 'relu_out', activation: 'relu_out', gradient: 'sightline_gradient/relu_out' },
    ]);
    const seed = Float32Array.from([1, -2, 0.5, 3]);
    const out = await runGradient(g, x, [1, 1, 5, 5], seed, [1, 4]);

    const probe = structuredClone(model);
    probe.graph!.output = [{ name: 'relu_out', type: { tensorType: { elemType: 1 } } }];
    const activation = await forward(probe, x, [1, 1, 5, 5]);
    expect(out.relu_out.data).toEqual(activation.data);

    const wd = tensorFloats(w);
    const expected = Array.from({ length: 18 }, (_, i) => seed.reduce((s, v, k) => s + v * wd[i * 4 + k], 0));
    const gradient = Array.from(out['sightline_gradient/relu_out'].data as Float32Array);
    for (const [i, v] of gradient.entries()) expect(v).toBeCloseTo(expected[i], 5);
    expect(out['sightline_gradient/relu_out'].dims).toEqual([1, 2, 3, 3]);
  });

  test('stops the sweep at the layer when the input gradient is not wanted', async () => {
    const model = graph({
      input: [1, 5, 5],
      nodes: [
        node('Conv', ['x', 'k'], [attr('kernel_shape', [3, 3])]),
        node('Relu', ['conv_out']),
        node('Flatten', ['relu_out']),
        node('Gemm', ['flatten_out', 'w', 'c']),
      ],
      initializers: [weights('k', [2, 1, 3, 3], 4), weights('w', [18, 4], 5), weights('c', [4], 6)],
    });
    const x = randomTensor(25, 7);
    const seed = Float32Array.from([1, -2, 0.5, 3]);
    const full = await addGradients(model, { layers: ['relu_out'] });
    const short = await addGradients(model, { layers: ['relu_out'], inputGradient: false });
    expect(short.inputGradientName).toBeUndefined();
    expect(short.model.graph!.output!.map((o) => o.name)).toEqual([
      'gemm_out',
      'relu_out',
      'sightline_gradient/relu_out',
    ]);
    // No Conv input-gradient (or any backward node for the Relu and Conv) is emitted.
    expect(short.model.graph!.node!.length).toBeLessThan(full.model.graph!.node!.length);
    const a = await runGradient(full, x, [1, 1, 5, 5], seed, [1, 4]);
    const b = await runGradient(short, x, [1, 1, 5, 5], seed, [1, 4]);
    expect(b['sightline_gradient/relu_out'].data).toEqual(a['sightline_gradient/relu_out'].data);
    await expect(addGradients(model, { inputGradient: false })).rejects.toThrow(/at least one layer/);
  });

  test('gives each image of a batch its own gradient', async () => {
    const model = batchModel();
    const g = await addGradients(model);
    const x = randomTensor(3 * 2 * 6 * 6, 9);
    const seed = randomTensor(3 * 3, 10);
    const together = await runGradient(g, x, [3, 2, 6, 6], seed, [3, 3]);
    const per = 2 * 6 * 6;
    for (let n = 0; n < 3; n++) {
      const alone = await runGradient(
        g,
        x.slice(n * per, (n + 1) * per),
        [1, 2, 6, 6],
        seed.slice(n * 3, n * 3 + 3),
        [1, 3],
      );
      const row = (together[g.inputGradientName!].data as Float32Array).slice(n * per, (n + 1) * per);
      const single = alone[g.inputGradientName!].data as Float32Array;
      for (const [i, v] of row.entries()) expect(v).toBeCloseTo(single[i], 5);
    }
  });

  test('a small CNN end to end matches finite differences', async () => {
    const result = await compareGradient(batchModel(), { x: randomTensor(72, 11), dims: [1, 2, 6, 6] });
    expect(result.error).toBeLessThan(2e-3);
  });
});

/** conv → BN → relu → maxpool → conv (stride 2) → global average pool → flatten → gemm → softmax. */
function batchModel(): ModelProto {
  return graph({
    input: [2, 6, 6],
    nodes: [
      node('Conv', ['x', 'k1'], [attr('pads', [1, 1, 1, 1])]),
      node('BatchNormalization', ['conv_out', 's', 'b', 'm', 'v']),
      node('Relu', ['batchnormalization_out']),
      node('MaxPool', ['relu_out'], [attr('kernel_shape', [2, 2]), attr('strides', [1, 1])]),
      node('Conv', ['maxpool_out', 'k2'], [attr('strides', [2, 2]), attr('pads', [1, 1, 1, 1])], ['conv2']),
      node('GlobalAveragePool', ['conv2']),
      node('Flatten', ['globalaveragepool_out']),
      node('Gemm', ['flatten_out', 'w'], [attr('transB', 1)]),
      node('Softmax', ['gemm_out']),
    ],
    initializers: [
      weights('k1', [4, 2, 3, 3], 1),
      weights('s', [4], 2),
      weights('b', [4], 3),
      weights('m', [4], 4),
      weights('v', [4], 5, 0.5, 1.5),
      weights('k2', [4, 4, 3, 3], 6),
      weights('w', [3, 4], 7),
    ],
  });
}
