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

/** A rule that replaces an op's exact one, where `applies` says this node is one it is meant for. */
export interface ModifiedRule {
  readonly rule: GradientRule;
  /** Default: every node of the op type (Clip, for instance, is ReLU-like only with a lower bound of 0). */
  readonly applies?: (node: NodeProto, ctx: GradientContext) => boolean;
}

/**
 * A named set of rule overrides by op type (Guided Backprop's ReLU rule, DeconvNet's): the transform uses
 * them in place of the exact rules; ops it does not name keep theirs. The name goes into cache keys.
 */
export interface RuleOverrides {
  readonly name: string;
  /** What the set changes, in words, for the refusal when a model has none of its ops. */
  readonly changes: string;
  /** Whether a model with none of its ops is served (the result is then the exact gradient) rather than refused. */
  readonly optional?: boolean;
  /** Raised when the set's rules change, so graphs stored under its name are rebuilt (AUTODIFF_VERSION would rebuild the exact ones too). */
  readonly revision?: number;
  readonly rules: Readonly<Record<string, ModifiedRule>>;
}
