// Region and agreement metrics: pure TypeScript on typed arrays, for Node and the browser alike.
export {
  type AgreementOptions,
  boxAverage,
  compareMaps,
  DEFAULT_TOP_FRACTION,
  type MapAgreement,
  type MapPair,
  mapAgreement,
  RANK_GRID_SIZE,
} from './agreement.js';
export {
  ATTENTION_MODES,
  type AttentionMode,
  type Box,
  maskAttention,
  polygonMask,
  type RegionAttention,
  type RegionAttentionOptions,
  regionAttention,
  shapesMask,
} from './region.js';
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
