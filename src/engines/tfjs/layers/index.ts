/**
 * Every Keras layer class the converter handles, by class name: the single, hand-kept list (nested
 * Sequential and Functional models are walked by convert.ts, InputLayer binds the graph input).
 */
import type { LayerRule } from '../context.js';
import { activationLayer, eluLayer, leakyReluLayer, reluLayer, softmaxLayer } from './activation.js';
import { conv2d, depthwiseConv2d, separableConv2d } from './conv.js';
import {
  batchNormalization,
  cropping2d,
  dense,
  flatten,
  identity,
  layerNormalization,
  rescaling,
  reshape,
  zeroPadding2d,
} from './core.js';
import { add, average, concatenate, multiply, subtract } from './merge.js';
import { averagePooling2d, globalAveragePooling2d, globalMaxPooling2d, maxPooling2d } from './pool.js';

export const LAYER_RULES: Readonly<Record<string, LayerRule>> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  Dense: dense,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyReluLayer,
  ELU: eluLayer,
  Softmax: softmaxLayer,
  MaxPooling2D: maxPooling2d,
  AveragePooling2D: averagePooling2d,
  GlobalMaxPooling2D: globalMaxPooling2d,
  GlobalAveragePooling2D: globalAveragePooling2d,
  ZeroPadding2D: zeroPadding2d,
  Cropping2D: cropping2d,
  Flatten: flatten,
  Reshape: reshape,
  Rescaling: rescaling,
  Add: add,
  Subtract: subtract,
  Multiply: multiply,
  Average: average,
  Concatenate: concatenate,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};

/** Keras 2 aliases some classes under a second name (Conv2D was Convolution2D, MaxPooling2D MaxPool2D, …). */
export const LAYER_ALIASES: Readonly<Record<string, string>> = {
  Convolution2D: 'Conv2D',
  SeparableConvolution2D: 'SeparableConv2D',
  MaxPool2D: 'MaxPooling2D',
  AvgPool2D: 'AveragePooling2D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
};
