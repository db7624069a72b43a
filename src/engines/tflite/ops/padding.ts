import { SightlineError } from '../../../core/errors.js';
import type { TfliteOperator } from '../reader.js';
import { Padding } from '../schema.js';

export interface Window {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly padding: number;
}

/**
 * ONNX `pads` [top, left, bottom, right] for a sliding window over an H × W input. TensorFlow's SAME keeps
 * ceil(size / stride) outputs and puts the odd pixel of padding at the bottom and right; VALID pads nothing.
 */
export function windowPads(op: TfliteOperator, size: readonly [number, number], w: Window): number[] {
  if (w.strides.some((s) => s < 1) || w.dilations.some((d) => d < 1) || w.kernel.some((k) => k < 1)) {
    throw new SightlineError(
      'MODEL_LOAD',
      `TFLite op '${op.name}' (operator #${op.index}) has kernel [${w.kernel}], strides [${w.strides}] and dilations [${w.dilations}]; expected all ≥ 1.`,
      { op: op.name, operator: op.index },
    );
  }
  if (w.padding === Padding.VALID) return [0, 0, 0, 0];
  if (w.padding !== Padding.SAME) {
    throw new SightlineError(
      'MODEL_LOAD',
      `TFLite op '${op.name}' (operator #${op.index}) has padding ${w.padding}; expected SAME (0) or VALID (1).`,
      { op: op.name, operator: op.index },
    );
  }
  const begin: number[] = [];
  const end: number[] = [];
  for (let a = 0; a < 2; a++) {
    const extent = (w.kernel[a] - 1) * w.dilations[a] + 1;
    const out = Math.ceil(size[a] / w.strides[a]);
    const total = Math.max((out - 1) * w.strides[a] + extent - size[a], 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}
