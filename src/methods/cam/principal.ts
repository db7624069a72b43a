/**
 * The projection of a channels × positions matrix (each channel centred over the positions) on its first
 * principal component, as pytorch-grad-cam's get_2d_projection computes with an SVD: σ₁ · u₁, u₁ the first
 * right singular vector over positions. Eigen-CAM projects the activations, Eigen-Grad-CAM activations ×
 * gradients. The direction is found by power iteration on the small positions × positions Gram matrix, and
 * its sign, which an SVD leaves arbitrary, is chosen so the map correlates positively with the matrix summed
 * over channels (uncentred): the map then agrees with the plain channel sum it refines.
 */
export function principalProjection(a: Float32Array, c: number, n: number): Float32Array {
  const centred = new Float64Array(c * n);
  for (let k = 0; k < c; k++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += a[k * n + i];
    mean /= n;
    for (let i = 0; i < n; i++) centred[k * n + i] = a[k * n + i] - mean;
  }
  // Power iteration on the positions × positions Gram matrix CᵀC, applied as two products with C so it is
  // never formed (C is channels × positions and either side can be large).
  // Start from the strongest channel: it lies in the row space, where a uniform start would not (centred
  // rows are orthogonal to the constant vector).
  let strongest = 0;
  let strongestNorm = -1;
  for (let k = 0; k < c; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += centred[k * n + i] ** 2;
    if (s > strongestNorm) {
      strongestNorm = s;
      strongest = k;
    }
  }
  if (strongestNorm <= 0) return new Float32Array(n);
  let u = Float64Array.from(
    centred.subarray(strongest * n, (strongest + 1) * n),
    (x) => x / Math.sqrt(strongestNorm),
  );
  let eigen = 0;
  const w = new Float64Array(c);
  for (let iter = 0; iter < 500; iter++) {
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += centred[k * n + i] * u[i];
      w[k] = s;
    }
    const next = new Float64Array(n);
    for (let k = 0; k < c; k++) {
      const wk = w[k];
      if (wk === 0) continue;
      for (let i = 0; i < n; i++) next[i] += centred[k * n + i] * wk;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += next[i] * next[i];
    norm = Math.sqrt(norm);
    if (norm === 0) break;
    let change = 0;
    for (let i = 0; i < n; i++) {
      next[i] /= norm;
      change += Math.abs(next[i] - u[i]);
    }
    u = next;
    eigen = norm;
    if (change < 1e-10) break;
  }
  // Projection of the centred activations on the first right singular vector = σ · u, σ = √eigenvalue.
  const sigma = Math.sqrt(eigen);
  let corr = 0;
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let k = 0; k < c; k++) total += a[k * n + i];
    corr += u[i] * total;
  }
  const sign = corr < 0 ? -1 : 1;
  return Float32Array.from(u, (v) => sign * sigma * v);
}
