// What differs between two audits besides the model, in words: a comparison of two models is the point, but a
// change of method, options, regions or labels changes what the numbers mean, and the reader must know.
import { capText } from '../../core/text.js';
import type { AuditRow } from '../types.js';
import type { AuditRead } from './read.js';

/** The longest setting quoted in a warning (a path, a model reference). */
const SHOWN = 200;

/** Warnings about settings and per-image inputs that differ between audits A and B (over the images in both). */
export function settingsWarnings(
  a: AuditRead,
  b: AuditRead,
  pairs: readonly (readonly [AuditRow, AuditRow])[],
): string[] {
  const warnings: string[] = [];
  const shown = (v: unknown) => (v === undefined ? 'none' : `'${capText(String(v), SHOWN)}'`);
  const ca = a.config;
  const cb = b.config;
  if (ca.method !== cb.method) {
    warnings.push(
      `The audits used different methods (A ${shown(ca.method)}, B ${shown(cb.method)}): shares and verdicts measure different kinds of map, so a change may come from the method rather than the model.`,
    );
  }
  const options = (o: Readonly<Record<string, number | string>>) =>
    Object.entries(o ?? {})
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
  if (ca.method === cb.method && options(ca.options) !== options(cb.options)) {
    warnings.push(
      `The audits ran ${shown(ca.method)} with different options (A: ${capText(options(ca.options) || 'defaults', SHOWN)}; B: ${capText(options(cb.options) || 'defaults', SHOWN)}): maps and shares may differ for that reason alone.`,
    );
  }
  if (ca.reference !== cb.reference) {
    warnings.push(
      `The audits explain the similarity to different references (A ${shown(ca.reference)}, B ${shown(cb.reference)}).`,
    );
  }
  const tasks = (rows: readonly AuditRow[]) =>
    [...new Set(rows.map((r) => r.task ?? 'classify'))].sort().join(', ');
  const ta = tasks(pairs.map(([r]) => r));
  const tb = tasks(pairs.map(([, r]) => r));
  if (ta !== tb) {
    warnings.push(
      `The models do different tasks (A: ${ta}; B: ${tb}): their predictions and scores do not read the same way.`,
    );
  }
  const differ = (test: (x: AuditRow, y: AuditRow) => boolean) => pairs.filter(([x, y]) => test(x, y)).length;
  const labels = differ((x, y) => x.label?.text !== y.label?.text);
  if (labels > 0) {
    warnings.push(
      `${labels} of ${pairs.length} images have different labels in the two audits (labels files A ${shown(ca.labels)}, B ${shown(cb.labels)}): their correctness is judged against different answers.`,
    );
  }
  // A row shows its region through the area share (or, on a map zero everywhere, only that it had one).
  const has = (r: AuditRow) => r.region !== undefined || r.regionGiven === true;
  const regions = differ(
    (x, y) =>
      x.status === 'ok' &&
      y.status === 'ok' &&
      (has(x) !== has(y) ||
        (x.region !== undefined && y.region !== undefined && x.region.areaShare !== y.region.areaShare)),
  );
  if (regions > 0) {
    warnings.push(
      `${regions} of ${pairs.length} images have different regions (or a region in one audit only; regions files A ${shown(ca.regions)}, B ${shown(cb.regions)}): their shares inside are measured against different areas.`,
    );
  }
  return warnings;
}
