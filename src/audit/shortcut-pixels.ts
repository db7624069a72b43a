// The shortcut tests' pictures, made at the model's input (audit --shortcuts): the photo and its region mask go
// through the model's own crop and resize once, and every variant is composed from those pixels, so a swap
// between photos of different sizes lines up and no variant is resized twice.
import { gaussianBlur } from '../core/blur.js';
import type { RgbImage } from '../core/image.js';
import { imageView } from '../core/image-tensor.js';
import type { ModelSpec } from '../core/model.js';
import { preprocess } from '../core/preprocess.js';
import type { Tensor } from '../core/tensor.js';

/** A photo at the model's input: planar RGB in 0..255 (3 × height × width) and its region (1 inside). */
export interface InputScene {
  readonly width: number;
  readonly height: number;
  readonly planes: Float32Array;
  readonly mask: Uint8Array;
}

/**
 * The blur's σ as a share of the input's longer side: wide enough that an object's middle still gets weight
 * from its surroundings (a region up to about 0.6 of the side across), so a filled region carries no trace of
 * the object's own colours.
 */
export const BLUR_SIGMA_SHARE = 0.1;

/**
 * `image` and its region `mask` (image-sized, non-zero inside) at the model's input. The mask takes the same
 * crop and resize as the photo and is read at half (a pixel is inside when at least half of it was), so a
 * letterbox's grey padding falls outside.
 */
export function sceneAtInput(image: RgbImage, mask: Uint8Array, spec: ModelSpec): InputScene {
  const planes = inputPlanes(preprocess(image, spec).tensor, spec);
  const maskImage = new Uint8Array(image.width * image.height * 3);
  for (let i = 0; i < mask.length; i++) if (mask[i]) maskImage.fill(255, i * 3, i * 3 + 3);
  const maskPlanes = inputPlanes(
    preprocess({ width: image.width, height: image.height, data: maskImage }, spec).tensor,
    spec,
  );
  const plane = spec.width * spec.height;
  const inside = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) inside[i] = maskPlanes[i] >= 127.5 ? 1 : 0;
  return { width: spec.width, height: spec.height, planes, mask: inside };
}

/** A one-image model input back to planar RGB in 0..255 (the inverse of toModelLayout, unrounded). */
export function inputPlanes(tensor: Tensor, spec: ModelSpec): Float32Array {
  const { plane, channelStride: cs, pixelStride: ps } = imageView(tensor.dims, spec.layout);
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const colour = spec.channelOrder === 'RGB' ? c : 2 - c;
    const mean = spec.mean[c];
    const std = spec.std[c];
    for (let i = 0; i < plane; i++)
      out[colour * plane + i] = (tensor.data[c * cs + i * ps] * std + mean) * 255;
  }
  return out;
}

/**
 * The blur is computed on the input reduced to about this many pixels along its longer side (box sums of
 * whole cells), then spread back bilinearly: the fill is smooth at the blur's scale anyway, and a full-size
 * blur of σ = a tenth of a 299-pixel side costs a second per image where this costs milliseconds.
 */
export const BLUR_GRID = 64;

/**
 * The background alone, blurred (normalised convolution: the blur of the photo with the region's pixels left
 * out, divided by the blur of the weights), defined everywhere: inside the region it is the surroundings blurred
 * in. Where no background pixel lies within reach (a region covering nearly all of the input), the background's
 * mean colour; black when there is no background at all.
 */
export function blurredBackground(scene: InputScene): Float32Array {
  const { width, height, planes, mask } = scene;
  const plane = width * height;
  const k = Math.max(1, Math.floor(Math.max(width, height) / BLUR_GRID));
  const sw = Math.ceil(width / k);
  const sh = Math.ceil(height / k);
  const small = sw * sh;
  // Channels 0–2: the background's colour sums per cell; channel 3: its pixel count.
  const sums = new Float32Array(4 * small);
  const mean = [0, 0, 0];
  let outside = 0;
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / k) * sw;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (mask[i]) continue;
      const cell = row + Math.floor(x / k);
      outside++;
      sums[3 * small + cell]++;
      for (let c = 0; c < 3; c++) {
        sums[c * small + cell] += planes[c * plane + i];
        mean[c] += planes[c * plane + i];
      }
    }
  }
  const sigma = Math.max(1, BLUR_SIGMA_SHARE * Math.max(sw, sh));
  const blurred = gaussianBlur(sums, 4, sw, sh, sigma);
  const fill = new Float32Array(3 * small);
  for (let i = 0; i < small; i++) {
    const w = blurred[3 * small + i];
    for (let c = 0; c < 3; c++)
      fill[c * small + i] =
        w > 1e-4 * k * k ? blurred[c * small + i] / w : outside > 0 ? mean[c] / outside : 0;
  }
  return upsample(fill, sw, sh, width, height, k);
}

/** Planes of sw × sh cells of k × k pixels, bilinearly to width × height (cell centres as sample points). */
function upsample(
  cells: Float32Array,
  sw: number,
  sh: number,
  width: number,
  height: number,
  k: number,
): Float32Array {
  if (k === 1) return cells;
  const plane = width * height;
  const small = sw * sh;
  const out = new Float32Array(3 * plane);
  const along = (n: number, cellsAlong: number) =>
    Array.from({ length: n }, (_, p) => {
      const u = Math.min(cellsAlong - 1, Math.max(0, (p + 0.5) / k - 0.5));
      const a = Math.floor(u);
      return { a, b: Math.min(cellsAlong - 1, a + 1), t: u - a };
    });
  const xs = along(width, sw);
  const ys = along(height, sh);
  for (let c = 0; c < 3; c++) {
    const base = c * small;
    for (let y = 0; y < height; y++) {
      const { a: ya, b: yb, t: ty } = ys[y];
      for (let x = 0; x < width; x++) {
        const { a: xa, b: xb, t: tx } = xs[x];
        const top = cells[base + ya * sw + xa] * (1 - tx) + cells[base + ya * sw + xb] * tx;
        const bottom = cells[base + yb * sw + xa] * (1 - tx) + cells[base + yb * sw + xb] * tx;
        out[c * plane + y * width + x] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return out;
}

/** One colour (0..255 RGB) over a whole plane set. */
export function solidPlanes(width: number, height: number, colour: readonly number[]): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) out.fill(colour[c], c * plane, (c + 1) * plane);
  return out;
}

/** `inside` where the mask is set, `outside` elsewhere: every variant is one such paste. */
export function paste(mask: Uint8Array, inside: Float32Array, outside: Float32Array): Float32Array {
  const plane = mask.length;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = mask[i] ? inside[base + i] : outside[base + i];
  }
  return out;
}

/** Per channel, the mean of the planes (0..255 RGB). */
export function meanColour(planes: Float32Array): [number, number, number] {
  const plane = planes.length / 3;
  const out: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += planes[c * plane + i];
    out[c] = sum / plane;
  }
  return out;
}
