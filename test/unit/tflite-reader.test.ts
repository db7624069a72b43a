import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { conv2dOptions, depthwiseConv2dOptions, softmaxBeta } from '../../src/engines/tflite/options.js';
import { readTflite } from '../../src/engines/tflite/reader.js';
import {
  depthwiseOptions,
  softmaxOptions,
  conv2dOptions as writeConvOptions,
  writeTflite,
} from '../helpers/tflite-builder.js';

function sampleModel(legacyOpcodes = false): Uint8Array {
  return writeTflite({
    description: 'sample',
    legacyOpcodes,
    tensors: [
      {
        name: 'image',
        shape: [1, 4, 4, 2],
        type: 'uint8',
        quantization: { scale: [0.5], zeroPoint: [128] },
      },
      {
        name: 'kernel',
        shape: [3, 1, 1, 2],
        type: 'int8',
        data: [1, -2, 3, -4, 5, -6],
        quantization: { scale: [0.1, 0.2, 0.3], zeroPoint: [0, 0, 0], dimension: 0 },
      },
      { name: 'features', shape: [1, 4, 4, 3] },
      { name: 'dw', shape: [1, 3, 3, 6], data: new Float32Array(54) },
      { name: 'scores', shape: [1, 4, 4, 6] },
      { name: 'probs', shape: [1, 4, 4, 6] },
    ],
    operators: [
      {
        op: 'CONV_2D',
        inputs: [0, 1, -1],
        outputs: [2],
        options: writeConvOptions({ padding: 'VALID', stride: [2, 3] }),
      },
      {
        op: 'DEPTHWISE_CONV_2D',
        inputs: [2, 3, -1],
        outputs: [4],
        options: depthwiseOptions({ padding: 'SAME', multiplier: 2, dilation: [2, 1], activation: 'RELU6' }),
      },
      { op: 'SOFTMAX', inputs: [4], outputs: [5], options: softmaxOptions(0.25) },
      // GELU is code 150: only the int32 builtin_code field can hold it.
      { op: 'GELU', inputs: [5], outputs: [5] },
    ],
    inputs: [0],
    outputs: [5],
  });
}

describe('readTflite', () => {
  it('reads tensors, constant data, per-axis quantization and operators', () => {
    const model = readTflite(sampleModel());
    expect(model.version).toBe(3);
    expect(model.description).toBe('sample');
    const [graph] = model.subgraphs;
    expect(graph.inputs).toEqual([0]);
    expect(graph.outputs).toEqual([5]);
    expect(graph.tensors.map((t) => t.name)).toEqual([
      'image',
      'kernel',
      'features',
      'dw',
      'scores',
      'probs',
    ]);
    const [image, kernel, features] = graph.tensors;
    expect(image.shape).toEqual([1, 4, 4, 2]);
    expect(image.type).toBe(3);
    expect(image.data).toBeUndefined();
    expect(image.quantization).toEqual({ scale: [0.5], zeroPoint: [128], quantizedDimension: 0 });
    expect(Array.from(new Int8Array(kernel.data!.buffer, kernel.data!.byteOffset, 6))).toEqual([
      1, -2, 3, -4, 5, -6,
    ]);
    expect(kernel.quantization?.scale.map((s) => Number(s.toFixed(6)))).toEqual([0.1, 0.2, 0.3]);
    expect(features.quantization).toBeUndefined();
    expect(graph.operators.map((op) => [op.name, op.code, op.inputs, op.outputs])).toEqual([
      ['CONV_2D', 3, [0, 1, -1], [2]],
      ['DEPTHWISE_CONV_2D', 4, [2, 3, -1], [4]],
      ['SOFTMAX', 25, [4], [5]],
      ['GELU', 150, [5], [5]],
    ]);
  });

  it('reads builtin options by field index, with schema defaults for absent fields', () => {
    const [conv, depthwise, softmax, gelu] = readTflite(sampleModel()).subgraphs[0].operators;
    expect(conv2dOptions(conv)).toEqual({
      padding: 1,
      strideW: 3,
      strideH: 2,
      activation: 0,
      dilationW: 1,
      dilationH: 1,
    });
    expect(depthwiseConv2dOptions(depthwise)).toEqual({
      padding: 0,
      strideW: 1,
      strideH: 1,
      depthMultiplier: 2,
      activation: 3,
      dilationW: 1,
      dilationH: 2,
    });
    expect(softmaxBeta(softmax)).toBe(0.25);
    expect(gelu.options).toBeUndefined();
    expect(conv2dOptions(gelu)).toEqual({
      padding: 0,
      strideW: 0,
      strideH: 0,
      activation: 0,
      dilationW: 1,
      dilationH: 1,
    });
  });

  it('takes the larger of deprecated_builtin_code and builtin_code', () => {
    const legacy = readTflite(sampleModel(true)).subgraphs[0].operators;
    // Without the int32 field, only the int8 placeholder 127 is known for GELU.
    expect(legacy.map((op) => op.code)).toEqual([3, 4, 25, 127]);
    expect(legacy[3].name).toBe('PLACEHOLDER_FOR_GREATER_OP_CODES');
  });

  it('names custom operators by their custom code', () => {
    const bytes = writeTflite({
      tensors: [
        { name: 'x', shape: [1, 2] },
        { name: 'y', shape: [1, 2] },
      ],
      operators: [{ op: 'CUSTOM', inputs: [0], outputs: [1] }],
      inputs: [0],
      outputs: [1],
    });
    expect(readTflite(bytes).subgraphs[0].operators[0].name).toBe('CUSTOM:');
  });

  it('rejects bytes that are not a TFLite model, naming the identifier it expected', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    expect(() => readTflite(png)).toThrow(SightlineError);
    expect(() => readTflite(png)).toThrow(
      /Not a TFLite model: expected the file identifier 'TFL3' at bytes 4–7/,
    );
    expect(() => readTflite(new Uint8Array(3))).toThrow(/3 bytes is too short/);
    try {
      readTflite(png);
    } catch (e) {
      expect((e as SightlineError).code).toBe('MODEL_LOAD');
    }
  });

  it('rejects other schema versions and sparse tensors, which it cannot read', () => {
    const tensors = [{ name: 'x', shape: [1, 2] }];
    expect(() =>
      readTflite(writeTflite({ tensors, operators: [], inputs: [0], outputs: [0], version: 2 })),
    ).toThrow(
      expect.objectContaining({
        code: 'MODEL_LOAD',
        message: expect.stringMatching(/schema version 2; only version 3/),
      }),
    );
    const sparse = [{ name: 'w', shape: [2, 2], data: [1, 0, 0, 1], sparse: true }];
    expect(() =>
      readTflite(writeTflite({ tensors: sparse, operators: [], inputs: [0], outputs: [0] })),
    ).toThrow(
      expect.objectContaining({
        code: 'MODEL_LOAD',
        message: expect.stringMatching(/Tensor 'w' is stored sparse/),
      }),
    );
  });

  it('rejects operators that refer to tensors the subgraph does not have', () => {
    const bytes = writeTflite({
      tensors: [{ name: 'x', shape: [1, 2] }],
      operators: [{ op: 'RELU', inputs: [0], outputs: [7] }],
      inputs: [0],
      outputs: [0],
    });
    expect(() => readTflite(bytes)).toThrow(
      expect.objectContaining({
        code: 'MODEL_LOAD',
        message: expect.stringMatching(/operator #0's outputs of subgraph 0 refers to tensor 7/),
      }),
    );
  });

  it('rejects a truncated file instead of reading zeros past its end', () => {
    const bytes = sampleModel();
    for (const keep of [12, 40, Math.floor(bytes.length / 2), bytes.length - 8]) {
      const cut = bytes.slice(0, keep);
      expect(() => readTflite(cut), `kept ${keep} of ${bytes.length} bytes`).toThrow(
        expect.objectContaining({
          code: 'MODEL_LOAD',
          message: expect.stringMatching(/truncated or corrupt/),
        }),
      );
    }
  });
});
