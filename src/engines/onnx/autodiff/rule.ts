import type { NodeProto } from '../proto.js';
import type { GradientContext } from './context.js';

/**
 * The backward step of one op: given the gradients of the node's outputs (`dy[i]`, undefined where an
 * output receives none), emit nodes that compute the gradient of each input and return their names, aligned
 * with `node.input`. Only inputs for which `ctx.isActive` holds need an entry; weights never do.
 */
export type GradientRule = (
  node: NodeProto,
  dy: readonly (string | undefined)[],
  ctx: GradientContext,
) => readonly (string | undefined)[];
