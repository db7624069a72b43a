// report.html: one self-contained file (pictures as data: URIs, CSS and script inline, a Content-Security-Policy
// that forbids any fetch), so it opens from a USB stick or an e-mail attachment and makes no network request.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { invalidArgument } from '../../core/errors.js';
import { escapeHtml } from '../../core/html.js';
import { INSIDE_SHARE, PARTLY_CONCENTRATION } from '../../metrics/verdict.js';
import { colormap } from '../../render/colormaps.js';
import { compareText } from '../aggregate.js';
import {
  type AuditConfig,
  type AuditRow,
  type AuditSummary,
  type AuditVerdict,
  BORDER_FRACTION,
  SUMMARY_GRID,
  VERDICT_WORDS,
} from '../types.js';

/** One image's pictures, as PNG files' bytes. */
export interface ReportImages {
  readonly thumbnail: Uint8Array;
  readonly overlay: Uint8Array;
}

export interface ReportInput {
  readonly rows: readonly AuditRow[];
  /** summarize(rows). */
  readonly summary: AuditSummary;
  readonly config: AuditConfig;
  /** Default "Sightline audit". */
  readonly title?: string;
  /** Pictures by row file; a row without an entry is shown without pictures. */
  readonly images?: ReadonlyMap<string, ReportImages>;
}

/** Side in CSS pixels of the dataset's mean map and of each cluster's map. */
const MAP_SIDE = 160;
/** Row kinds in the default order, worst first; also the verdict filter's values. */
const KINDS = ['error', 'background', 'partly', 'object', 'none'] as const;
type RowKind = (typeof KINDS)[number];
const VERDICT_ORDER: readonly AuditVerdict[] = ['object', 'partly', 'background'];

/**
 * The audit as one self-contained HTML page: the title; what was run (model, method, options, labels and
 * regions files); how the verdicts are decided (INSIDE_SHARE, PARTLY_CONCENTRATION, the pointing tolerance
 * from the rows); the dataset-level picture (the mean map as a turbo heat map, the border share beside an even
 * spread's, verdict counts, accuracy overall and per verdict, the clusters with their mean maps and members);
 * and a table of the images, worst first (errors, then background, partly, object, images without a region;
 * then the lowest share inside), sortable by its column headers (buttons), filtered by text and verdict, each
 * row opening a dialog with the full overlay and the row's details.
 *
 * All text from rows and config is HTML-escaped, the data for the script is JSON with <, > and & escaped as
 * \u003c, \u003e and \u0026, and the page's policy allows only data: pictures and its own style and script
 * (by hash). Asynchronous because the heat maps are encoded as PNG by sharp.
 */
export async function renderReport(input: ReportInput): Promise<string> {
  const { rows, summary, config } = input;
  if (!Array.isArray(rows as unknown)) throw invalidArgument('rows', 'a list of audit rows', rows);
  const title = input.title ?? 'Sightline audit';
  const images = input.images ?? new Map<string, ReportImages>();
  const ordered = worstFirst(rows);

  const meanMap = await heatMapUri(summary.meanMap);
  const clusterMaps = await Promise.all(summary.clusters.map((cluster) => heatMapUri(cluster.mean)));

  const data = {
    rows: ordered.map((row) => ({
      file: row.file,
      kind: kindOf(row),
      keys: sortKeys(row),
      text: searchText(row),
      detail: details(row),
      overlay: images.has(row.file) ? pngUri(images.get(row.file)!.overlay) : null,
    })),
  };

  const body = [
    `<header><h1>${escapeHtml(title)}</h1></header>`,
    '<main>',
    runSection(config, rows),
    datasetSection(rows, summary, meanMap, clusterMaps),
    tableSection(ordered, images),
    '</main>',
    dialogMarkup(),
    `<script type="application/json" id="report-data">${scriptJson(data)}</script>`,
    `<script>${SCRIPT}</script>`,
  ].join('\n');

  const style = styleSheet();
  const policy = [
    "default-src 'none'",
    'img-src data:',
    `style-src '${sha256(style)}'`,
    `script-src '${sha256(SCRIPT)}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${policy}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    '<link rel="icon" href="data:,">',
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** JSON that is safe inside a <script> element: no "</script>", no "<!--", no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

/** The rows in the report's default order: kind (KINDS), then the lowest share inside, then file name. */
export function worstFirst(rows: readonly AuditRow[]): AuditRow[] {
  return [...rows].sort(
    (a, b) =>
      KINDS.indexOf(kindOf(a)) - KINDS.indexOf(kindOf(b)) ||
      (a.region?.share ?? 0) - (b.region?.share ?? 0) ||
      compareText(a.file, b.file),
  );
}

function kindOf(row: AuditRow): RowKind {
  if (row.status === 'error') return 'error';
  return row.region?.verdict ?? 'none';
}

function kindWords(row: AuditRow): string {
  const kind = kindOf(row);
  if (kind === 'error') return 'error';
  if (kind === 'none') return 'no region';
  return VERDICT_WORDS[kind] ?? String(kind);
}

/** A share as a whole percent; above 0 but rounding to 0 reads "under 1%"; nothing for NaN or absent. */
function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  const whole = Math.round(value * 100);
  return whole === 0 && value > 0 ? 'under 1%' : `${whole}%`;
}

function score(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : `${(value * 100).toFixed(1)}%`;
}

function yesNo(value: boolean | undefined): string {
  return value === undefined ? '' : value ? 'yes' : 'no';
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

function pngUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

/**
 * A square summary map (side² values) as a PNG data: URI: values scaled by the map's maximum, coloured with
 * turbo, upscaled by nearest neighbour to MAP_SIDE-ish pixels. Null for an empty or all-zero map.
 */
async function heatMapUri(values: readonly number[]): Promise<string | null> {
  const side = Math.round(Math.sqrt(values.length));
  if (side === 0 || side * side !== values.length) return null;
  const max = values.reduce((m, v) => Math.max(m, v), 0);
  if (!(max > 0)) return null;
  const lut = colormap('turbo').lut;
  const pixels = new Uint8Array(values.length * 3);
  values.forEach((v, i) => {
    const c = Math.round(Math.min(1, Math.max(0, v / max)) * 255) * 3;
    pixels.set(lut.subarray(c, c + 3), i * 3);
  });
  const scale = Math.max(1, Math.round(MAP_SIDE / side));
  const png = await sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .resize(side * scale, side * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
  return pngUri(png);
}

function runSection(config: AuditConfig, rows: readonly AuditRow[]): string {
  const options = Object.entries(config.options ?? {});
  const facts: [string, string][] = [
    ['Model', config.model],
    ['Method', config.method],
    ['Options', options.length > 0 ? options.map(([k, v]) => `${k} = ${v}`).join(', ') : 'defaults'],
  ];
  if (config.labels) facts.push(['Labels', config.labels]);
  if (config.regions) facts.push(['Regions', config.regions]);

  const tolerances = [...new Set(rows.flatMap((row) => (row.region ? [row.region.tolerance] : [])))].sort(
    (a, b) => a - b,
  );
  const pointing =
    tolerances.length > 0
      ? `<li><strong>Peak inside</strong>: the map's strongest point lies within ${escapeHtml(
          tolerances.map((t) => `${t} px`).join(' or '),
        )} of the marked region (the pointing game).</li>`
      : '';
  const inside = `${Math.round(INSIDE_SHARE * 100)}%`;
  return `<section aria-labelledby="run-title">
<h2 id="run-title">What was run</h2>
<dl class="facts">${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
<h3>How to read the verdicts</h3>
<ul>
<li><strong>${VERDICT_WORDS.object}</strong>: at least ${inside} of the model's attention is inside the marked region.</li>
<li><strong>${VERDICT_WORDS.partly}</strong>: less than ${inside} is inside, but at least ${PARTLY_CONCENTRATION}× what a region that size would get if the attention were spread evenly over the image.</li>
<li><strong>${VERDICT_WORDS.background}</strong>: less than that.</li>
${pointing}
<li><strong>Border share</strong>: the share of attention in the outer ${Math.round(BORDER_FRACTION * 100)}% of each side of the image.</li>
</ul>
<p class="note">Shares are compared as printed, rounded to whole percents. Attention is the evidence for the explained class (or, for methods without a sign, how much each pixel mattered).</p>
</section>`;
}

function datasetSection(
  rows: readonly AuditRow[],
  summary: AuditSummary,
  meanMap: string | null,
  clusterMaps: readonly (string | null)[],
): string {
  const explained = summary.images - summary.errors;
  const counts = `<p>${plural(summary.images, 'image')}: ${explained} explained, ${plural(summary.errors, 'error')}.</p>`;

  const picture = meanMap
    ? `<figure class="map">
<img src="${meanMap}" width="${MAP_SIDE}" height="${MAP_SIDE}" alt="Mean heat map of the model's attention over the explained images">
<figcaption>Where the model looks on average, every image stretched to a square.${legend()}</figcaption>
</figure>`
    : '<p>No image produced a map, so there is no average picture.</p>';

  let border = '';
  if (Number.isFinite(summary.borderShare) && Number.isFinite(summary.borderAreaShare)) {
    const b = Math.round(summary.borderShare * 100);
    const a = Math.round(summary.borderAreaShare * 100);
    const compared =
      b > a
        ? 'more than an even spread would put there'
        : b < a
          ? 'less than an even spread would put there'
          : 'about what an even spread would put there';
    border = `<p>On average <strong>${percent(summary.borderShare)}</strong> of the attention lies on the border band (the outer ${Math.round(BORDER_FRACTION * 100)}% of each side), which covers ${percent(summary.borderAreaShare)} of the image: ${compared}.</p>`;
  }

  const labelled = rows.filter((row) => typeof row.correct === 'boolean');
  const accuracy =
    summary.accuracy === null
      ? '<p>No image has a label, so there is no accuracy.</p>'
      : `<p>Accuracy: <strong>${percent(summary.accuracy)}</strong> of ${plural(labelled.length, 'labelled image')} have the label as the top prediction.</p>`;
  const none = explained - VERDICT_ORDER.reduce((n, v) => n + summary.verdicts[v], 0);
  const verdictRows = VERDICT_ORDER.map((v) => {
    const acc = summary.accuracyByVerdict[v];
    return `<tr><th scope="row"><span class="badge ${v}">${VERDICT_WORDS[v]}</span></th><td>${summary.verdicts[v]}</td><td>${acc === null ? '—' : percent(acc)}</td></tr>`;
  });
  if (none > 0) verdictRows.push(`<tr><th scope="row">no region</th><td>${none}</td><td>—</td></tr>`);
  const verdicts = `<table class="small">
<caption>Verdicts</caption>
<thead><tr><th scope="col">Verdict</th><th scope="col">Images</th><th scope="col">Accuracy</th></tr></thead>
<tbody>${verdictRows.join('\n')}</tbody>
</table>`;

  const clusters =
    summary.clusters.length === 0
      ? ''
      : `<h3>Groups of similar maps</h3>
<p class="note">Images whose maps look alike, grouped by k-means on their maps reduced to ${SUMMARY_GRID}×${SUMMARY_GRID} cells; each group shows its mean map.</p>
<div class="clusters">${summary.clusters
          .map((cluster, i) => {
            const map = clusterMaps[i];
            const img = map
              ? `<img src="${map}" width="${MAP_SIDE / 2}" height="${MAP_SIDE / 2}" alt="Mean heat map of group ${i + 1}">`
              : '';
            const members = cluster.members.map((file) => `<li>${escapeHtml(file)}</li>`).join('');
            return `<figure class="cluster">${img}<figcaption><strong>Group ${i + 1}</strong>: ${plural(cluster.members.length, 'image')}
<details${cluster.members.length <= 8 ? ' open' : ''}><summary>Files</summary><ul>${members}</ul></details></figcaption></figure>`;
          })
          .join('\n')}</div>`;

  return `<section aria-labelledby="dataset-title">
<h2 id="dataset-title">The whole dataset</h2>
<div class="overview">
${picture}
<div>${counts}${border}${accuracy}${verdicts}</div>
</div>
${clusters}
</section>`;
}

/** The colour ramp of the heat maps, as a CSS-drawn bar with its two ends named. */
function legend(): string {
  return '<span class="legend"><span>least</span><span class="ramp" aria-hidden="true"></span><span>most attention</span></span>';
}

interface Column {
  readonly key: string | null;
  readonly title: string;
  /** Right-aligned, like the numbers under it. */
  readonly numeric?: boolean;
}

const COLUMNS: readonly Column[] = [
  { key: null, title: 'Image' },
  { key: 'file', title: 'File' },
  { key: 'top1', title: 'Top-1' },
  { key: 'score', title: 'Score', numeric: true },
  { key: 'label', title: 'Label' },
  { key: 'correct', title: 'Correct' },
  { key: 'share', title: 'Share inside', numeric: true },
  { key: 'peak', title: 'Peak inside' },
  { key: 'verdict', title: 'Verdict' },
  { key: 'border', title: 'Border share', numeric: true },
  { key: null, title: 'Error' },
];

function tableSection(ordered: readonly AuditRow[], images: ReadonlyMap<string, ReportImages>): string {
  const head = COLUMNS.map((c) =>
    c.key === null
      ? `<th scope="col">${c.title}</th>`
      : `<th scope="col"${c.numeric ? ' class="num"' : ''} data-sort="${c.key}" aria-sort="${c.key === 'verdict' ? 'ascending' : 'none'}"><button type="button" data-sort="${c.key}">${c.title}</button></th>`,
  ).join('');
  const options = KINDS.map(
    (kind) =>
      `<option value="${kind}">${kind === 'error' ? 'errors' : kind === 'none' ? 'no region' : VERDICT_WORDS[kind]}</option>`,
  ).join('');
  const body = ordered
    .map((row, index) => {
      const picture = images.get(row.file);
      const thumb = picture ? `<img class="thumb" src="${pngUri(picture.thumbnail)}" alt="">` : '';
      const top = row.predictions?.[0];
      const kind = kindOf(row);
      const cells = [
        `<td>${thumb}</td>`,
        `<th scope="row"><button type="button" class="open" aria-haspopup="dialog">${escapeHtml(row.file)}</button></th>`,
        `<td>${escapeHtml(top?.label ?? '')}</td>`,
        `<td class="num">${score(top?.score)}</td>`,
        `<td>${escapeHtml(row.label?.text ?? '')}</td>`,
        `<td>${yesNo(row.correct)}</td>`,
        `<td class="num">${percent(row.region?.share)}</td>`,
        `<td>${yesNo(row.region?.peakInside)}</td>`,
        `<td><span class="badge ${escapeHtml(kind)}">${escapeHtml(kindWords(row))}</span></td>`,
        `<td class="num">${percent(row.borderShare)}</td>`,
        `<td class="error">${escapeHtml(row.error?.message ?? '')}</td>`,
      ];
      return `<tr data-index="${index}">${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<section aria-labelledby="images-title">
<h2 id="images-title">Every image</h2>
<p class="note">Worst first: errors, then images where the model looks at the background, partly outside, at the object; within each, the lowest share inside first. Click a column header to sort, and an image's row to see its heat map.</p>
<div class="controls">
<label for="filter-text">Filter</label>
<input id="filter-text" type="search" placeholder="file, label, class or message" autocomplete="off">
<label for="filter-verdict">Verdict</label>
<select id="filter-verdict"><option value="all">all</option>${options}</select>
<span id="shown-count" aria-live="polite">Showing ${ordered.length} of ${ordered.length} images</span>
</div>
<div class="table-wrap">
<table id="images">
<caption class="visually-hidden">Every image with its prediction and where the model looked</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
</div>
</section>`;
}

function dialogMarkup(): string {
  return `<dialog id="detail" aria-labelledby="detail-title">
<div class="dialog-body">
<div class="dialog-head"><h2 id="detail-title"></h2><button type="button" id="detail-close">Close</button></div>
<img id="detail-image" alt="" hidden>
<dl id="detail-list" class="facts"></dl>
</div>
</dialog>`;
}

/** The dialog's list of facts about a row, as plain text pairs (the script sets them as text, never HTML). */
function details(row: AuditRow): [string, string][] {
  const out: [string, string][] = [['Status', row.status]];
  if (row.error) out.push(['Error', `${row.error.message} (${row.error.code})`]);
  if (row.predictions && row.predictions.length > 0) {
    out.push(['Top predictions', row.predictions.map((p) => `${p.label} ${score(p.score)}`).join(', ')]);
  }
  if (row.label) out.push(['Label', row.label.text]);
  if (row.correct !== undefined) out.push(['Correct', yesNo(row.correct)]);
  if (row.target) out.push(['Explained class', row.target.label]);
  if (row.region) {
    const r = row.region;
    out.push(
      ['Verdict', VERDICT_WORDS[r.verdict]],
      ['Share inside', percent(r.share)],
      ['Region area', `${percent(r.areaShare)} of the image`],
      ['Concentration', `${r.concentration.toFixed(1)}× an even spread`],
      ['Peak inside', `${yesNo(r.peakInside)} (within ${r.tolerance} px)`],
    );
  }
  if (row.borderShare !== undefined) out.push(['Border share', percent(row.borderShare)]);
  if (row.faithfulness) {
    out.push(
      ['Deletion AUC', `${row.faithfulness.deletion.toFixed(3)} (lower: the map found what the model uses)`],
      ['Insertion AUC', `${row.faithfulness.insertion.toFixed(3)} (higher is better)`],
    );
  }
  if (row.width !== undefined && row.height !== undefined) {
    out.push(['Size', `${row.width} × ${row.height} px`]);
  }
  if (row.seconds !== undefined) out.push(['Time', `${row.seconds.toFixed(1)} s`]);
  return out;
}

/** What each sortable column sorts by; null sorts last in either direction. */
function sortKeys(row: AuditRow): Record<string, string | number | null> {
  const top = row.predictions?.[0];
  const bool = (b: boolean | undefined) => (b === undefined ? null : b ? 1 : 0);
  return {
    file: row.file,
    top1: top?.label ?? null,
    score: top?.score ?? null,
    label: row.label?.text ?? null,
    correct: bool(row.correct),
    share: row.region?.share ?? null,
    peak: bool(row.region?.peakInside),
    // Severity, then share inside: the default order.
    verdict: KINDS.indexOf(kindOf(row)) * 2 + (row.region?.share ?? 0),
    border: row.borderShare ?? null,
  };
}

function searchText(row: AuditRow): string {
  return [
    row.file,
    row.predictions?.[0]?.label,
    row.label?.text,
    row.target?.label,
    kindWords(row),
    row.error?.code,
    row.error?.message,
  ]
    .filter((t): t is string => typeof t === 'string')
    .join('\n')
    .toLowerCase();
}

function styleSheet(): string {
  const lut = colormap('turbo').lut;
  const stops = Array.from({ length: 9 }, (_, i) => {
    const c = Math.round((i / 8) * 255) * 3;
    return `rgb(${lut[c]}, ${lut[c + 1]}, ${lut[c + 2]}) ${i * 12.5}%`;
  }).join(', ');
  return `
:root { color-scheme: light; --text: #1b1b1b; --muted: #4a4a4a; --line: #d0d0d0; --accent: #0b57d0; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 16px; line-height: 1.5; color: var(--text); background: #fff; }
header, main { max-width: 1240px; margin: 0 auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 1.2rem 0 0.4rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 1.6rem 0 0.6rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
.note { color: var(--muted); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.4rem 0; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.overview { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.overview > div { flex: 1 1 18rem; min-width: 0; }
figure { margin: 0; }
.map img, .cluster img { image-rendering: pixelated; display: block; border: 1px solid var(--line); }
.map figcaption { max-width: 220px; font-size: 0.9rem; color: var(--muted); }
.legend { display: flex; align-items: center; gap: 0.4rem; margin-top: 0.3rem; font-size: 0.85rem; }
.ramp { display: inline-block; width: 80px; height: 12px; border: 1px solid var(--line); background: linear-gradient(to right, ${stops}); }
.clusters { display: flex; flex-wrap: wrap; gap: 1rem; }
.cluster { display: flex; gap: 0.6rem; align-items: flex-start; flex: 0 1 320px; }
.cluster ul { margin: 0.2rem 0; padding-left: 1.2rem; overflow-wrap: anywhere; }
table { border-collapse: collapse; }
caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
table.small th, table.small td { padding: 0.2rem 0.8rem 0.2rem 0; text-align: left; }
table.small .badge { white-space: normal; }
.controls { display: flex; flex-wrap: wrap; gap: 0.5rem 0.8rem; align-items: center; margin: 0.6rem 0; }
.controls input, .controls select { font: inherit; padding: 0.3rem 0.5rem; border: 1px solid #767676; border-radius: 4px; color: var(--text); background: #fff; }
.controls input { min-width: 16rem; }
#shown-count { color: var(--muted); }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 4px; }
#images { width: 100%; font-size: 0.92rem; }
#images th, #images td { padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
#images thead th { background: #f3f3f3; white-space: nowrap; position: sticky; top: 0; }
#images td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
#images td.error { color: #8a1c1c; min-width: 12rem; max-width: 22rem; overflow-wrap: anywhere; }
#images tbody tr { cursor: pointer; }
#images tbody tr:hover { background: #f5f8ff; }
#images tbody th { font-weight: normal; min-width: 9rem; max-width: 18rem; overflow-wrap: anywhere; }
#images thead th.num { text-align: right; }
thead button { font: inherit; font-weight: 600; color: var(--text); background: none; border: none; padding: 0; cursor: pointer; }
thead button:hover { text-decoration: underline; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
button.open { font: inherit; color: var(--accent); background: none; border: none; padding: 0; text-align: left; text-decoration: underline; cursor: pointer; overflow-wrap: anywhere; }
button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.thumb { display: block; max-width: 64px; max-height: 64px; }
.badge { display: inline-block; padding: 0.05rem 0.45rem; border-radius: 999px; font-size: 0.85rem; white-space: nowrap; border: 1px solid transparent; }
.badge.object { background: #e6f4ea; color: #0b5323; }
.badge.partly { background: #fef3d6; color: #6b4400; }
.badge.background { background: #fce8e6; color: #8a1c1c; }
.badge.error { background: #eeeeee; color: #1b1b1b; border-color: #8a8a8a; }
.badge.none { background: #fff; color: var(--muted); border-color: var(--line); }
dialog { width: min(96vw, 900px); max-height: 94vh; padding: 0; border: none; border-radius: 8px; color: var(--text); }
dialog::backdrop { background: rgba(0, 0, 0, 0.6); }
.dialog-body { padding: 1rem 1.2rem; }
.dialog-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 1rem; }
.dialog-head h2 { margin: 0 0 0.6rem; border: none; overflow-wrap: anywhere; }
#detail-close { font: inherit; padding: 0.3rem 0.9rem; border: 1px solid #767676; border-radius: 4px; background: #f3f3f3; color: var(--text); cursor: pointer; }
#detail-image { display: block; max-width: 100%; height: auto; margin: 0 auto 0.8rem; }
#detail-image[hidden] { display: none; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 640px) {
  body { font-size: 15px; }
  header, main { padding: 0 0.6rem; }
  .controls input { min-width: 0; flex: 1 1 100%; }
  .thumb { max-width: 44px; max-height: 44px; }
  .facts { grid-template-columns: 1fr; }
  .facts dd { margin-bottom: 0.3rem; }
}
`;
}

/**
 * The page's behaviour: sorting (header buttons; a second click reverses; absent values last), filtering
 * (every word of the text box must occur; the verdict menu), and the detail dialog (row click, or the file's
 * button with Enter or Space). It sets text with textContent only. No "//" and no closing tags in it.
 */
const SCRIPT = `
(() => {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const rows = data.rows;
  const table = document.getElementById('images');
  const tbody = table.tBodies[0];
  const rowOf = new Map();
  for (const tr of Array.from(tbody.rows)) rowOf.set(Number(tr.dataset.index), tr);
  const headers = Array.from(table.querySelectorAll('thead th[data-sort]'));
  const filterText = document.getElementById('filter-text');
  const filterVerdict = document.getElementById('filter-verdict');
  const shown = document.getElementById('shown-count');
  const dialog = document.getElementById('detail');
  const dialogTitle = document.getElementById('detail-title');
  const dialogImage = document.getElementById('detail-image');
  const dialogList = document.getElementById('detail-list');
  let sortKey = 'verdict';
  let ascending = true;
  let opener = null;

  function compareValues(x, y) {
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x).localeCompare(String(y), undefined, { numeric: true, sensitivity: 'base' });
  }

  function sortBy(key) {
    ascending = key === sortKey ? !ascending : true;
    sortKey = key;
    const order = rows.map((_, i) => i);
    order.sort((a, b) => {
      const x = rows[a].keys[key];
      const y = rows[b].keys[key];
      if (x === null || y === null) {
        if (x !== y) return x === null ? 1 : -1;
      } else {
        const c = compareValues(x, y);
        if (c !== 0) return ascending ? c : -c;
      }
      return a - b;
    });
    for (const i of order) tbody.appendChild(rowOf.get(i));
    for (const th of headers) {
      th.setAttribute('aria-sort', th.dataset.sort === key ? (ascending ? 'ascending' : 'descending') : 'none');
    }
  }

  function applyFilter() {
    const words = filterText.value.toLowerCase().split(/\\s+/).filter(Boolean);
    const kind = filterVerdict.value;
    let count = 0;
    rows.forEach((row, i) => {
      const visible = (kind === 'all' || row.kind === kind) && words.every((w) => row.text.includes(w));
      rowOf.get(i).hidden = !visible;
      if (visible) count += 1;
    });
    shown.textContent = 'Showing ' + count + ' of ' + rows.length + ' images';
  }

  function openDetail(index, from) {
    const row = rows[index];
    opener = from;
    dialogTitle.textContent = row.file;
    if (row.overlay) {
      dialogImage.src = row.overlay;
      dialogImage.alt = 'Heat map over ' + row.file;
      dialogImage.hidden = false;
    } else {
      dialogImage.removeAttribute('src');
      dialogImage.alt = '';
      dialogImage.hidden = true;
    }
    dialogList.replaceChildren();
    for (const pair of row.detail) {
      const dt = document.createElement('dt');
      dt.textContent = pair[0];
      const dd = document.createElement('dd');
      dd.textContent = pair[1];
      dialogList.append(dt, dd);
    }
    dialog.showModal();
  }

  for (const th of headers) {
    th.querySelector('button').addEventListener('click', () => sortBy(th.dataset.sort));
  }
  filterText.addEventListener('input', applyFilter);
  filterVerdict.addEventListener('change', applyFilter);
  tbody.addEventListener('click', (event) => {
    const tr = event.target.closest('tr');
    if (tr && tbody.contains(tr)) openDetail(Number(tr.dataset.index), tr.querySelector('button.open'));
  });
  document.getElementById('detail-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener('close', () => {
    if (opener) opener.focus();
  });
  applyFilter();
})();
`;
