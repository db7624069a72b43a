// Region, agreement and faithfulness metrics: pure TypeScript on typed arrays, for Node and the browser alike.

// The shapes the region metrics measure in live in core; they are part of the metrics' public surface.
export { boxMask, polygonMask, shapesMask } from '../core/regions/mask.js';
export type { Box, RegionShape } from '../core/regions/shapes.js';
export {
  type AgreementOptions,
  boxAverage,
  compareMaps,
  type MapAgreement,
  type MapPair,
  mapAgreement,
  RANK_GRID_SIZE,
} from './agreement.js';
export {
  type Curve,
  DELETION_BASELINES,
  type DeletionBaseline,
  type DeletionInsertion,
  type DeletionInsertionInput,
  type DeletionInsertionOptions,
  deletionInsertion,
  INSERTION_BLUR_KERNEL,
  INSERTION_BLUR_SIGMA,
} from './deletion-insertion.js';
export {
  ATTENTION_MODES,
  type AttentionMode,
  DEFAULT_TOP_FRACTION,
  maskAttention,
  type RegionAttention,
  type RegionAttentionOptions,
  regionAttention,
  type TopRegionOptions,
  topRegionIoU,
} from './region.js';
export {
  byBlocks,
  byNamePrefix,
  type LabelRandomization,
  type LayerGrouping,
  labelRandomization,
  type MapSimilarity,
  type MethodUnderTest,
  type ModelRandomization,
  type ModelRandomizationRequest,
  modelRandomization,
  modelRandomizations,
  type RandomizationStep,
  type SanityRequest,
  type WeightLayer,
  weightLayers,
} from './sanity.js';
export {
  normalizedAbs,
  SSIM_K1,
  SSIM_K2,
  type SsimOptions,
  spearman,
  ssim,
} from './similarity.js';
export { maxSensitivity, type SeedStability, type Sensitivity, seedStability } from './stability.js';
export {
  AGREEMENT_OVERLAP,
  type AgreementLevel,
  type AgreementVerdict,
  agreementVerdict,
  INSIDE_SHARE,
  LARGE_AREA_SHARE,
  PARTLY_CONCENTRATION,
  type RegionLevel,
  type RegionVerdict,
  regionVerdict,
} from './verdict.js';
