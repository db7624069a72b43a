/**
 * Separable resampling as PIL's resize computes it. Linear (the default): when shrinking, the triangle filter is
 * widened by the scale factor so every source pixel contributes (antialiasing, as PIL and sharp do); when
 * enlarging it is plain bilinear interpolation with pixel centres aligned (align_corners = false). Bicubic is
 * PIL's (a = −0.5, support 2, widened the same way); nearest takes source pixel floor((i + 0.5) · scale).
 *
 * Everything is typed arrays: filter taps are built in blocks of at most TAP_BLOCK weights, so a 49,000,000 × 1
 * photo costs memory for its pixels and the result, not for one object (or one weight list) per output pixel.
 */

/**
 * Where sample (c, y, x) of a source lies in `data`: offset + c · channelStride + y · rowStride + x · pixelStride.
 * Planar float maps and interleaved RGB bytes (with a crop as the offset) are both read in place.
 */
import type { ResampleFilter } from './model.js';

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
  filter: ResampleFilter = 'bilinear',
): Float32Array {
  const source = {
    data: rgb,
    offset: (y0 * imageWidth + x0) * 3,
    channelStride: 1,
    rowStride: imageWidth * 3,
    pixelStride: 3,
  };
  return resampleSource(source, 3, cropW, cropH, dstW, dstH, undefined, filter);
}

/** Which outputs of a resize to compute: columns left … left + width − 1, rows top … top + height − 1. */
export interface ResampleWindow {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * A whole interleaved RGB photo resized to fullW × fullH, of which only `window` is computed → planar RGB floats
 * (3 × window.height × window.width): resize-then-crop as Hugging Face and timm do it, where the filter at the
 * crop's edge still reads the photo's pixels beyond it. Values are kept in 0..255 after each pass as PIL's
 * 8-bit resize keeps them (only bicubic's negative lobes can leave that range).
 */
export function resampleRgbWindow(
  rgb: Uint8Array,
  imageWidth: number,
  imageHeight: number,
  fullW: number,
  fullH: number,
  window: ResampleWindow,
  filter: ResampleFilter = 'bilinear',
): Float32Array {
  const source = { data: rgb, offset: 0, channelStride: 1, rowStride: imageWidth * 3, pixelStride: 3 };
  const { left, top, width, height } = window;
  if (left < 0 || top < 0 || width < 1 || height < 1 || left + width > fullW || top + height > fullH)
    throw new RangeError(`window ${left},${top} ${width}×${height} outside ${fullW}×${fullH}`);
  // Only the photo's rows that the window's rows read are widened: a long strip resized by its short side
  // would otherwise make an intermediate of every row.
  const firstTaps = filterTaps(imageHeight, fullH, top, filter, top + 1);
  const lastTaps = filterTaps(imageHeight, fullH, top + height - 1, filter, top + height);
  const row0 = firstTaps.start[0];
  const rows = lastTaps.start[0] + lastTaps.offset[1] - row0;
  const tmp = planar(3, rows, width);
  const band = { ...source, offset: row0 * source.rowStride };
  horizontalPass(band, 3, imageWidth, rows, fullW, tmp, filter, left, width);
  if (filter === 'bicubic') clamp255(tmp.data);
  const target = planar(3, height, width);
  // The vertical taps count rows of the whole photo; the band starts at row0.
  const shifted = { ...tmp, offset: -row0 * width, pixelStride: 1 };
  verticalPass(shifted, 3, width, imageHeight, fullH, target, filter, top, height);
  if (filter === 'bicubic') clamp255(target.data);
  return target.data;
}

function clamp255(data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0) data[i] = 0;
    else if (v > 255) data[i] = 255;
  }
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
  filter: ResampleFilter = 'bilinear',
): Float32Array {
  const clamp = filter === 'bicubic' && src.data instanceof Uint8Array;
  // Rows first, as before, unless that intermediate would be far larger than the columns-first one (a tall
  // 1 × 49,000,000 strip resized to 299 × 299 would widen 49 million rows before shrinking them).
  if (srcH * dstW <= 4 * dstH * srcW) {
    const tmp = planar(channels, srcH, dstW);
    horizontalPass(src, channels, srcW, srcH, dstW, tmp, filter);
    if (clamp) clamp255(tmp.data);
    verticalPass({ ...tmp, pixelStride: 1 }, channels, dstW, srcH, dstH, target, filter);
  } else {
    const tmp = planar(channels, dstH, srcW);
    verticalPass(src, channels, srcW, srcH, dstH, tmp, filter);
    if (clamp) clamp255(tmp.data);
    horizontalPass({ ...tmp, pixelStride: 1 }, channels, srcW, dstH, dstW, target, filter);
  }
  // Bytes in, 8-bit range out, as PIL's resize keeps it (a fresh planar result; maps are never bicubic).
  if (clamp && target.offset === 0 && target.data.length === channels * dstH * dstW) clamp255(target.data);
  return target.data;
}

function planar(channels: number, rows: number, width: number): ResampleTarget {
  const data = new Float32Array(channels * rows * width);
  return { data, offset: 0, channelStride: rows * width, rowStride: width };
}

/**
 * Each row of `src` (width srcW) → width dstW, into planar `out` (channels × rows × count): outputs first …
 * first + count − 1 of the resize (all of them by default), written from column 0.
 */
function horizontalPass(
  src: ResampleSource,
  channels: number,
  srcW: number,
  rows: number,
  dstW: number,
  target: ResampleTarget,
  filter: ResampleFilter,
  outFirst = 0,
  count = dstW,
): void {
  const out = target.data;
  const { data, offset, channelStride, rowStride, pixelStride } = src;
  const rgb = data instanceof Uint8Array && channels === 3 && channelStride === 1 && pixelStride === 3;
  const end = outFirst + count;
  for (let from = outFirst; from < end; ) {
    const taps = filterTaps(srcW, dstW, from, filter, end);
    const to = from + taps.start.length;
    if (rgb) {
      // Planar output with count columns: target.offset 0 and rowStride count (both callers' planar tmp).
      for (let y = 0; y < rows; y++)
        rgbRow(data, offset + y * rowStride, taps, from, to, out, y * count - outFirst, rows * count);
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
            out[outRow + x - outFirst] = acc;
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

/**
 * Each column of `src` (height srcH) → height dstH, into planar `out` (channels × count × width): outputs
 * first … first + count − 1 of the resize (all of them by default), written from row 0.
 */
function verticalPass(
  src: ResampleSource,
  channels: number,
  width: number,
  srcH: number,
  dstH: number,
  target: ResampleTarget,
  filter: ResampleFilter,
  first = 0,
  count = dstH,
): void {
  const out = target.data;
  const { data, offset, channelStride, rowStride, pixelStride } = src;
  const end = first + count;
  for (let from = first; from < end; ) {
    const taps = filterTaps(srcH, dstH, from, filter, end);
    const to = from + taps.start.length;
    for (let c = 0; c < channels; c++) {
      for (let y = from; y < to; y++) {
        const i = y - from;
        const outRow = target.offset + c * target.channelStride + (y - first) * target.rowStride;
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

export function filterTaps(
  srcSize: number,
  dstSize: number,
  from = 0,
  filter: ResampleFilter = 'bilinear',
  end = dstSize,
): FilterTaps {
  const scale = srcSize / dstSize;
  const nearest = filter === 'nearest';
  const kernel = filter === 'bicubic' ? bicubic : triangle;
  const scaleUp = Math.max(1, scale);
  const support = nearest ? 0 : kernel.support * scaleUp;
  const centreOf = (i: number) => (i + 0.5) * scale - 0.5;
  const firstOf = (centre: number) => Math.max(0, Math.floor(centre - support) + 1);
  const lastOf = (centre: number) => Math.min(srcSize - 1, Math.ceil(centre + support) - 1);
  let to = from;
  let total = 0;
  while (to < end) {
    const centre = centreOf(to);
    const n = nearest ? 1 : Math.max(1, lastOf(centre) - firstOf(centre) + 1);
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
    offset[i - from] = at;
    if (nearest) {
      // PIL's nearest: the source pixel under the output pixel's centre.
      start[i - from] = Math.min(srcSize - 1, Math.floor((i + 0.5) * scale));
      weight[at++] = 1;
      continue;
    }
    const first = firstOf(centre);
    const last = lastOf(centre);
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
      const v = kernel((first + k - centre) / scaleUp);
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

/** A filter kernel over distances in source pixels (at scale 1) and the distance past which it is 0. */
type Kernel = ((x: number) => number) & { readonly support: number };

const triangle: Kernel = Object.assign((x: number) => Math.max(0, 1 - Math.abs(x)), { support: 1 });

/** Keys' cubic convolution with a = −0.5, PIL's BICUBIC (Pillow libImaging/Resample.c bicubic_filter). */
const bicubic: Kernel = Object.assign(
  (x: number) => {
    const a = -0.5;
    const t = Math.abs(x);
    if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
    return 0;
  },
  { support: 2 },
);
