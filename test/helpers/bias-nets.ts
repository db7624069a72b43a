/** The stem the hand-built CNNs of the backward-rule tests share: a padded 3×3 conv with bias, then BatchNormalization. */
import { attr, type NodeProto, type TensorProto } from '../../src/engines/onnx/proto.js';
import { node, weights } from './autodiff-graphs.js';

/** Nodes x → c1 (Conv, 4 channels) → bn (an unfolded BatchNormalization), and their weights. */
export function convBnStem(): { nodes: NodeProto[]; initializers: TensorProto[] } {
  return {
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], [attr('pads', [1, 1, 1, 1])], ['c1']),
      node('BatchNormalization', ['c1', 'gamma', 'beta', 'mean', 'var'], [], ['bn']),
    ],
    initializers: [
      weights('w1', [4, 3, 3, 3], 1),
      weights('b1', [4], 2),
      weights('gamma', [4], 3, 0.5, 1.5),
      weights('beta', [4], 4),
      weights('mean', [4], 5),
      weights('var', [4], 6, 0.5, 2),
    ],
  };
}
