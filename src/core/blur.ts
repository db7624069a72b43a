/**
 * Separable Gaussian blur of planar float data (channels × height × width), edges reflected. Used for
 * blurred baselines (integrated gradients) and, later, the insertion metric.
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
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
    sum += kernel[i + radius];
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  const reflect = (i: number, n: number) => {
    if (n === 1) return 0;
    let j = i;
    while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - j - 1;
    return j;
  };
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let c = 0; c < channels; c++) {
    const base = c * width * height;
    for (let y = 0; y < height; y++) {
      const row = base + y * width;
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++) acc += kernel[k + radius] * src[row + reflect(x + k, width)];
        tmp[row + x] = acc;
      }
    }
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = -radius; k <= radius; k++)
          acc += kernel[k + radius] * tmp[base + reflect(y + k, height) * width + x];
        out[base + y * width + x] = acc;
      }
    }
  }
  return out;
}
