// Reading a Keras layer's config: TF.js writes snake_case keys and allows a number or a pair for 2-D sizes.
import { SightlineError } from '../../../core/errors.js';
import type { LayerCall } from '../context.js';

/** The error for a layer, or a setting of one, that the converter cannot express in ONNX. */
export function unsupported(call: LayerCall, what: string): SightlineError {
  return new SightlineError(
    'UNSUPPORTED_OP',
    `TF.js layer '${call.name}' (${call.className}) ${what}, which the ONNX converter does not support.`,
    { layer: call.name, className: call.className },
  );
}

export function configNumber(call: LayerCall, key: string, fallback: number): number {
  const v = call.config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw malformed(call, key, 'a number', v);
  return v;
}

export function configBool(call: LayerCall, key: string, fallback: boolean): boolean {
  const v = call.config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw malformed(call, key, 'true or false', v);
  return v;
}

/** A 2-D size or step: one number for both axes, or [rows, columns]. */
export function configPair(
  call: LayerCall,
  key: string,
  fallback: readonly [number, number],
): [number, number] {
  const v = call.config[key];
  if (v === undefined || v === null) return [fallback[0], fallback[1]];
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x >= 0))
    return [v[0], v[1]];
  throw malformed(call, key, 'a whole number or a pair of them', v);
}

/** 'same' or 'valid' window padding. */
export function configPadding(call: LayerCall): 'same' | 'valid' {
  const v = call.config.padding ?? 'valid';
  if (v === 'same' || v === 'valid') return v;
  throw unsupported(call, `has padding '${String(v)}'`);
}

/** Image layers must keep channels last (TF.js' only layout for most of them). */
export function requireChannelsLast(call: LayerCall): void {
  const v = call.config.data_format;
  if (v !== undefined && v !== null && v !== 'channels_last')
    throw unsupported(call, `has data_format '${String(v)}'`);
}

/** The layer's `activation` field: a name, null for none, or Keras 3's { class_name } object. */
export function configActivation(call: LayerCall): string {
  const v = call.config.activation;
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && typeof (v as { class_name?: unknown }).class_name === 'string') {
    return (v as { class_name: string }).class_name;
  }
  throw malformed(call, 'activation', 'the name of an activation', v);
}

function malformed(call: LayerCall, key: string, expected: string, got: unknown): SightlineError {
  return new SightlineError(
    'MODEL_LOAD',
    `TF.js layer '${call.name}' (${call.className}) has ${key} ${JSON.stringify(got)}; expected ${expected}.`,
    { layer: call.name, className: call.className, key },
  );
}
