/**
 * Typed readers of the builtin options tables the converter understands. Field indices and defaults follow
 * schema.fbs; an operator without an options table gets every default, as the TFLite runtime does.
 */
import type { FlatTable } from './flatbuffer.js';
import type { TfliteOperator } from './reader.js';

export interface ConvOptions {
  readonly padding: number;
  readonly strideW: number;
  readonly strideH: number;
  readonly activation: number;
  readonly dilationW: number;
  readonly dilationH: number;
}

export interface DepthwiseConvOptions extends ConvOptions {
  readonly depthMultiplier: number;
}

export interface PoolOptions {
  readonly padding: number;
  readonly strideW: number;
  readonly strideH: number;
  readonly filterW: number;
  readonly filterH: number;
  readonly activation: number;
}

export interface FullyConnectedOptions {
  readonly activation: number;
  readonly weightsFormat: number;
  readonly keepNumDims: boolean;
}

export interface ConcatenationOptions {
  readonly axis: number;
  readonly activation: number;
}

type OptionsTable = Pick<FlatTable, 'int8' | 'int32' | 'bool' | 'float32' | 'int32s'>;

/** Stands in for an absent options table: every field reads as its default. */
const DEFAULTS: OptionsTable = {
  int8: (_id, fallback = 0) => fallback,
  int32: (_id, fallback = 0) => fallback,
  bool: (_id, fallback = false) => fallback,
  float32: (_id, fallback = 0) => fallback,
  int32s: () => undefined,
};

function options(op: TfliteOperator): OptionsTable {
  return op.options ?? DEFAULTS;
}

export function conv2dOptions(op: TfliteOperator): ConvOptions {
  const t = options(op);
  return {
    padding: t.int8(0),
    strideW: t.int32(1),
    strideH: t.int32(2),
    activation: t.int8(3),
    dilationW: t.int32(4, 1),
    dilationH: t.int32(5, 1),
  };
}

export function depthwiseConv2dOptions(op: TfliteOperator): DepthwiseConvOptions {
  const t = options(op);
  return {
    padding: t.int8(0),
    strideW: t.int32(1),
    strideH: t.int32(2),
    depthMultiplier: t.int32(3),
    activation: t.int8(4),
    dilationW: t.int32(5, 1),
    dilationH: t.int32(6, 1),
  };
}

export function pool2dOptions(op: TfliteOperator): PoolOptions {
  const t = options(op);
  return {
    padding: t.int8(0),
    strideW: t.int32(1),
    strideH: t.int32(2),
    filterW: t.int32(3),
    filterH: t.int32(4),
    activation: t.int8(5),
  };
}

export function fullyConnectedOptions(op: TfliteOperator): FullyConnectedOptions {
  const t = options(op);
  return {
    activation: t.int8(0),
    weightsFormat: t.int8(1),
    keepNumDims: t.bool(2),
  };
}

export function softmaxBeta(op: TfliteOperator): number {
  // Flatbuffers leaves out fields equal to their default, so an absent beta really is 0.
  return options(op).float32(0);
}

export function concatenationOptions(op: TfliteOperator): ConcatenationOptions {
  const t = options(op);
  return { axis: t.int32(0), activation: t.int8(1) };
}

/** ADD, MUL and the other binary ops keep their fused activation in field 0. */
export function fusedActivation(op: TfliteOperator): number {
  return options(op).int8(0);
}

export function reshapeNewShape(op: TfliteOperator): number[] | undefined {
  return options(op).int32s(0, 'new shape');
}

export function reducerKeepDims(op: TfliteOperator): boolean {
  return options(op).bool(0);
}

export function squeezeDims(op: TfliteOperator): number[] {
  return options(op).int32s(0, 'squeeze dims') ?? [];
}
