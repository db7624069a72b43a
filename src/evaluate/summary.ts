// Evaluation results across images: the methods × metrics table (mean ± standard deviation), the mean
// deletion/insertion curves, and a small self-contained HTML page that plots them.
import { escapeHtml } from '../core/html.js';
import type { ModelTask } from '../core/model.js';
import type { ImageEvaluation, MetricName } from './evaluate.js';

export interface Cell {
  /** Mean and sample standard deviation over the n images where the metric is a number (NaN when n is 0). */
  readonly mean: number;
  readonly sd: number;
  readonly n: number;
  /**
   * Images where the metric was measured but is not a number: Spearman's ρ (seeds, randomization, labels)
   * with a constant map. Counted, not dropped silently: after a model randomization a constant map is the
   * best outcome (nothing of the original is left), so a mean over the others alone would read worse.
   */
  readonly undefinedOn: number;
}

export interface EvaluationTable {
  readonly methods: readonly string[];
  readonly metrics: readonly MetricName[];
  /** cells[method][metric], absent where no image measured it. */
  readonly cells: Readonly<Record<string, Partial<Record<MetricName, Cell>>>>;
  /** Mean curve per method, step by step (all images share the model's step count). */
  readonly curves: Readonly<Record<string, { deletion: number[]; insertion: number[] }>>;
  /**
   * Per method, the images whose map was constant (MethodResult.constantMap), which have no metric and are in
   * no mean; present only for methods with some.
   */
  readonly constantMaps: Readonly<Record<string, number>>;
}

/**
 * Mean and sample standard deviation (n − 1) of each method's metric over the images that gave a number, and
 * how many gave NaN (Cell.undefinedOn).
 */
export function tabulate(
  results: readonly ImageEvaluation[],
  metrics: readonly MetricName[],
): EvaluationTable {
  const methods = [...new Set(results.flatMap((r) => r.methods.map((m) => m.method)))];
  const cells: Record<string, Partial<Record<MetricName, Cell>>> = {};
  const curves: Record<string, { deletion: number[]; insertion: number[] }> = {};
  const constantMaps: Record<string, number> = {};
  for (const method of methods) {
    const rows = results.flatMap((r) => r.methods.filter((m) => m.method === method));
    cells[method] = {};
    const constant = rows.filter((m) => m.constantMap).length;
    if (constant > 0) constantMaps[method] = constant;
    for (const metric of metrics) {
      const measured = rows.map((m) => m.values[metric]).filter((v) => v !== undefined);
      const values = measured.filter((v) => Number.isFinite(v));
      if (measured.length === 0) continue;
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd =
        values.length > 1
          ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1))
          : values.length === 1
            ? 0
            : Number.NaN;
      cells[method][metric] = { mean, sd, n: values.length, undefinedOn: measured.length - values.length };
    }
    const withCurves = rows.filter((m) => m.curves);
    if (withCurves.length > 0) {
      curves[method] = {
        deletion: meanCurve(withCurves.map((m) => m.curves!.deletion)),
        insertion: meanCurve(withCurves.map((m) => m.curves!.insertion)),
      };
    }
  }
  return { methods, metrics, cells, curves, constantMaps };
}

/**
 * A cell as the table shows it: mean ± sd, and "(n of N)" when some images gave no number, so a mean over
 * fewer images than the table's is never read as all of them.
 */
export function cellText(cell: Cell | undefined): string {
  if (!cell) return '—';
  const of = cell.undefinedOn > 0 ? ` (${cell.n} of ${cell.n + cell.undefinedOn})` : '';
  return cell.n === 0 ? `undefined${of}` : `${cell.mean.toFixed(3)} ± ${cell.sd.toFixed(3)}${of}`;
}

/**
 * What the table leaves out, in words (one sentence each; none when nothing is left out): images whose map
 * was constant, and cells whose mean is over fewer images because ρ was undefined.
 */
export function tableNotes(table: EvaluationTable): string[] {
  const notes = Object.entries(table.constantMaps).map(
    ([method, count]) =>
      `${method}: the map was the same everywhere on ${count} image${count === 1 ? '' : 's'} (no evidence for the target, e.g. Grad-CAM with no positive gradient); nothing was measured there and those images are in no mean.`,
  );
  const someUndefined = table.methods.some((method) =>
    table.metrics.some((metric) => (table.cells[method]?.[metric]?.undefinedOn ?? 0) > 0),
  );
  if (someUndefined)
    notes.push(
      "(n of N): the mean is over the n images where the metric is a number; on the others the map it is compared with (another seed's, the randomized model's, another class's) was the same everywhere, so Spearman's ρ is undefined. For randomization and labels that is the best outcome: nothing of the original map is left.",
    );
  return notes;
}

function meanCurve(curves: readonly (readonly number[])[]): number[] {
  const length = Math.min(...curves.map((c) => c.length));
  return Array.from({ length }, (_, i) => curves.reduce((a, c) => a + c[i], 0) / curves.length);
}

/** A plain-text table for the terminal. */
export function formatTable(table: EvaluationTable): string {
  const header = ['method', ...table.metrics];
  const rows = table.methods.map((m) => [
    m,
    ...table.metrics.map((metric) => cellText(table.cells[m]?.[metric])),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const notes = tableNotes(table);
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n');
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

/**
 * What the deletion and insertion curves measure, in the task's words: a class's softmax probability, a tag's
 * own sigmoid probability, a score's raw value (metrics/deletion-insertion.ts reads it through targetValues),
 * a segmenter's class scores summed over its region, or an embedding's cosine similarity to the reference
 * (the scalar of explain.ts's target model), or a detection's D-RISE similarity. A segmenter's class is named
 * when every image explains the same.
 */
export function curveQuantity(task: ModelTask, images: readonly ImageEvaluation[] = []): string {
  if (task === 'segment') {
    const labels = new Set(images.map((r) => r.target.label));
    const regions = new Set(
      images.map((r) => r.target.description?.kind === 'segment' && r.target.description.region),
    );
    const region =
      regions.size === 1 && !regions.has('class pixels') ? `the ${[...regions][0]}` : 'its region';
    const [label] = labels;
    return labels.size === 1 ? `sum of class '${label}' over ${region}` : `sum of the class over ${region}`;
  }
  if (task === 'embed') return 'cosine similarity to the reference';
  // models/detect-target.ts: the best over the proposals of IoU with the box × the class's score.
  if (task === 'detect') return 'D-RISE similarity of the detection (box overlap × class score)';
  return task === 'score'
    ? 'score (raw value)'
    : task === 'multilabel'
      ? 'probability of the tag'
      : 'probability of the class';
}

/**
 * The curves' value range on the plot: [0, 1] for probabilities; a raw score's or a segment sum's own range
 * (with 0 and 1 if near); a cosine's from 0 (or its lowest, if negative) to 1.
 */
function curveRange(table: EvaluationTable, task: ModelTask): [number, number] {
  if (task === 'classify' || task === 'multilabel') return [0, 1];
  const values = Object.values(table.curves).flatMap((c) => [...c.deletion, ...c.insertion]);
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (task === 'embed') return [Math.min(0, lo), 1];
  return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
}

/** One self-contained HTML page: the table and the mean deletion and insertion curves as inline SVG. */
export function renderEvaluationHtml(
  table: EvaluationTable,
  about: {
    model: string;
    images: number;
    skipped?: readonly { file: string; reason: string }[];
    /** How the curves read (default 'classify', a class's probability). */
    task?: ModelTask;
    /** The images measured, whose targets name a segmenter's class in the curves' description. */
    results?: readonly ImageEvaluation[];
  },
): string {
  const task = about.task ?? 'classify';
  const quantity = curveQuantity(task, about.results);
  const raw = task === 'score' || task === 'segment';
  const [lo, hi] = curveRange(table, task);
  const at = (y: number) => (y - lo) / (hi - lo);
  const tick = (y: number) => (task === 'classify' || task === 'multilabel' ? String(y) : y.toPrecision(3));
  const skipped = about.skipped?.length
    ? `<p>Skipped ${about.skipped.length}: ${about.skipped.map((k) => `${escapeHtml(k.file)} (${escapeHtml(k.reason)})`).join('; ')}</p>`
    : '';
  const head = `<tr><th scope="col">Method</th>${table.metrics.map((m) => `<th scope="col">${escapeHtml(m)}</th>`).join('')}</tr>`;
  const body = table.methods
    .map(
      (m) =>
        `<tr><th scope="row">${escapeHtml(m)}</th>${table.metrics
          .map((metric) => `<td>${escapeHtml(cellText(table.cells[m]?.[metric]))}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  const plot = (kind: 'deletion' | 'insertion') => {
    const w = 420;
    const h = 260;
    const pad = 36;
    const lines = Object.entries(table.curves)
      .map(([method, c], i) => {
        const ys = c[kind];
        const points = ys
          .map(
            (y, k) =>
              `${(pad + (k / Math.max(1, ys.length - 1)) * (w - 2 * pad)).toFixed(1)},${(h - pad - at(y) * (h - 2 * pad)).toFixed(1)}`,
          )
          .join(' ');
        return `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2" points="${points}"><title>${escapeHtml(method)}</title></polyline>`;
      })
      .join('');
    return `<figure><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Mean ${kind} curves">
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#444"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#444"/>
<text x="${w / 2}" y="${h - 8}" text-anchor="middle" font-size="12">share of pixels ${kind === 'deletion' ? 'removed' : 'restored'}</text>
<text x="12" y="${h / 2}" font-size="12" transform="rotate(-90 12 ${h / 2})" text-anchor="middle">${escapeHtml(quantity)}</text>
<text x="${pad - 4}" y="${h - pad}" font-size="10" text-anchor="end">${tick(lo)}</text><text x="${pad - 4}" y="${pad + 4}" font-size="10" text-anchor="end">${tick(hi)}</text>
${lines}</svg><figcaption>${kind === 'deletion' ? 'Deletion: lower is better (the map found what matters first).' : 'Insertion: higher is better.'}</figcaption></figure>`;
  };
  const legend = Object.keys(table.curves)
    .map((m, i) => `<li><span style="color:${COLOURS[i % COLOURS.length]}">■</span> ${escapeHtml(m)}</li>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sightline evaluation</title><link rel="icon" href="data:,">
<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:0 auto;padding:1rem;color:#1d2330}table{border-collapse:collapse}th,td{border:1px solid #d5dae3;padding:.3rem .6rem;text-align:right}th[scope=row]{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}ul{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap}</style>
</head><body><h1>Sightline evaluation</h1>
<p>Model: ${escapeHtml(about.model)} (${escapeHtml(task)}) · ${about.images} image${about.images === 1 ? '' : 's'} · mean ± standard deviation over images.</p>
${skipped}
<p>Deletion and insertion AUC (Petsiuk et al., RISE, BMVC 2018): pixels removed (or restored onto a blurred copy) most salient first; the area under the curve of the ${escapeHtml(quantity)}${raw ? ', in the model’s own units' : ''}. Lower deletion and higher insertion mean a more faithful map. energy: share of attention inside the regions; pointing: peak within 15 px of them; iou: overlap of the strongest 20% with them; seeds: Spearman between seeds; sensitivity: max-sensitivity (lower is steadier); randomization: Spearman of |map| with the original after the top blocks of the network are replaced by noise (Adebayo et al., NeurIPS 2018: lower means the map depends on what the model learned; the JSON has every step); labels: Spearman of |map| with the map of a random other class (lower means the map depends on the class); agreement: see the JSON.</p>
<table><thead>${head}</thead><tbody>${body}</tbody></table>
${tableNotes(table)
  .map((note) => `<p>${escapeHtml(note)}</p>`)
  .join('')}
<h2>Mean curves</h2><ul>${legend}</ul><div class="plots">${plot('deletion')}${plot('insertion')}</div>
</body></html>
`;
}
