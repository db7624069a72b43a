import type { BackwardRules } from '../../../core/model.js';
import type { RuleOverrides } from './rule.js';
import {
  LRP_ALPHA1_BETA0,
  LRP_ALPHA2_BETA1,
  LRP_COMPOSITE,
  LRP_EPSILON,
  LRP_GAMMA,
  LRP_ZPLUS,
} from './rules/lrp.js';
import { DECONVNET, GUIDED_BACKPROP } from './rules/modified-relu.js';
import { DEEPLIFT_RESCALE } from './rules/rescale.js';

/** The named backward passes a method can ask for (core/model.ts BackwardRules); 'exact' overrides nothing. */
export const RULE_SETS: Readonly<Record<Exclude<BackwardRules, 'exact'>, RuleOverrides>> = {
  'guided-backprop': GUIDED_BACKPROP,
  deconvnet: DECONVNET,
  deeplift: DEEPLIFT_RESCALE,
  'lrp-epsilon': LRP_EPSILON,
  'lrp-gamma': LRP_GAMMA,
  'lrp-zplus': LRP_ZPLUS,
  'lrp-alpha2-beta1': LRP_ALPHA2_BETA1,
  'lrp-alpha1-beta0': LRP_ALPHA1_BETA0,
  'lrp-composite': LRP_COMPOSITE,
};
