import { conv2d, depthwiseConv2d } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { fullyConnected } from './fully-connected.js';
import { mean } from './mean.js';
import { averagePool2d, maxPool2d } from './pool.js';
import type { OpRule } from './rule.js';
import { shapeRules } from './shape.js';
import { softmax } from './softmax.js';

/** Every TFLite operator the converter handles, by its builtin name; the single list of what is supported. */
export const RULES: Readonly<Record<string, OpRule>> = {
  CONV_2D: conv2d,
  DEPTHWISE_CONV_2D: depthwiseConv2d,
  AVERAGE_POOL_2D: averagePool2d,
  MAX_POOL_2D: maxPool2d,
  FULLY_CONNECTED: fullyConnected,
  MEAN: mean,
  SOFTMAX: softmax,
  ...shapeRules,
  ...elementwiseRules,
};

export type { OpRule };
