import type { AttributionMap } from '../../core/attribution.js';
import { throwIfAborted } from '../../core/errors.js';
import { inputView, reduceChannels } from '../../core/image-tensor.js';
import type { AttributionMethod, MethodInput, MethodOptions } from '../../core/method.js';
import { inputToRgb } from '../../core/pixels.js';
import { createRng } from '../../core/random.js';
import { baseline } from '../gradient/common.js';
import { integratePath } from '../gradient/integrated-gradients.js';
import { type ColourImage, felzenszwalbScales, type Segmentation } from './felzenszwalb.js';

export interface XraiOptions extends MethodOptions {
  /** Integrated-gradients points per baseline. */
  steps: number;
}

/** PAIR saliency's segmentation settings, stated for a 224 × 224 image whose values span [−1, 1]. */
const REFERENCE_SIDE = 224;
const REFERENCE_SCALES = [50, 100, 150, 250, 500, 1200];
const REFERENCE_SIGMA = 0.8;
const REFERENCE_MIN_SIZE = 150;
/** Segments are grown by a disk of this radius (pixels) so they include the edges between them. */
const DILATION_RADIUS = 5;
/** A segment that would add fewer new pixels than this (at 224²) is dropped, as the reference does. */
const REFERENCE_MIN_NEW_PIXELS = 50;

/**
 * XRAI (Kapishnikov et al., "XRAI: Better Attributions Through Regions", ICCV 2019, Algorithm 1; PAIR
 * saliency's xrai.py is the reference implementation). Pixel attributions are Integrated Gradients from a
 * black and a white baseline, averaged, then reduced to one value per pixel by the maximum over channels, as
 * the reference does (summing signed channels lets them cancel: on the sample dog photo a sum-based ranking
 * put no more of the map on the dog than chance, the maximum 4.2× the dog's area share). Segments come from
 * Felzenszwalb's segmentation at six scales (the reference's k = 50, 100, 150, 250, 500, 1200, σ 0.8, min
 * size 150 for a 224² image whose values are stretched to [−1, 1]; here the photo is stretched to 0..255, so
 * k is halved, and k and the min size scale with the input's area, σ with its side), each dilated by a disk
 * of radius 5 px. Regions are then chosen greedily: each step adds the segment with the highest gain, the
 * mean attribution over its pixels not yet covered, until the image is covered (area threshold 1.0);
 * segments that would add fewer than 50 new pixels (at 224², scaled with the area) are dropped, and pixels no
 * region covers get their own mean attribution, as the reference does. Each pixel takes the gain of the step
 * that first covered it; the values are then shifted so the lowest gain is 0 (`details.lowestGain` gives the
 * shift), so the map is non-negative.
 * Output: H × W, unsigned (signed: false): the values rank regions by attribution density and are not
 * evidence for or against; a later region can have a higher gain than an earlier one when the pixels already
 * covered held negative attribution. Defaults: 50 steps per baseline (Gauss–Legendre, as IG).
 * Cost: 2 · (steps + 2) gradient passes, plus the segmentation (about a second at 299²); details report the
 * segments considered and the regions chosen.
 */
export const xrai: AttributionMethod<XraiOptions> = {
  id: 'xrai',
  title: 'XRAI',
  description:
    'Ranks image regions (superpixels at several scales) by their integrated-gradients attribution density.',
  requires: ['inputGradients'],
  random: false,
  defaults: { steps: 50 },
  options: {
    steps: { type: 'int', min: 1, description: 'points on the path from the baseline to the photo' },
  },
  passes: (o) => 2 * (o.steps + 2),
  async attribute(input: MethodInput, options: XraiOptions): Promise<AttributionMap> {
    const attribution = await averagedIg(input, options.steps);
    throwIfAborted(input.signal);
    const rgb = inputToRgb(input.input, input.model.spec);
    const masks = xraiSegments(rgb);
    throwIfAborted(input.signal);
    const area = rgb.width * rgb.height;
    const minNew = Math.max(1, Math.round((REFERENCE_MIN_NEW_PIXELS * area) / REFERENCE_SIDE ** 2));
    const ranking = rankRegions(attribution, masks, minNew);
    let lowest = Number.POSITIVE_INFINITY;
    for (const v of ranking.map) lowest = Math.min(lowest, v);
    const data = Float32Array.from(ranking.map, (v) => v - lowest);
    const { width, height } = inputView(input);
    return {
      width,
      height,
      data,
      signed: false,
      details: { segments: masks.length, regions: ranking.order.length, lowestGain: lowest },
    };
  },
};

/** IG from a black and a white baseline, averaged, and the largest channel at each pixel: H × W. */
async function averagedIg(input: MethodInput, steps: number): Promise<Float32Array> {
  const { model } = input;
  const rng = createRng(0);
  const perBaseline = steps + 2;
  const sum = new Float32Array(input.input.data.length);
  const types = ['black', 'white'] as const;
  for (const [i, type] of types.entries()) {
    const onProgress = input.onProgress;
    const path = await integratePath(
      {
        ...input,
        onProgress:
          onProgress &&
          ((p) =>
            onProgress({ done: i * perBaseline + p.done, total: types.length * perBaseline, unit: p.unit })),
      },
      baseline(type, input.input, model.spec, rng),
      steps,
      'gauss-legendre',
    );
    for (let j = 0; j < sum.length; j++) sum[j] += path.attributions[j] / types.length;
  }
  return reduceChannels(sum, inputView(input), 'max');
}

/**
 * The candidate regions for an image: Felzenszwalb segments at the reference's six scales, each dilated by
 * a disk of radius 5 px, as lists of pixel indices (row-major).
 */
export function xraiSegments(image: ColourImage): Int32Array[] {
  const { width: w, height: h } = image;
  const area = (w * h) / REFERENCE_SIDE ** 2;
  const stretched = stretch(image);
  const segmentations = felzenszwalbScales(
    stretched,
    // The reference's image spans 2 units where ours spans 255, and its scales are divided by 255
    // (scikit-image): the same merges happen at k / 2 here.
    REFERENCE_SCALES.map((k) => (k / 2) * area),
    { sigma: REFERENCE_SIGMA * Math.sqrt(area), minSize: Math.max(1, Math.round(REFERENCE_MIN_SIZE * area)) },
  );
  return segmentations.flatMap((s) => dilateSegments(s, DILATION_RADIUS));
}

/** The image's values stretched linearly so its darkest value is 0 and its brightest 255 (all channels). */
function stretch(image: ColourImage): ColourImage {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < image.data.length; i++) {
    min = Math.min(min, image.data[i]);
    max = Math.max(max, image.data[i]);
  }
  const scale = max > min ? 255 / (max - min) : 0;
  return { ...image, data: Float32Array.from(image.data, (v) => (v - min) * scale) };
}

/** Each segment grown by a disk of `radius` pixels (x² + y² ≤ r²), as pixel-index lists. */
export function dilateSegments(segmentation: Segmentation, radius: number): Int32Array[] {
  const { width: w, height: h, labels, count } = segmentation;
  const offsets: [number, number][] = [];
  for (let dy = -radius; dy <= radius; dy++)
    for (let dx = -radius; dx <= radius; dx++)
      if (dx * dx + dy * dy <= radius * radius) offsets.push([dx, dy]);
  const members: number[][] = Array.from({ length: count }, () => []);
  // The last pixel each label was added for, so a pixel joins a segment once however many neighbours match.
  const stamp = new Int32Array(count).fill(-1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      for (const [dx, dy] of offsets) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || xx >= w || yy < 0 || yy >= h) continue;
        const label = labels[yy * w + xx];
        if (stamp[label] === p) continue;
        stamp[label] = p;
        members[label].push(p);
      }
    }
  }
  return members.map((m) => Int32Array.from(m));
}

export interface RegionRanking {
  /** Per pixel: the gain of the step that first covered it (uncovered pixels: their own mean attribution). */
  readonly map: Float32Array;
  /** Indices of the chosen masks, in the order they were chosen. */
  readonly order: readonly number[];
  /** The gain of each chosen mask when it was chosen. */
  readonly gains: readonly number[];
}

/**
 * XRAI's greedy selection (Kapishnikov et al. 2019, Algorithm 1 with the density gain): repeatedly take the
 * mask with the highest gain = Σ attribution over its not-yet-covered pixels / their number, mark those
 * pixels with that gain, and go on until no mask adds at least `minNewPixels` pixels (a mask that adds fewer
 * is dropped for good, since coverage only grows). Ties go to the mask listed first. Pixels no chosen mask
 * covers get the mean attribution over them. Masks are lists of pixel indices into `attribution`.
 * Each mask's sums are updated only for the pixels that become covered (through a pixel → masks index), so
 * the whole selection costs O(Σ |mask| + steps · masks), not O(steps · Σ |mask|).
 */
export function rankRegions(
  attribution: Float32Array,
  masks: readonly Int32Array[],
  minNewPixels = 1,
): RegionRanking {
  const n = attribution.length;
  const sums = new Float64Array(masks.length);
  const counts = new Int32Array(masks.length);
  // Pixel → masks containing it, in compressed rows.
  const start = new Int32Array(n + 1);
  for (const mask of masks) for (const p of mask) start[p + 1]++;
  for (let p = 0; p < n; p++) start[p + 1] += start[p];
  const entries = new Int32Array(start[n]);
  const fill = start.slice(0, n);
  masks.forEach((mask, m) => {
    for (const p of mask) {
      entries[fill[p]++] = m;
      sums[m] += attribution[p];
    }
    counts[m] = mask.length;
  });
  const alive = new Uint8Array(masks.length).fill(1);
  const covered = new Uint8Array(n);
  const map = new Float32Array(n);
  const order: number[] = [];
  const gains: number[] = [];
  for (;;) {
    let best = -1;
    let bestGain = Number.NEGATIVE_INFINITY;
    for (let m = 0; m < masks.length; m++) {
      if (!alive[m]) continue;
      if (counts[m] < minNewPixels) {
        alive[m] = 0;
        continue;
      }
      const gain = sums[m] / counts[m];
      if (gain > bestGain) {
        bestGain = gain;
        best = m;
      }
    }
    if (best < 0) break;
    alive[best] = 0;
    order.push(best);
    gains.push(bestGain);
    for (const p of masks[best]) {
      if (covered[p]) continue;
      covered[p] = 1;
      map[p] = bestGain;
      for (let j = start[p]; j < start[p + 1]; j++) {
        const m = entries[j];
        sums[m] -= attribution[p];
        counts[m]--;
      }
    }
  }
  let rest = 0;
  let restCount = 0;
  for (let p = 0; p < n; p++) {
    if (covered[p]) continue;
    rest += attribution[p];
    restCount++;
  }
  if (restCount > 0) for (let p = 0; p < n; p++) if (!covered[p]) map[p] = rest / restCount;
  return { map, order, gains };
}
