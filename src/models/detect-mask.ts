/**
 * An instance-segmentation detection's mask over the photo (pure, no I/O), as Ultralytics' process_mask
 * (upsample=True) and scale_image make it: the prototype-resolution mask that detect-decode.ts cut to the box
 * (crop_mask), enlarged bilinearly to the model input (F.interpolate, align_corners=False), the photo's part of
 * the input (the letterbox window, or the whole input for a crop or squash) resized onto the photo, then
 * thresholded: a pixel is inside when its value is above 0.5.
 *
 * Resizes are core/resample.ts's (PIL's: plain bilinear when enlarging, which is torch's; antialiased when
 * shrinking, where Ultralytics' cv2.resize is not: only photos smaller than the model input differ). Only the
 * mask's neighbourhood is computed: the rest of a resize of zeros is zero, so a 12-megapixel photo costs the
 * size of the object, not of the photo, per detection.
 */
import type { Geometry } from '../core/preprocess.js';
import { filterTaps } from '../core/resample.js';
import type { DetectionMask } from './detect-decode.js';

/** A rectangle of pixels: columns left … left + width − 1, rows top … top + height − 1. */
interface Window {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Values on a window of a larger plane whose other pixels are 0. */
interface Patch extends Window {
  readonly data: Float32Array;
}

/** A detection's mask in photo pixels: 1 inside, over the smallest window that holds every inside pixel. */
export interface PhotoMask {
  /** Column and row of the window's first pixel in the photo. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** width × height bytes, row-major, 1 inside and 0 outside. */
  readonly data: Uint8Array;
}

/** The threshold of Ultralytics' masks (gt_(0.5) on the sigmoid). */
export const MASK_THRESHOLD = 0.5;

/**
 * The output pixels, along one axis of a resize from srcSize to dstSize, that can read source pixels
 * first … last: a bilinear tap reaches max(1, scale) source pixels either side of its centre; one pixel more
 * each side covers rounding.
 */
function reach(first: number, last: number, srcSize: number, dstSize: number): [number, number] {
  const scale = srcSize / dstSize;
  const support = Math.max(1, scale) + 1;
  const from = Math.floor((first - support + 0.5) / scale - 0.5);
  const to = Math.ceil((last + support + 0.5) / scale + 0.5);
  return [Math.max(0, from), Math.min(dstSize, to)];
}

/**
 * The part `out` of a resize of a srcW × srcH plane, which is `src` and 0 elsewhere, to dstW × dstH: rows
 * first (over the patch's rows only; the others are 0), then columns, with the filter taps of the whole
 * resize, so the numbers are those of resizing the whole plane.
 */
function resizePatch(src: Patch, srcW: number, srcH: number, dstW: number, dstH: number, out: Window): Patch {
  const { width: w, height: h } = out;
  const data = new Float32Array(Math.max(0, w) * Math.max(0, h));
  if (w <= 0 || h <= 0 || src.width <= 0 || src.height <= 0) return { ...out, data };
  const tmp = new Float32Array(src.height * w);
  // filterTaps gives the taps of consecutive outputs in blocks (of at most 2^20 weights): a long photo side
  // takes several.
  for (let from = out.left; from < out.left + w; ) {
    const columns = filterTaps(srcW, dstW, from, 'bilinear', out.left + w);
    const count = columns.start.length;
    // Row by row, so each row of tmp is written in order.
    for (let y = 0; y < src.height; y++) {
      const row = y * src.width;
      const at = y * w + from - out.left;
      for (let j = 0; j < count; j++) {
        const first = columns.offset[j];
        const start = columns.start[j] - first;
        let sum = 0;
        for (let k = first; k < columns.offset[j + 1]; k++) {
          const x = start + k - src.left;
          if (x >= 0 && x < src.width) sum += columns.weight[k] * src.data[row + x];
        }
        tmp[at + j] = sum;
      }
    }
    from += count;
  }
  for (let from = out.top; from < out.top + h; ) {
    const rows = filterTaps(srcH, dstH, from, 'bilinear', out.top + h);
    for (let r = 0; r < rows.start.length; r++) {
      const j = from - out.top + r;
      const start = rows.start[r] - src.top;
      for (let k = rows.offset[r]; k < rows.offset[r + 1]; k++) {
        const y = start + (k - rows.offset[r]);
        if (y < 0 || y >= src.height) continue;
        const weight = rows.weight[k];
        for (let i = 0; i < w; i++) data[j * w + i] += weight * tmp[y * w + i];
      }
    }
    from += rows.start.length;
  }
  return { ...out, data };
}

/** The smallest window holding every non-zero pixel of a full plane; undefined when there is none. */
function nonZero(data: Float32Array, width: number, height: number): Window | undefined {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (data[y * width + x] !== 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
  return x1 < 0 ? undefined : { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** Where a resize of `src` to dst can be non-zero. */
function reachWindow(src: Window, srcW: number, srcH: number, dstW: number, dstH: number): Window {
  const [l, r] = reach(src.left, src.left + src.width - 1, srcW, dstW);
  const [t, b] = reach(src.top, src.top + src.height - 1, srcH, dstH);
  return { left: l, top: t, width: Math.max(0, r - l), height: Math.max(0, b - t) };
}

/**
 * The mask enlarged to the model input (width × height), before the threshold: Ultralytics' process_mask with
 * upsample=True. Returned as a patch: pixels outside it are 0.
 */
export function maskAtInput(mask: DetectionMask, width: number, height: number): Patch {
  const where = nonZero(mask.data, mask.width, mask.height);
  if (!where) return { left: 0, top: 0, width: 0, height: 0, data: new Float32Array(0) };
  const patch = cut(mask.data, mask.width, where);
  return resizePatch(
    patch,
    mask.width,
    mask.height,
    width,
    height,
    reachWindow(where, mask.width, mask.height, width, height),
  );
}

function cut(data: Float32Array, width: number, w: Window): Patch {
  const out = new Float32Array(w.width * w.height);
  for (let y = 0; y < w.height; y++)
    out.set(data.subarray((w.top + y) * width + w.left, (w.top + y) * width + w.left + w.width), y * w.width);
  return { ...w, data: out };
}

/**
 * The mask over the photo before the threshold, as core/preprocess.ts mapToImage maps a saliency map: the
 * letterbox window resized to the whole photo, or the whole input resized onto its (rounded) crop.
 */
export function maskValuesAtPhoto(
  mask: DetectionMask,
  inputWidth: number,
  inputHeight: number,
  g: Geometry,
): Patch {
  const atInput = maskAtInput(mask, inputWidth, inputHeight);
  // The part of the input the photo fills, and where in the photo it lands.
  let source: Window;
  let place: Window;
  if (g.letterbox) {
    source = g.letterbox;
    place = { left: 0, top: 0, width: g.imageWidth, height: g.imageHeight };
  } else {
    source = { left: 0, top: 0, width: inputWidth, height: inputHeight };
    place = {
      left: Math.round(g.cropX),
      top: Math.round(g.cropY),
      width: Math.max(1, Math.round(g.cropWidth)),
      height: Math.max(1, Math.round(g.cropHeight)),
    };
  }
  const shifted: Patch = { ...atInput, left: atInput.left - source.left, top: atInput.top - source.top };
  const reached = reachWindow(shifted, source.width, source.height, place.width, place.height);
  // Only the photo's own pixels: a crop may reach past the photo's edge.
  const left = Math.max(reached.left, -place.left);
  const top = Math.max(reached.top, -place.top);
  const right = Math.min(reached.left + reached.width, g.imageWidth - place.left);
  const bottom = Math.min(reached.top + reached.height, g.imageHeight - place.top);
  const out = { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
  const resized = resizePatch(shifted, source.width, source.height, place.width, place.height, out);
  return { ...resized, left: resized.left + place.left, top: resized.top + place.top };
}

/** The detection's mask over the photo: pixels above MASK_THRESHOLD, on the smallest window that holds them. */
export function photoMask(
  mask: DetectionMask,
  inputWidth: number,
  inputHeight: number,
  g: Geometry,
): PhotoMask {
  const v = maskValuesAtPhoto(mask, inputWidth, inputHeight, g);
  let x0 = v.width;
  let y0 = v.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < v.height; y++)
    for (let x = 0; x < v.width; x++)
      if (v.data[y * v.width + x] > MASK_THRESHOLD) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
  if (x1 < 0) return { x: 0, y: 0, width: 0, height: 0, data: new Uint8Array(0) };
  const width = x1 - x0 + 1;
  const height = y1 - y0 + 1;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data[y * width + x] = v.data[(y0 + y) * v.width + x0 + x] > MASK_THRESHOLD ? 1 : 0;
  return { x: v.left + x0, y: v.top + y0, width, height, data };
}

/** Pixels inside the mask. */
export function maskArea(mask: PhotoMask): number {
  let n = 0;
  for (const v of mask.data) n += v;
  return n;
}

/** The mask as a whole photo's per-pixel region (1 inside), as metrics/region.ts maskAttention reads one. */
export function fullPhotoMask(mask: PhotoMask, photoWidth: number, photoHeight: number): Uint8Array {
  const out = new Uint8Array(photoWidth * photoHeight);
  for (let y = 0; y < mask.height; y++) {
    const py = mask.y + y;
    if (py < 0 || py >= photoHeight) continue;
    for (let x = 0; x < mask.width; x++) {
      const px = mask.x + x;
      if (px >= 0 && px < photoWidth && mask.data[y * mask.width + x]) out[py * photoWidth + px] = 1;
    }
  }
  return out;
}

/**
 * COCO's uncompressed run-length encoding of the mask over the whole photo (what pycocotools' frPyObjects
 * reads, and core/regions/rle.ts): size [height, width], counts of alternating 0s and 1s in column-major order,
 * starting with 0s (a first count of 0 when the first pixel is inside).
 */
export function maskRle(
  mask: PhotoMask,
  photoWidth: number,
  photoHeight: number,
): { size: [number, number]; counts: number[] } {
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  const push = (v: number, n: number) => {
    if (n === 0) return;
    if (v === value) run += n;
    else {
      counts.push(run);
      value = v;
      run = n;
    }
  };
  for (let px = 0; px < photoWidth; px++) {
    const x = px - mask.x;
    if (x < 0 || x >= mask.width) {
      push(0, photoHeight);
      continue;
    }
    push(0, Math.max(0, Math.min(photoHeight, mask.y)));
    for (let y = Math.max(0, -mask.y); y < mask.height && mask.y + y < photoHeight; y++)
      push(mask.data[y * mask.width + x], 1);
    push(0, photoHeight - Math.max(0, Math.min(photoHeight, mask.y + mask.height)));
  }
  counts.push(run);
  return { size: [photoHeight, photoWidth], counts };
}

/**
 * The mask on a photo resized by `scale` (an audit overlay's size): each output pixel takes the mask's pixel
 * under its centre, as nearest-neighbour resizing does.
 */
export function scaleMask(mask: PhotoMask, scale: number): PhotoMask {
  if (scale === 1 || mask.width === 0) return mask;
  const x0 = Math.floor(mask.x * scale);
  const y0 = Math.floor(mask.y * scale);
  const width = Math.max(1, Math.ceil((mask.x + mask.width) * scale) - x0);
  const height = Math.max(1, Math.ceil((mask.y + mask.height) * scale) - y0);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor((y0 + y + 0.5) / scale) - mask.y;
    if (sy < 0 || sy >= mask.height) continue;
    for (let x = 0; x < width; x++) {
      const sx = Math.floor((x0 + x + 0.5) / scale) - mask.x;
      if (sx >= 0 && sx < mask.width) data[y * width + x] = mask.data[sy * mask.width + sx];
    }
  }
  return { x: x0, y: y0, width, height, data };
}
