import { describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import {
  attr,
  buildModel,
  decodeCost,
  encodeModel,
  MAX_DECODED_OBJECTS,
  type ModelProto,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { decodeOnnxModel, openOnnxModel } from '../../src/models/open.js';
import { patchModelProto } from '../helpers/analytic.js';

const EXPECTED = 'expected an ONNX file as torch.onnx.export, tf2onnx or onnx.save write it.';
const good = encodeModel(patchModelProto({ x0: 0, y0: 0, x1: 4, y1: 4 }, { dims: ['N', 3, 8, 8] }));

function refusal(bytes: Uint8Array, name?: string): SightlineError {
  try {
    decodeOnnxModel(bytes, name);
  } catch (error) {
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('MODEL_LOAD');
    return error as SightlineError;
  }
  throw new Error('the bytes were accepted');
}

describe('decodeOnnxModel', () => {
  it('decodes a valid model', () => {
    expect(decodeOnnxModel(good, 'm.onnx').graph?.output?.[0]?.name).toBe('scores');
  });

  it('refuses empty, truncated and overlong files, naming the file and the protobuf reason', () => {
    expect(refusal(new Uint8Array(0), 'm.onnx').message).toBe(
      `'m.onnx' is not a valid ONNX model (it is empty); ${EXPECTED}`,
    );
    // Every cut through the middle of a model either runs out inside a field or leaves no graph.
    for (const cut of [1, 7, good.length >> 1, good.length - 1]) {
      expect(refusal(good.subarray(0, cut), 'm.onnx').message).toMatch(
        /^'m.onnx' is not a valid ONNX model \(/,
      );
    }
    expect(refusal(good.subarray(0, good.length - 1), 'm.onnx').message).toMatch(
      /^'m.onnx' is not a valid ONNX model \(its protobuf encoding is broken: a field at byte \d+ runs past the end of its message, as in a truncated file\); expected/,
    );
    // The graph field (7, length-delimited) with a varint length too long to be one.
    const varint = Uint8Array.of(0x3a, ...new Array(9).fill(0xff), 0x01, 0);
    expect(refusal(varint).message).toBe(
      `The model is not a valid ONNX model (its protobuf encoding is broken: a field at byte 11 runs past the end of its message, as in a truncated file); ${EXPECTED}`,
    );
  });

  it('counts what decoding would allocate and refuses a file of millions of empty messages', () => {
    // ModelProto: graph (field 7) → node (field 1) with one input string; the string is a second object.
    expect(decodeCost(encodeModel({ graph: { node: [{ opType: '', input: ['a'] }] } }))).toBe(4);
    const count = MAX_DECODED_OBJECTS;
    const graph = new Uint8Array(2 * count);
    for (let i = 0; i < count; i++) graph[2 * i] = 0x0a;
    const size = graph.length; // 4,000,000 = a 4-byte varint
    const length = [
      (size & 0x7f) | 0x80,
      ((size >>> 7) & 0x7f) | 0x80,
      ((size >>> 14) & 0x7f) | 0x80,
      size >>> 21,
    ];
    const bytes = new Uint8Array(5 + graph.length);
    bytes.set([0x3a, ...length]);
    bytes.set(graph, 5);
    expect(refusal(bytes, 'n.onnx').message).toBe(
      `'n.onnx' is not a valid ONNX model (it would decode to more than ${count} protobuf messages, strings and ` +
        `64-bit integers, far more than any image model holds); ${EXPECTED}`,
    );
  });

  it('refuses a well-formed message that is not a model', () => {
    expect(refusal(new TextEncoder().encode('\n\u0003abc'), 'x.onnx').message).toContain(
      '(it holds no graph)',
    );
    const noOutputs: ModelProto = { ...buildModel({ inputs: [], outputs: [], nodes: [] }) };
    expect(refusal(encodeModel(noOutputs), 'x.onnx').message).toContain('(its graph declares no outputs)');
  });
});

describe('openOnnxModel', () => {
  it("names the file in ONNX Runtime's own refusal", async () => {
    // ReduceSum takes its axes as an input from opset 13 on; ONNX Runtime rejects the attribute.
    const invalid = encodeModel(
      buildModel({
        inputs: [valueInfo('x', ['N', 3, 8, 8])],
        outputs: [valueInfo('y', ['N'])],
        nodes: [{ opType: 'ReduceSum', input: ['x'], output: ['y'], attribute: [attr('axes', [1, 2, 3])] }],
      }),
    );
    const error = await openOnnxModel(invalid, { width: 8, height: 8 }, { name: 'bad.onnx' }).catch((e) => e);
    expect(error).toBeInstanceOf(SightlineError);
    expect(error.code).toBe('MODEL_LOAD');
    expect(error.message).toMatch(/^'bad.onnx': ONNX Runtime could not load the model: .*axes/);
    expect(error.message).not.toContain('\n');
  });
});
