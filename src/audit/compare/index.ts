// `sightline compare`: two audits of the same images, what changed per image and over the dataset.
export {
  CHANGE_ORDER,
  type ChangeKind,
  type Comparison,
  compareAudits,
  type ImageChange,
  SHARE_STEP,
  type SideNumbers,
  type SideView,
} from './compare.js';
export { COMPARE_COLUMNS, comparisonToCsv } from './csv.js';
export { type CompareThumbnails, renderComparison } from './html.js';
export { type AuditRead, readAudit, shortcutFlags } from './read.js';
export { compareFolders } from './write.js';
