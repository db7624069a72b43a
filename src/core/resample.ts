/**
 * Separable linear resampling. When shrinking, the triangle filter is widened by the scale factor so every
 * source pixel contributes (antialiasing, as PIL and sharp do); when enlarging it is plain bilinear
 * interpolation with pixel centres aligned (align_corners = false).
 *
 * Everything is typed arrays: filter taps are built in blocks of at most TAP_BLOCK weights, so a 49,000,000 × 1
 * photo costs memory for its pixels and the result, not for one object (or one weight list) per output pixel.
 */

/**
 * Where sample (c, y, x) of a source lies in `data`: offset + c · channelStride + y · rowStride + x · pixelStride.
 * Planar float maps and interleaved RGB bytes (with a crop as the offset) are both read in place.
 */
export interface ResampleSource {
  readonly data: Float32Array | Uint8Array;
  readonly offset: number;
  readonly channelStride: number;
  readonly rowStride: number;
  readonly pixelStride: number;
}

/** Planar float data (channels × height × width) → channels × dstH × dstW. */
export function resamplePlanes(
  src: Float32Array,
  channels: number,
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
): Float32Array {
  const source = { data: src, offset: 0, channelStride: srcW * srcH, rowStride: srcW, pixelStride: 1 };
  return resampleSource(source, channels, srcW, srcH, dstW, dstH);
}

/**
 * The part x0..x0+cropW × y0..y0+cropH of an interleaved RGB photo → planar RGB floats (3 × dstH × dstW),
 * without first copying the crop into floats (a 48-megapixel crop would be 576 MB of them).
 */
export function resampleRgbCrop(
  rgb: Uint8Array,
  imageWidth: number,
  x0: number,
  y0: number,
  cropW: number,
  cropH: number,
  dstW: number,
  dstH: number,
): Float32Array {
  const source = {
    data: rgb,
    offset: (y0 * imageWidth + x0) * 3,
    channelStride: 1,
    rowStride: imageWidth * 3,
    pixelStride: 3,
  };
  return resampleSource(source, 3, cropW, cropH, dstW, dstH);
}

/**
 * Where sample (c, y, x) of a result goes in `data`: offset + c · channelStride + y · rowStride + x, so that a
 * result can be written into a part of a larger array (a map into its crop of the photo).
 */
export interface ResampleTarget {
  readonly data: Float32Array;
  readonly offset: number;
  readonly channelStride: number;
  readonly rowStride: number;
}

/** Any strided source → planar floats, channels × dstH × dstW (or into `target`, which is returned). */
export function resampleSource(
  src: ResampleSource,
  channels: number,
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
  target: ResampleTarget = {
    data: new Float32Array(channels * dstH * dstW),
    offset: 0,
    channelStride: dstH * dstW,
    rowStride: dstW,
  },
): Float32Array {
  // Rows first, as before, unless that intermediate would be far larger than the columns-first one (a tall
  // 1 × 49,000,000 strip resized to 299 × 299 would widen 49 million rows before shrinking them).
  if (srcH * dstW <= 4 * dstH * srcW) {
    const tmp = planar(channels, srcH, dstW);
    horizontalPass(src, channels, srcW, srcH, dstW, tmp);
    verticalPass({ ...tmp, pixelStride: 1 }, channels, dstW, srcH, dstH, target);
  } else {
    const tmp = planar(channels, dstH, srcW);
    verticalPass(src, channels, srcW, srcH, dstH, tmp);
    horizontalPass({ ...tmp, pixelStride: 1 }, channels, srcW, dstH, dstW, target);
  }
  return target.data;
}

function planar(channels: number, rows: number, width: number): ResampleTarget {
  const data = new Float32Array(channels * rows * width);
  return { data, offset: 0, channelStride: rows * width, rowStride: width };
}

/** Each row of `src` (width srcW) → width dstW, into planar `out` (channels × rows × dstW). */
function horizontalPass(
  src: ResampleSource,
  channels: number,
  srcW: number,
  rows: number,
  dstW: number,
  target: ResampleTarget,
): void {
  const out = target.data;
  const { data, offset, channelStride, rowStride, pixelStride } = src;
  const rgb = data instanceof Uint8Array && channels === 3 && channelStride === 1 && pixelStride === 3;
  for (let from = 0; from < dstW; ) {
    const taps = filterTaps(srcW, dstW, from);
    const to = from + taps.start.length;
    if (rgb) {
      for (let y = 0; y < rows; y++)
        rgbRow(data, offset + y * rowStride, taps, from, to, out, y * dstW, rows * dstW);
    } else {
      for (let c = 0; c < channels; c++) {
        for (let y = 0; y < rows; y++) {
          const row = offset + c * channelStride + y * rowStride;
          const outRow = target.offset + c * target.channelStride + y * target.rowStride;
          for (let x = from; x < to; x++) {
            const i = x - from;
            const first = taps.offset[i];
            const n = taps.offset[i + 1] - first;
            let at = row + taps.start[i] * pixelStride;
            let acc = 0;
            for (let k = 0; k < n; k++, at += pixelStride) acc += taps.weight[first + k] * data[at];
            out[outRow + x] = acc;
          }
        }
      }
    }
    from = to;
  }
}

/**
 * One row of interleaved RGB bytes, the three channels in one sweep (a 48-megapixel photo is read once rather
 * than three times); each channel's sum runs in the same order as the general loop's.
 */
function rgbRow(
  data: Uint8Array,
  row: number,
  taps: FilterTaps,
  from: number,
  to: number,
  out: Float32Array,
  outRow: number,
  plane: number,
): void {
  const { start, offset, weight } = taps;
  for (let x = from; x < to; x++) {
    const i = x - from;
    const last = offset[i + 1];
    let at = row + start[i] * 3;
    let r = 0;
    let g = 0;
    let b = 0;
    for (let k = offset[i]; k < last; k++, at += 3) {
      const w = weight[k];
      r += w * data[at];
      g += w * data[at + 1];
      b += w * data[at + 2];
    }
    out[outRow + x] = r;
    out[plane + outRow + x] = g;
    out[2 * plane + outRow + x] = b;
  }
}

/** Each column of `src` (height srcH) → height dstH, into planar `out` (channels × dstH × width). */
function verticalPass(
  src: ResampleSource,
  channels: number,
  width: number,
  srcH: number,
  dstH: number,
  target: ResampleTarget,
): void {
  const out = target.data;
  const { data, offset, channelStride, rowStride, pixelStride } = src;
  for (let from = 0; from < dstH; ) {
    const taps = filterTaps(srcH, dstH, from);
    const to = from + taps.start.length;
    for (let c = 0; c < channels; c++) {
      for (let y = from; y < to; y++) {
        const i = y - from;
        const outRow = target.offset + c * target.channelStride + y * target.rowStride;
        const firstTap = taps.offset[i];
        const n = taps.offset[i + 1] - firstTap;
        const top = offset + c * channelStride + taps.start[i] * rowStride;
        if (n === 2 && pixelStride === 1 && data instanceof Float32Array) {
          twoRows(
            data,
            top,
            top + rowStride,
            taps.weight[firstTap],
            taps.weight[firstTap + 1],
            out,
            outRow,
            width,
          );
          continue;
        }
        for (let k = 0; k < n; k++) {
          const wk = taps.weight[firstTap + k];
          let at = top + k * rowStride;
          // The first tap sets the row (0 + w·v is w·v exactly), the others add to it.
          if (k === 0) for (let x = 0; x < width; x++, at += pixelStride) out[outRow + x] = wk * data[at];
          else for (let x = 0; x < width; x++, at += pixelStride) out[outRow + x] += wk * data[at];
        }
      }
    }
    from = to;
  }
}

/**
 * Enlarging: two taps, summed in one sweep; fround keeps the float32 rounding of the general loop. Its own
 * function, called with float rows only, so that V8 compiles it for one kind of array (the general loop also
 * sees bytes): a 48-megapixel map is written in half the time.
 */
function twoRows(
  data: Float32Array,
  a: number,
  b: number,
  w0: number,
  w1: number,
  out: Float32Array,
  o: number,
  width: number,
): void {
  for (let x = 0; x < width; x++) out[o + x] = Math.fround(w0 * data[a + x]) + w1 * data[b + x];
}

/** Most weights built at once; a block always holds at least one output, whatever its width. */
const TAP_BLOCK = 1 << 20;

/**
 * The filter of outputs from, from + 1, …, as flat arrays: output from + i reads source pixels start[i] …
 * start[i] + (offset[i + 1] − offset[i]) − 1 with the weights weight[offset[i] …]. Stops before TAP_BLOCK weights.
 */
export interface FilterTaps {
  readonly start: Int32Array;
  readonly offset: Int32Array;
  readonly weight: Float32Array;
}

export function filterTaps(srcSize: number, dstSize: number, from = 0): FilterTaps {
  const scale = srcSize / dstSize;
  const support = Math.max(1, scale);
  const centreOf = (i: number) => (i + 0.5) * scale - 0.5;
  const firstOf = (centre: number) => Math.max(0, Math.floor(centre - support) + 1);
  const lastOf = (centre: number) => Math.min(srcSize - 1, Math.ceil(centre + support) - 1);
  let to = from;
  let total = 0;
  while (to < dstSize) {
    const centre = centreOf(to);
    const n = Math.max(1, lastOf(centre) - firstOf(centre) + 1);
    if (to > from && total + n > TAP_BLOCK) break;
    total += n;
    to++;
  }
  const start = new Int32Array(to - from);
  const offset = new Int32Array(to - from + 1);
  const weight = new Float32Array(total);
  let at = 0;
  for (let i = from; i < to; i++) {
    const centre = centreOf(i);
    const first = firstOf(centre);
    const last = lastOf(centre);
    offset[i - from] = at;
    if (last < first) {
      // Enlarging near an edge: clamp to the nearest source pixel.
      start[i - from] = Math.min(srcSize - 1, Math.max(0, Math.round(centre)));
      weight[at++] = 1;
      continue;
    }
    start[i - from] = first;
    const n = last - first + 1;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const v = Math.max(0, 1 - Math.abs(first + k - centre) / support);
      weight[at + k] = v;
      sum += v;
    }
    if (sum === 0) {
      weight.fill(0, at, at + n);
      weight[at + Math.min(n - 1, Math.max(0, Math.round(centre) - first))] = 1;
    } else for (let k = at; k < at + n; k++) weight[k] /= sum;
    at += n;
  }
  offset[to - from] = at;
  return { start, offset, weight };
}
