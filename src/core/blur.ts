/**
 * Separable Gaussian blur of planar float data (channels × height × width), edges reflected. Used for
 * blurred baselines (integrated gradients), the insertion metric, segmentation and the overlay's outline.
 * `radius` defaults to 3σ, covering 99.7% of the kernel's mass.
 */
export function gaussianBlur(
  src: Float32Array,
  channels: number,
  width: number,
  height: number,
  sigma: number,
  radius = Math.ceil(3 * sigma),
): Float32Array {
  if (sigma <= 0 || radius <= 0) return Float32Array.from(src);
  const kernel = gaussianKernel(sigma, radius);
  return separableBlur(src, channels, width, height, kernel, kernel);
}

/** gaussianBlur with its own σ along each axis (radius 3σ each); σ 0 leaves that axis as it is. */
export function gaussianBlurXY(
  src: Float32Array,
  channels: number,
  width: number,
  height: number,
  sigmaX: number,
  sigmaY: number,
): Float32Array {
  const kx = gaussianKernel(sigmaX, Math.ceil(3 * sigmaX));
  const ky = gaussianKernel(sigmaY, Math.ceil(3 * sigmaY));
  return separableBlur(src, channels, width, height, kx, ky);
}

/** exp(−i²/2σ²) for i = −radius…radius, normalised to sum to 1; [1] when σ or the radius is 0. */
function gaussianKernel(sigma: number, radius: number): Float32Array {
  if (!(sigma > 0 && radius > 0)) return Float32Array.of(1);
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
    sum += kernel[i + radius];
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}

function separableBlur(
  src: Float32Array,
  channels: number,
  width: number,
  height: number,
  kx: Float32Array,
  ky: Float32Array,
): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const rx = (kx.length - 1) / 2;
  const ry = (ky.length - 1) / 2;
  // Reflected positions are looked up only near the edges; in between, x + k is already inside.
  const xs = reflectedIndices(width, rx);
  const ys = reflectedIndices(height, ry);
  for (let c = 0; c < channels; c++) {
    const base = c * width * height;
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      for (let x = 0; x < width; x++) {
        let acc = 0;
        if (x >= rx && x + rx < width) {
          const from = row + x - rx;
          for (let k = 0; k < kx.length; k++) acc += kx[k] * src[from + k];
        } else {
          for (let k = 0; k < kx.length; k++) acc += kx[k] * src[row + xs.at(x, k)];
        }
        tmp[row + x] = acc;
      }
    }
    // Vertically, a stretch of a row at a time: the same sums in the same order, read along rows.
    const acc = new Float64Array(Math.min(width, STRETCH));
    for (let y = 0; y < height; y++) {
      for (let x0 = 0; x0 < width; x0 += STRETCH) {
        const n = Math.min(STRETCH, width - x0);
        acc.fill(0);
        for (let k = 0; k < ky.length; k++) {
          const w = ky[k];
          const from = base + ys.at(y, k) * width + x0;
          for (let x = 0; x < n; x++) acc[x] += w * tmp[from + x];
        }
        out.set(n === acc.length ? acc : acc.subarray(0, n), base + y * width + x0);
      }
    }
  }
  return out;
}

const STRETCH = 4096;

/**
 * Index i + k − radius reflected into 0…n−1 (k in 0…2·radius), tabulated for the positions within `radius` of
 * either end only, so a 49,000,000-pixel row costs a table of 4·radius² entries, not 49 million rows of them.
 */
function reflectedIndices(n: number, radius: number): { at(i: number, k: number): number } {
  const span = 2 * radius + 1;
  const edge = Math.min(n, radius);
  const table = new Int32Array(2 * edge * span);
  const reflect = (j: number) => {
    if (n === 1) return 0;
    let r = j;
    while (r < 0 || r >= n) r = r < 0 ? -r - 1 : 2 * n - r - 1;
    return r;
  };
  for (let e = 0; e < edge; e++) {
    for (let k = 0; k < span; k++) {
      table[e * span + k] = reflect(e + k - radius);
      table[(edge + e) * span + k] = reflect(n - edge + e + k - radius);
    }
  }
  return {
    at: (i, k) =>
      i < edge
        ? table[i * span + k]
        : i >= n - edge
          ? table[(edge + i - (n - edge)) * span + k]
          : i + k - radius,
  };
}
