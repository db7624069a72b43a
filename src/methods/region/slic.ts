import { invalidArgument } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';

export interface SlicOptions {
  /** The number of superpixels asked for, K (the result has about this many). */
  readonly segments: number;
  /** m: how much spatial distance weighs against colour distance (larger = squarer, more regular segments). */
  readonly compactness: number;
  /** k-means iterations; the paper finds 10 enough for most images. */
  readonly iterations?: number;
}

/** A partition of an image into connected regions. */
export interface Segmentation {
  readonly width: number;
  readonly height: number;
  /** Height × width, row-major, values 0 … count − 1, numbered in raster order of their first pixel. */
  readonly labels: Int32Array;
  readonly count: number;
}

/**
 * SLIC superpixels (Achanta, Shaji, Smith, Lucchi, Fua & Süsstrunk, "SLIC Superpixels Compared to
 * State-of-the-Art Superpixel Methods", TPAMI 2012, Algorithm 1):
 * 1. the photo goes to CIELAB (sRGB, D65);
 * 2. K seeds on a regular grid of step S = √(N / K), each moved to the lowest Lab gradient in its 3 × 3
 *    neighbourhood so none sits on an edge or a noisy pixel;
 * 3. local k-means: each centre claims the pixels of its 2S × 2S window that are closer to it than to any
 *    other centre under D = √(d_lab² + (m / S)² · d_xy²) (eq. 3), then centres move to their pixels' means;
 *    10 iterations, or fewer when no label changes;
 * 4. connectivity: every 4-connected piece smaller than a quarter of N / K (the authors' threshold) joins the
 *    adjacent region whose mean colour is closest, and labels are renumbered 0 … count − 1.
 * Every label of the result is one 4-connected region. Defaults as in the paper and scikit-image: m = 10.
 */
export function slic(image: RgbImage, options: SlicOptions): Segmentation {
  const { width: w, height: h } = image;
  const n = w * h;
  if (!Number.isInteger(options.segments) || options.segments < 1) {
    throw invalidArgument('segments', 'a whole number of at least 1', options.segments);
  }
  if (!(options.compactness > 0)) {
    throw invalidArgument('compactness', 'a positive number', options.compactness);
  }
  const lab = labImage(image);
  const k = Math.min(options.segments, n);
  // At most K rows: on an image narrower than S (say 2 × 100) the rows cannot be S wide, so h / S of them
  // would give several times K segments; K rows of the full width keep each cell at about N / K pixels.
  const ny = clamp(Math.round(h / Math.sqrt(n / k)), 1, Math.min(h, k));
  const nx = clamp(Math.round(k / ny), 1, w);
  const centres = nx * ny;
  const step = Math.sqrt(n / centres);
  const reach = Math.ceil(Math.max(w / nx, h / ny));
  const spatial = (options.compactness / step) ** 2;

  const gradient = labGradient(lab, w, h);
  const cL = new Float64Array(centres);
  const cA = new Float64Array(centres);
  const cB = new Float64Array(centres);
  const cX = new Float64Array(centres);
  const cY = new Float64Array(centres);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      let bx = Math.floor(((i + 0.5) * w) / nx);
      let by = Math.floor(((j + 0.5) * h) / ny);
      let best = gradient[by * w + bx];
      const sx = bx;
      const sy = by;
      for (let y = Math.max(0, sy - 1); y <= Math.min(h - 1, sy + 1); y++) {
        for (let x = Math.max(0, sx - 1); x <= Math.min(w - 1, sx + 1); x++) {
          if (gradient[y * w + x] < best) {
            best = gradient[y * w + x];
            bx = x;
            by = y;
          }
        }
      }
      const c = j * nx + i;
      const p = by * w + bx;
      cL[c] = lab[3 * p];
      cA[c] = lab[3 * p + 1];
      cB[c] = lab[3 * p + 2];
      cX[c] = bx;
      cY[c] = by;
    }
  }

  const labels = new Int32Array(n).fill(-1);
  const distance = new Float64Array(n);
  const sum = new Float64Array(centres * 6);
  const iterations = options.iterations ?? 10;
  for (let iter = 0; iter < iterations; iter++) {
    distance.fill(Number.POSITIVE_INFINITY);
    let changed = 0;
    for (let c = 0; c < centres; c++) {
      const x0 = Math.max(0, Math.floor(cX[c] - reach));
      const x1 = Math.min(w - 1, Math.ceil(cX[c] + reach));
      const y0 = Math.max(0, Math.floor(cY[c] - reach));
      const y1 = Math.min(h - 1, Math.ceil(cY[c] + reach));
      for (let y = y0; y <= y1; y++) {
        const dy = y - cY[c];
        for (let x = x0; x <= x1; x++) {
          const p = y * w + x;
          const dl = lab[3 * p] - cL[c];
          const da = lab[3 * p + 1] - cA[c];
          const db = lab[3 * p + 2] - cB[c];
          const dx = x - cX[c];
          const d = dl * dl + da * da + db * db + spatial * (dx * dx + dy * dy);
          if (d < distance[p]) {
            distance[p] = d;
            if (labels[p] !== c) {
              labels[p] = c;
              changed++;
            }
          }
        }
      }
    }
    sum.fill(0);
    for (let p = 0; p < n; p++) {
      const c = labels[p];
      if (c < 0) continue;
      sum[6 * c] += lab[3 * p];
      sum[6 * c + 1] += lab[3 * p + 1];
      sum[6 * c + 2] += lab[3 * p + 2];
      sum[6 * c + 3] += p % w;
      sum[6 * c + 4] += Math.floor(p / w);
      sum[6 * c + 5] += 1;
    }
    for (let c = 0; c < centres; c++) {
      const count = sum[6 * c + 5];
      // A centre that won no pixel stays where it was.
      if (count === 0) continue;
      cL[c] = sum[6 * c] / count;
      cA[c] = sum[6 * c + 1] / count;
      cB[c] = sum[6 * c + 2] / count;
      cX[c] = sum[6 * c + 3] / count;
      cY[c] = sum[6 * c + 4] / count;
    }
    if (changed === 0) break;
  }
  return enforceConnectivity(labels, lab, w, h, Math.floor(n / centres / 4));
}

/** sRGB bytes → CIELAB (D65 white, 2° observer), as L ∈ [0, 100] and a, b roughly in [−128, 127]. */
export function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const lr = linear(r);
  const lg = linear(g);
  const lb = linear(b);
  // sRGB primaries → XYZ (IEC 61966-2-1), each divided by the D65 white point.
  const x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / 0.95047;
  const y = 0.2126729 * lr + 0.7151522 * lg + 0.072175 * lb;
  const z = (0.0193339 * lr + 0.119192 * lg + 0.9503041 * lb) / 1.08883;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

function linear(v: number): number {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function labF(t: number): number {
  // CIE's exact constants ε = 216/24389 and κ = 24389/27, so the two pieces meet without a kink.
  return t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116;
}

/** H × W × 3 Lab values, interleaved; each of the 256³ colours is converted once per distinct value. */
function labImage(image: RgbImage): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(3 * n);
  const seen = new Map<number, number>();
  for (let p = 0; p < n; p++) {
    const r = image.data[3 * p];
    const g = image.data[3 * p + 1];
    const b = image.data[3 * p + 2];
    const key = (r << 16) | (g << 8) | b;
    const first = seen.get(key);
    if (first !== undefined) {
      out[3 * p] = out[3 * first];
      out[3 * p + 1] = out[3 * first + 1];
      out[3 * p + 2] = out[3 * first + 2];
      continue;
    }
    seen.set(key, p);
    const [l, a, bb] = rgbToLab(r, g, b);
    out[3 * p] = l;
    out[3 * p + 1] = a;
    out[3 * p + 2] = bb;
  }
  return out;
}

/** The paper's G(x, y) = ‖I(x+1, y) − I(x−1, y)‖² + ‖I(x, y+1) − I(x, y−1)‖², edges clamped. */
function labGradient(lab: Float32Array, w: number, h: number): Float64Array {
  const out = new Float64Array(w * h);
  const sq = (p: number, q: number) => {
    const dl = lab[3 * p] - lab[3 * q];
    const da = lab[3 * p + 1] - lab[3 * q + 1];
    const db = lab[3 * p + 2] - lab[3 * q + 2];
    return dl * dl + da * da + db * db;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const left = y * w + Math.max(0, x - 1);
      const right = y * w + Math.min(w - 1, x + 1);
      const up = Math.max(0, y - 1) * w + x;
      const down = Math.min(h - 1, y + 1) * w + x;
      out[y * w + x] = sq(right, left) + sq(down, up);
    }
  }
  return out;
}

/**
 * Splits k-means labels into 4-connected pieces, merges every piece under `minSize` pixels into the
 * adjacent region of the nearest mean colour (smallest pieces first, so a fragment joins a real region,
 * not another fragment), and numbers the regions in raster order.
 */
function enforceConnectivity(
  labels: Int32Array,
  lab: Float32Array,
  w: number,
  h: number,
  minSize: number,
): Segmentation {
  const n = w * h;
  const piece = new Int32Array(n).fill(-1);
  const size: number[] = [];
  const mean: number[] = [];
  const stack = new Int32Array(n);
  for (let start = 0; start < n; start++) {
    if (piece[start] >= 0) continue;
    const id = size.length;
    const label = labels[start];
    let top = 0;
    let count = 0;
    let l = 0;
    let a = 0;
    let b = 0;
    piece[start] = id;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top];
      count++;
      l += lab[3 * p];
      a += lab[3 * p + 1];
      b += lab[3 * p + 2];
      const x = p % w;
      const visit = (q: number) => {
        if (piece[q] < 0 && labels[q] === label) {
          piece[q] = id;
          stack[top++] = q;
        }
      };
      if (x > 0) visit(p - 1);
      if (x < w - 1) visit(p + 1);
      if (p >= w) visit(p - w);
      if (p < n - w) visit(p + w);
    }
    size.push(count);
    mean.push(l, a, b);
  }

  const pieces = size.length;
  const neighbours: Set<number>[] = Array.from({ length: pieces }, () => new Set<number>());
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (x < w - 1 && piece[p] !== piece[p + 1]) {
        neighbours[piece[p]].add(piece[p + 1]);
        neighbours[piece[p + 1]].add(piece[p]);
      }
      if (y < h - 1 && piece[p] !== piece[p + w]) {
        neighbours[piece[p]].add(piece[p + w]);
        neighbours[piece[p + w]].add(piece[p]);
      }
    }
  }
  for (let i = 0; i < pieces; i++) {
    mean[3 * i] /= size[i];
    mean[3 * i + 1] /= size[i];
    mean[3 * i + 2] /= size[i];
  }

  const parent = Int32Array.from({ length: pieces }, (_, i) => i);
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r];
    while (parent[i] !== r) {
      const next = parent[i];
      parent[i] = r;
      i = next;
    }
    return r;
  };
  const order = Array.from({ length: pieces }, (_, i) => i).filter((i) => size[i] < minSize);
  order.sort((i, j) => size[i] - size[j] || i - j);
  for (const i of order) {
    const r = find(i);
    if (size[r] >= minSize) continue;
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const q of neighbours[r]) {
      const s = find(q);
      if (s === r) continue;
      const dl = mean[3 * s] - mean[3 * r];
      const da = mean[3 * s + 1] - mean[3 * r + 1];
      const db = mean[3 * s + 2] - mean[3 * r + 2];
      const d = dl * dl + da * da + db * db;
      if (d < bestDistance || (d === bestDistance && s < best)) {
        bestDistance = d;
        best = s;
      }
    }
    if (best < 0) continue;
    // Merge r into best: sizes, mean colours and neighbour sets combine.
    const total = size[r] + size[best];
    for (let c = 0; c < 3; c++)
      mean[3 * best + c] = (mean[3 * best + c] * size[best] + mean[3 * r + c] * size[r]) / total;
    size[best] = total;
    parent[r] = best;
    for (const q of neighbours[r]) neighbours[best].add(q);
    neighbours[r].clear();
  }

  const number = new Int32Array(pieces).fill(-1);
  const out = new Int32Array(n);
  let count = 0;
  for (let p = 0; p < n; p++) {
    const r = find(piece[p]);
    if (number[r] < 0) number[r] = count++;
    out[p] = number[r];
  }
  return { width: w, height: h, labels: out, count };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
