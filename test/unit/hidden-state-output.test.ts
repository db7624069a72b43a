// A Hugging Face feature-extraction export (ViT, DINOv2, CLIP's vision tower as transformers.js and Optimum
// give it) has a first output 'last_hidden_state' [N, T, D]: the transformer's token states. Its rank 3 made it
// read as a YOLO detector, and random token values "detected" boxes with scores; with no task asked for it is
// refused in words, and --task embed reads it as an embedding.
import { describe, expect, it } from 'vitest';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  int64Tensor,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { openOnnxModel } from '../../src/models/open.js';

/** 16 × 16 pixels → 16 patch tokens of 8 numbers: a patch-embedding convolution, flattened and transposed. */
function tokenModel(outputName: string) {
  return buildModel({
    inputs: [valueInfo('pixel_values', ['batch', 3, 16, 16])],
    outputs: [valueInfo(outputName, ['batch', 16, 8])],
    initializers: [
      floatTensor(
        'w',
        [8, 3, 4, 4],
        new Float32Array(8 * 3 * 16).map((_, i) => Math.sin(i)),
      ),
      int64Tensor('shape', [3], [0, 8, 16]),
    ],
    nodes: [
      {
        opType: 'Conv',
        input: ['pixel_values', 'w'],
        output: ['patches'],
        attribute: [attr('strides', [4, 4])],
      },
      { opType: 'Reshape', input: ['patches', 'shape'], output: ['flat'] },
      { opType: 'Transpose', input: ['flat'], output: [outputName], attribute: [attr('perm', [0, 2, 1])] },
    ],
  });
}

describe("a transformer's token states as the first output", () => {
  it('is refused with no task, naming the output and --task embed', async () => {
    const run = openOnnxModel(encodeModel(tokenModel('last_hidden_state')), {});
    await expect(run).rejects.toMatchObject({ code: 'MODEL_SHAPE' });
    await expect(openOnnxModel(encodeModel(tokenModel('last_hidden_state')), {})).rejects.toThrow(
      /'last_hidden_state' \[batch, 16, 8\] .*token states.*--task embed/,
    );
  });

  it('--task embed opens it as an embedding; another rank-3 output is still a detector', async () => {
    const embed = await openOnnxModel(encodeModel(tokenModel('last_hidden_state')), { task: 'embed' });
    expect(embed.spec.task).toBe('embed');
    await embed.dispose();
    const other = await openOnnxModel(encodeModel(tokenModel('output0')), {});
    expect(other.spec.task).toBe('detect');
    await other.dispose();
  });
});
