/**
 * Separable linear resampling of planar float data. When shrinking, the triangle filter is widened by the
 * scale factor so every source pixel contributes (antialiasing, as PIL and sharp do); when enlarging it is
 * plain bilinear interpolation with pixel centres aligned (align_corners = false).
 */
export function resamplePlanes(
  src: Float32Array,
  channels: number,
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
): Float32Array {
  const horizontal = weights(srcW, dstW);
  const vertical = weights(srcH, dstH);
  const tmp = new Float32Array(channels * srcH * dstW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < srcH; y++) {
      const row = (c * srcH + y) * srcW;
      const outRow = (c * srcH + y) * dstW;
      for (let x = 0; x < dstW; x++) {
        const { start, w } = horizontal[x];
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k] * src[row + start + k];
        tmp[outRow + x] = acc;
      }
    }
  }
  const out = new Float32Array(channels * dstH * dstW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < dstH; y++) {
      const { start, w } = vertical[y];
      const outRow = (c * dstH + y) * dstW;
      for (let k = 0; k < w.length; k++) {
        const wk = w[k];
        const inRow = (c * srcH + start + k) * dstW;
        for (let x = 0; x < dstW; x++) out[outRow + x] += wk * tmp[inRow + x];
      }
    }
  }
  return out;
}

interface Tap {
  start: number;
  w: Float32Array;
}

function weights(srcSize: number, dstSize: number): Tap[] {
  const scale = srcSize / dstSize;
  const support = Math.max(1, scale);
  const taps: Tap[] = [];
  for (let i = 0; i < dstSize; i++) {
    const centre = (i + 0.5) * scale - 0.5;
    let start = Math.floor(centre - support) + 1;
    let end = Math.ceil(centre + support) - 1;
    start = Math.max(0, start);
    end = Math.min(srcSize - 1, end);
    if (end < start) {
      // Enlarging near an edge: clamp to the nearest source pixel.
      const j = Math.min(srcSize - 1, Math.max(0, Math.round(centre)));
      taps.push({ start: j, w: Float32Array.of(1) });
      continue;
    }
    const w = new Float32Array(end - start + 1);
    let sum = 0;
    for (let j = start; j <= end; j++) {
      const v = Math.max(0, 1 - Math.abs(j - centre) / support);
      w[j - start] = v;
      sum += v;
    }
    if (sum === 0) {
      w.fill(0);
      w[Math.min(w.length - 1, Math.max(0, Math.round(centre) - start))] = 1;
    } else for (let k = 0; k < w.length; k++) w[k] /= sum;
    taps.push({ start, w });
  }
  return taps;
}
