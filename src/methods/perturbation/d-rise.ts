import type { AttributionMethod } from '../../core/method.js';
import { type RiseOptions, rise } from './rise.js';

/**
 * D-RISE (Petsiuk et al., "Black-box Explanation of Object Detectors via Saliency Maps", CVPR 2021): RISE's
 * masks weighted by the similarity between the explained detection and the masked image's proposals. The
 * similarity is the model's score here: explaining a detection, the model a method sees is one whose single
 * output is that similarity (models/detect-target.ts), so D-RISE is RISE's weighted mask sum over it, with
 * the paper's mask settings: a 16 × 16 grid kept with probability 0.5. The paper draws 5000 masks; the default
 * 1000 costs a fifth of the passes (--masks 5000 for the paper's count) but is noisy where few masks keep
 * enough of a small object to find it: on the hand-set square detectors (test/unit/detection-explain.test.ts)
 * only 0.11–0.17 of the map's mass above its minimum lies in the 16 × 16 square at 1000 masks, 0.39 at 20000. As RISE does for a score, the sum is centred by the mean similarity,
 * which removes the paper's Σ M_i(p) term: the same map up to a constant in expectation, without the noise of
 * how often each pixel happened to be kept.
 */
export const dRise: AttributionMethod<RiseOptions> = {
  ...rise,
  id: 'd-rise',
  title: 'D-RISE',
  description:
    'RISE for one detection: random masks weighted by how well the masked image still finds that box and class (black-box).',
  defaults: { ...rise.defaults, masks: 1000, gridSize: 16, keepProbability: 0.5 },
};
