// Built without importing TF.js, so tests of an install that lacks TF.js can use it too.
import type { TfjsArtifacts } from '../../src/engines/tfjs/index.js';

/**
 * A hand-written TF.js Graph model (TF.js cannot write Graph models itself; the Python tensorflowjs converter
 * makes them from SavedModels): x [N, 2, 2, 3] → Reshape [N, 12] → MatMul W [12, 3] → Softmax → Identity.
 * W[i][k] = sin(3i + k).
 */
export function graphModel(): TfjsArtifacts {
  const w = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i));
  const shape = Int32Array.of(-1, 12);
  const bytes = new Uint8Array(w.byteLength + shape.byteLength);
  bytes.set(new Uint8Array(w.buffer), 0);
  bytes.set(new Uint8Array(shape.buffer), w.byteLength);
  const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const float = { type: 'DT_FLOAT' };
  return {
    modelJson: {
      format: 'graph-model',
      generatedBy: '2.15.0',
      convertedBy: 'by hand',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims(-1, 2, 2, 3) } } },
          {
            name: 'w',
            op: 'Const',
            attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(12, 3) } }, dtype: float },
          },
          {
            name: 'shape',
            op: 'Const',
            attr: {
              value: { tensor: { dtype: 'DT_INT32', tensorShape: dims(2) } },
              dtype: { type: 'DT_INT32' },
            },
          },
          {
            name: 'flat',
            op: 'Reshape',
            input: ['x', 'shape'],
            attr: { T: float, Tshape: { type: 'DT_INT32' } },
          },
          {
            name: 'logits',
            op: 'MatMul',
            input: ['flat', 'w'],
            attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
          },
          { name: 'probabilities', op: 'Softmax', input: ['logits'], attr: { T: float } },
          { name: 'Identity', op: 'Identity', input: ['probabilities'], attr: { T: float } },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [
        {
          paths: ['group1-shard1of1.bin'],
          weights: [
            { name: 'w', shape: [12, 3], dtype: 'float32' },
            { name: 'shape', shape: [2], dtype: 'int32' },
          ],
        },
      ],
    },
    groups: [bytes],
  };
}
