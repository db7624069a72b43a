import { gaussianBlur } from '../../core/blur.js';
import { invalidArgument } from '../../core/errors.js';

/** An RGB image in 0..255 units, height × width × 3 interleaved (an RgbImage, or float pixels). */
export interface ColourImage {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

/** A label per pixel (row-major height × width), numbered 0..count − 1 in order of first appearance. */
export interface Segmentation {
  readonly width: number;
  readonly height: number;
  readonly labels: Int32Array;
  readonly count: number;
}

export interface FelzenszwalbOptions {
  /** k in τ(C) = k / |C|, in 0..255 colour units: larger k, larger segments. */
  readonly scale: number;
  /** σ of the Gaussian pre-smoothing in pixels (0 = none). Default 0.8, the paper's. */
  readonly sigma?: number;
  /** Segments smaller than this many pixels are merged into a neighbour afterwards. Default 20. */
  readonly minSize?: number;
}

/**
 * Felzenszwalb–Huttenlocher graph segmentation (Felzenszwalb & Huttenlocher, "Efficient Graph-Based Image
 * Segmentation", IJCV 2004, Algorithm 1). The image, smoothed with a Gaussian of σ, is an 8-connected grid
 * graph whose edge weights are the Euclidean distances between neighbouring RGB colours. Edges are taken in
 * non-decreasing weight order; the components C1, C2 at an edge's ends merge when the weight is at most
 * MInt(C1, C2) = min(Int(C1) + k/|C1|, Int(C2) + k/|C2|) (eq. 4–5), Int(C) being the largest weight in C's
 * minimum spanning tree — the weight of the edge that last merged it, since edges come sorted. Then, as in
 * the authors' code, edges are walked in the same order once more and any whose ends lie in different
 * components, one smaller than `minSize`, merges them: every segment ends with at least `minSize` pixels
 * unless the whole image is smaller.
 * Units: colours in 0..255 and k as in the authors' code; scikit-image's `scale` means the same for an
 * image in [0, 1] (it divides scale by 255). Ties between equal weights are broken by edge order (pixels in
 * raster order; right, down, down-right, up-right), so the result is deterministic.
 * Output: labels height × width relabelled 0..count − 1 in raster order of first appearance.
 */
export function felzenszwalb(image: ColourImage, options: FelzenszwalbOptions): Segmentation {
  return felzenszwalbScales(image, [options.scale], options)[0];
}

/** Felzenszwalb segmentations at several scales k of one image, sharing the smoothing and the sorted graph. */
export function felzenszwalbScales(
  image: ColourImage,
  scales: readonly number[],
  options: Omit<FelzenszwalbOptions, 'scale'> = {},
): Segmentation[] {
  const sigma = options.sigma ?? 0.8;
  const minSize = options.minSize ?? 20;
  checkImage(image);
  for (const k of scales) {
    if (!(Number.isFinite(k) && k >= 0)) throw invalidArgument('scale', 'a finite number ≥ 0', k);
  }
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw invalidArgument('sigma', 'a finite number ≥ 0', sigma);
  if (!(Number.isInteger(minSize) && minSize >= 0))
    throw invalidArgument('minSize', 'a whole number ≥ 0', minSize);
  const graph = buildGraph(image, sigma);
  return scales.map((k) => segmentGraph(graph, image.width, image.height, k, minSize));
}

function checkImage(image: ColourImage): void {
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw invalidArgument('image', 'a width and height that are positive whole numbers', [width, height]);
  }
  if (data.length !== width * height * 3) {
    throw invalidArgument('image', `${width * height * 3} values (${height} × ${width} × 3)`, data.length);
  }
}

interface Graph {
  /** Edge endpoints and weights, already in the order they are visited. */
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly weight: Float64Array;
}

function buildGraph(image: ColourImage, sigma: number): Graph {
  const { width: w, height: h } = image;
  const plane = w * h;
  const planes = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) planes[c * plane + i] = image.data[i * 3 + c];
  }
  // scipy's gaussian_filter radius (truncate 4σ, rounded), as scikit-image smooths; edges reflected.
  const smooth = sigma > 0 ? gaussianBlur(planes, 3, w, h, sigma, Math.floor(4 * sigma + 0.5)) : planes;
  const distance = (p: number, q: number) => {
    const r = smooth[p] - smooth[q];
    const g = smooth[plane + p] - smooth[plane + q];
    const b = smooth[2 * plane + p] - smooth[2 * plane + q];
    return Math.sqrt(r * r + g * g + b * b);
  };
  const count = (w - 1) * h + w * (h - 1) + 2 * (w - 1) * (h - 1);
  const from = new Int32Array(count);
  const to = new Int32Array(count);
  const weight = new Float64Array(count);
  let e = 0;
  const add = (p: number, q: number) => {
    from[e] = p;
    to[e] = q;
    weight[e] = distance(p, q);
    e++;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (x + 1 < w) add(p, p + 1);
      if (y + 1 < h) add(p, p + w);
      if (x + 1 < w && y + 1 < h) add(p, p + w + 1);
      if (x + 1 < w && y > 0) add(p, p - w + 1);
    }
  }
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  order.sort((a, b) => weight[a] - weight[b] || a - b);
  return {
    from: Int32Array.from(order, (i) => from[i]),
    to: Int32Array.from(order, (i) => to[i]),
    weight: Float64Array.from(order, (i) => weight[i]),
  };
}

function segmentGraph(graph: Graph, w: number, h: number, k: number, minSize: number): Segmentation {
  const n = w * h;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const size = new Int32Array(n).fill(1);
  /** Int(C): the largest weight in the component's minimum spanning tree, kept at its root. */
  const internal = new Float64Array(n);
  const find = (p: number) => {
    let root = p;
    while (parent[root] !== root) root = parent[root];
    let q = p;
    while (parent[q] !== root) {
      const next = parent[q];
      parent[q] = root;
      q = next;
    }
    return root;
  };
  const union = (a: number, b: number) => {
    const [big, small] = size[a] >= size[b] ? [a, b] : [b, a];
    parent[small] = big;
    size[big] += size[small];
    return big;
  };
  const { from, to, weight } = graph;
  for (let e = 0; e < weight.length; e++) {
    const a = find(from[e]);
    const b = find(to[e]);
    if (a === b) continue;
    const wt = weight[e];
    if (wt <= internal[a] + k / size[a] && wt <= internal[b] + k / size[b]) internal[union(a, b)] = wt;
  }
  for (let e = 0; e < weight.length; e++) {
    const a = find(from[e]);
    const b = find(to[e]);
    if (a !== b && (size[a] < minSize || size[b] < minSize)) union(a, b);
  }
  const labels = new Int32Array(n);
  const relabel = new Int32Array(n).fill(-1);
  let count = 0;
  for (let p = 0; p < n; p++) {
    const root = find(p);
    if (relabel[root] < 0) relabel[root] = count++;
    labels[p] = relabel[root];
  }
  return { width: w, height: h, labels, count };
}
