import { camMethod, type LayerMaps, weightedSum } from './base.js';
import { principalProjection } from './principal.js';

const plane = (m: LayerMaps) => m.width * m.height;

/** Σ_k w_k A_k with each channel's weight computed from its activation and gradient planes. */
function channelWeighted(m: LayerMaps, weight: (a: Float32Array, g: Float32Array) => number): Float32Array {
  const n = plane(m);
  const weights = new Float64Array(m.channels);
  for (let k = 0; k < m.channels; k++) {
    weights[k] = weight(
      m.activations.subarray(k * n, (k + 1) * n),
      m.gradients!.subarray(k * n, (k + 1) * n),
    );
  }
  return weightedSum(m, weights);
}

/** Σ_k f(∂S/∂A_k) ⊙ A_k, position by position. */
function positionWise(m: LayerMaps, f: (gradient: number) => number): Float32Array {
  const n = plane(m);
  const g = m.gradients!;
  const out = new Float32Array(n);
  for (let k = 0; k < m.channels; k++)
    for (let i = 0; i < n; i++) out[i] += f(g[k * n + i]) * m.activations[k * n + i];
  return out;
}

const sum = (values: Float32Array) => values.reduce((acc, v) => acc + v, 0);

/** Grad-CAM (Selvaraju et al., ICCV 2017, eq. 1–2): w_k = mean over positions of ∂S/∂A_k. */
export const gradCam = camMethod({
  id: 'grad-cam',
  title: 'Grad-CAM',
  description: 'Weights the last feature maps by their average gradient: a coarse map of the regions used.',
  usesGradients: true,
  cam: (m) => channelWeighted(m, (_, g) => sum(g) / g.length),
});

/**
 * Grad-CAM++ (Chattopadhay et al., WACV 2018, eq. 19 with the exponential-score closed form):
 * α_kij = g² / (2g² + Σ_ab A_kab · g³), w_k = Σ_ij α_kij · ReLU(g_kij).
 */
export const gradCamPlusPlus = camMethod({
  id: 'grad-cam-pp',
  title: 'Grad-CAM++',
  description: 'Grad-CAM with per-position weights, better when the class appears several times.',
  usesGradients: true,
  cam: (m) =>
    channelWeighted(m, (a, g) => {
      const sumA = sum(a);
      let w = 0;
      for (const gi of g) {
        if (gi === 0) continue;
        const g2 = gi * gi;
        w += (g2 / (2 * g2 + sumA * g2 * gi + 1e-7)) * Math.max(0, gi);
      }
      return w;
    }),
});

/** XGrad-CAM (Fu et al., BMVC 2020, eq. 11): w_k = Σ_ij (A_kij / Σ_ab A_kab) · ∂S/∂A_kij. */
export const xGradCam = camMethod({
  id: 'xgrad-cam',
  title: 'XGrad-CAM',
  description: 'Grad-CAM with gradients weighted by the activations, chosen to satisfy two axioms.',
  usesGradients: true,
  cam: (m) =>
    channelWeighted(m, (a, g) => {
      let sumAG = 0;
      for (let i = 0; i < a.length; i++) sumAG += a[i] * g[i];
      return sumAG / (sum(a) + 1e-7);
    }),
});

/** LayerCAM (Jiang et al., IEEE TIP 2021, eq. 5–6): M = Σ_k ReLU(∂S/∂A_k) ⊙ A_k, position by position. */
export const layerCam = camMethod({
  id: 'layer-cam',
  title: 'LayerCAM',
  description: 'Weights each position by its own positive gradient: finer detail than Grad-CAM.',
  usesGradients: true,
  cam: (m) => positionWise(m, (g) => Math.max(0, g)),
});

/** HiResCAM (Draelos & Carin, 2020, eq. 4): M = Σ_k ∂S/∂A_k ⊙ A_k, position by position (no averaging). */
export const hiResCam = camMethod({
  id: 'hires-cam',
  title: 'HiResCAM',
  description:
    'Gradient times activation at each position; provably faithful for models ending in pooling and a linear layer.',
  usesGradients: true,
  cam: (m) => positionWise(m, (g) => g),
});

/**
 * Eigen-CAM (Muhammad & Yeasin, IJCNN 2020): the projection of the activations (positions × channels, each
 * channel centred) on their first principal component (principal.ts). Class-independent and gradient-free;
 * the sign is chosen so the map correlates positively with the summed activations.
 */
export const eigenCam = camMethod({
  id: 'eigen-cam',
  title: 'Eigen-CAM',
  description: 'The main pattern in the last feature maps (no gradients, not class-specific).',
  usesGradients: false,
  cam: (m) => principalProjection(m.activations, m.channels, plane(m)),
});

export const CAM_METHODS = [gradCam, gradCamPlusPlus, xGradCam, layerCam, hiResCam, eigenCam];
