import type { BackwardRules } from '../../../core/model.js';
import type { RuleOverrides } from './rule.js';
import { DECONVNET, GUIDED_BACKPROP } from './rules/modified-relu.js';
import { DEEPLIFT_RESCALE } from './rules/rescale.js';

/** The named backward passes a method can ask for (core/model.ts BackwardRules); 'exact' overrides nothing. */
export const RULE_SETS: Readonly<Record<Exclude<BackwardRules, 'exact'>, RuleOverrides>> = {
  'guided-backprop': GUIDED_BACKPROP,
  deconvnet: DECONVNET,
  deeplift: DEEPLIFT_RESCALE,
};
