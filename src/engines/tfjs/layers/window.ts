/**
 * Sliding-window geometry as TensorFlow defines it: 'valid' keeps windows inside the image; 'same' gives
 * ceil(size / stride) outputs and pads the missing total, the smaller half before and the larger after.
 */
export interface Window {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly padding: 'same' | 'valid';
}

/** The output [height, width] and ONNX pads [top, left, bottom, right] of a window over [height, width]. */
export function windowGeometry(
  size: readonly number[],
  w: Window,
): { out: [number, number]; pads: number[] } {
  const out: number[] = [];
  const before: number[] = [];
  const after: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const span = (w.kernel[axis] - 1) * w.dilations[axis] + 1;
    const stride = w.strides[axis];
    if (w.padding === 'valid') {
      out.push(Math.floor((size[axis] - span) / stride) + 1);
      before.push(0);
      after.push(0);
    } else {
      const n = Math.ceil(size[axis] / stride);
      const total = Math.max((n - 1) * stride + span - size[axis], 0);
      out.push(n);
      before.push(Math.floor(total / 2));
      after.push(total - Math.floor(total / 2));
    }
  }
  return { out: [out[0], out[1]], pads: [...before, ...after] };
}
