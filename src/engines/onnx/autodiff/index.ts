export {
  addGradients,
  type GradientGraph,
  type GradientGraphOptions,
  probeForGradients,
} from './gradient-graph.js';
export { type DifferentiablePath, differentiablePath } from './path.js';
export { GRADIENT_RULES } from './registry.js';
export type { GradientRule, ModifiedRule, RuleOverrides } from './rule.js';
export { RULE_SETS } from './rule-sets.js';
export { type Probe, probeFromJson, probeToJson } from './shapes.js';

/** Bumped whenever the transform's output changes, so stored gradient graphs are rebuilt. */
export const AUTODIFF_VERSION = 4;
