import { camMethod } from './base.js';
import { principalProjection } from './principal.js';

/**
 * Eigen-Grad-CAM (pytorch-grad-cam's EigenGradCAM, after Muhammad & Yeasin's Eigen-CAM, IJCNN 2020): the
 * first principal component of activations × gradients, A_k ⊙ ∂S/∂A_k reshaped to channels × positions and
 * each channel centred, projected on its first right singular vector (principal.ts), then ReLU and upsampling
 * as the CAM family ends. Unlike Eigen-CAM it is class-specific: the gradients of the target's score weight
 * each channel before the component is taken. pytorch-grad-cam leaves the SVD's sign as it falls; here it is
 * chosen so the map correlates positively with Σ_k A_k ⊙ ∂S/∂A_k (HiResCAM's map), the evidence for the
 * target the component summarises. Cost: one pass with gradients.
 */
export const eigenGradCam = camMethod({
  id: 'eigen-grad-cam',
  title: 'Eigen-Grad-CAM',
  description:
    'The main pattern in activations × gradients of the last feature maps: Eigen-CAM for one class.',
  usesGradients: true,
  cam(m) {
    const g = m.gradients!;
    const product = Float32Array.from(m.activations, (a, i) => a * g[i]);
    return principalProjection(product, m.channels, m.width * m.height);
  },
});
