// The sections of report.html, as markup: what was run, the whole dataset, every image, and the dialog.
// Every text from rows and config passes through escapeHtml.

import { TAG_PRESENT } from '../../core/confidence.js';
import { escapeHtml } from '../../core/html.js';
import { INSIDE_SHARE, PARTLY_CONCENTRATION } from '../../metrics/verdict.js';
import { drawBox } from '../../render/boxes.js';
import { colormap } from '../../render/colormaps.js';
import { aroundWords, detectSummaryWords } from '../detect-summary.js';
import { WINDOW_MARGIN } from '../detect-window.js';
import type { Finding } from '../findings.js';
import {
  type AuditConfig,
  type AuditRow,
  type AuditSummary,
  type AuditVerdict,
  BORDER_FRACTION,
  SUMMARY_GRID,
  VERDICT_WORDS,
} from '../types.js';
import { pictureUri, pngUri } from './escape.js';
import { findingOptions } from './findings.js';
import { INITIAL_SORT, PAGE_IDS } from './page-data.js';
import { encodeSmallPng, upscaleNearest } from './png.js';
import { DETECT_KINDS, filterWords, KINDS, kindWords, percent, plural, rowCells } from './row-view.js';

/** One image's pictures, as picture files' bytes (WebP; PNG or JPEG also shown). */
export interface ReportImages {
  readonly thumbnail: Uint8Array;
  readonly overlay: Uint8Array;
}

/** Side in CSS pixels of the dataset's mean map and of each cluster's map. */
const MAP_SIDE = 160;
const VERDICT_ORDER: readonly AuditVerdict[] = ['object', 'partly', 'background'];

/**
 * A square summary map (side² values) as a PNG data: URI: values scaled by the map's maximum, coloured with
 * turbo, upscaled by nearest neighbour to MAP_SIDE-ish pixels; null cells (outside every photo) grey. With
 * `frame` (the first and one-past-last cell of a box, on both axes), the box is outlined in white. Null for an
 * empty or all-zero map.
 */
export async function heatMapUri(
  values: readonly (number | null)[],
  frame?: readonly [number, number],
): Promise<string | null> {
  const side = Math.round(Math.sqrt(values.length));
  if (side === 0 || side * side !== values.length) return null;
  const max = values.reduce<number>((m, v) => Math.max(m, v ?? 0), 0);
  if (!(max > 0)) return null;
  const lut = colormap('turbo').lut;
  const pixels = new Uint8Array(values.length * 3);
  values.forEach((v, i) => {
    if (v === null) pixels.fill(128, i * 3, i * 3 + 3);
    else {
      const c = Math.round(Math.min(1, Math.max(0, v / max)) * 255) * 3;
      pixels.set(lut.subarray(c, c + 3), i * 3);
    }
  });
  const scale = Math.max(1, Math.round(MAP_SIDE / side));
  const big = upscaleNearest({ width: side, height: side, data: pixels }, scale);
  if (frame) {
    const [a, b] = frame.map((c) => c * scale);
    drawBox(big, 3, [a, a, b, b], { thickness: 2 });
  }
  return pngUri(encodeSmallPng(big));
}

export function runSection(config: AuditConfig, rows: readonly AuditRow[]): string {
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
${rows.some((row) => row.detect) ? "<li><strong>Detectors</strong>: each explained detection's map is judged against its own box as the marked region; an image takes its worst detection's verdict.</li>" : ''}
</ul>
<p class="note">Shares are compared as printed, rounded to whole percents. Attention is the evidence for the explained class (or, for methods without a sign, how much each pixel mattered).</p>
</section>`;
}

export function datasetSection(
  rows: readonly AuditRow[],
  summary: AuditSummary,
  meanMap: string | null,
  clusterMaps: readonly (string | null)[],
  aroundMaps: readonly (string | null)[] = [],
): string {
  const explained = summary.images - summary.errors;
  const detector = rows.some((row) => row.detect);
  const counts = `<p>${plural(summary.images, 'image')}: ${explained} explained, ${plural(summary.errors, 'error')}.</p>`;

  const picture = meanMap
    ? `<figure class="map">
<img src="${meanMap}" width="${MAP_SIDE}" height="${MAP_SIDE}" alt="Mean heat map of the model's attention over the explained images">
<figcaption>Where the model looks on average, every image stretched to a square.${legend()}</figcaption>
</figure>`
    : detector
      ? '' // a detector's maps are averaged around its boxes, below
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
  const task = summary.task ?? 'classify';
  const accuracy = detector
    ? '' // a detector's accuracy is its found, false-positive and missed counts, above
    : task === 'score'
      ? '<p>The model gives a score, not a class, so there is no label to be right about and no accuracy.</p>'
      : summary.accuracy === null
        ? '<p>No image has a label, so there is no accuracy.</p>'
        : task === 'multilabel'
          ? `<p>Every labelled tag present: <strong>${percent(summary.accuracy)}</strong> of ${plural(labelled.length, 'labelled image')} (a tag is present at ${TAG_PRESENT * 100}% or more).</p>${tagTable(summary)}`
          : `<p>Accuracy: <strong>${percent(summary.accuracy)}</strong> of ${plural(labelled.length, 'labelled image')} ${task === 'segment' ? 'have pixels of the labelled class' : 'have the label as the top prediction'}.</p>`;
  const lowRows = rows.filter((row) => row.lowConfidence !== undefined).length;
  const low =
    lowRows > 0
      ? `<p>${plural(lowRows, 'image')} explain${lowRows === 1 ? 's' : ''} a ${task === 'multilabel' ? 'tag under 10%' : 'class under 1%'} probability: ${lowRows === 1 ? 'its map shows' : 'their maps show'} what little evidence there is for it, not what the model mostly sees (see each image's note).</p>`
      : '';
  const noEvidence = summary.noEvidence ?? 0;
  const none = explained - noEvidence - VERDICT_ORDER.reduce((n, v) => n + summary.verdicts[v], 0);
  const verdictRows = VERDICT_ORDER.map((v) => {
    const acc = summary.accuracyByVerdict[v];
    return `<tr><th scope="row"><span class="badge ${v}">${VERDICT_WORDS[v]}</span></th><td>${summary.verdicts[v]}</td><td>${acc === null ? '—' : percent(acc)}</td></tr>`;
  });
  if (noEvidence > 0) {
    verdictRows.push(
      `<tr><th scope="row"><span class="badge noevidence">${kindWords('noevidence')}</span></th><td>${noEvidence}</td><td>—</td></tr>`,
    );
  }
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
<div>${counts}${summary.detect ? `<p>${escapeHtml(detectSummaryWords(summary.detect))}</p>` : ''}${border}${accuracy}${low}${detector ? detectVerdictTable(rows) : verdicts}</div>
</div>
${aroundSection(summary, aroundMaps)}
${clusters}
</section>`;
}

/** A detector audit's verdicts: its explained detections per verdict (each map against its own box). */
function detectVerdictTable(rows: readonly AuditRow[]): string {
  const count = new Map<string, { all: number; fp: number }>();
  for (const row of rows) {
    if (row.status !== 'ok' || !row.detect) continue;
    for (const d of row.detect.detections) {
      const kind = d.noEvidence ? 'noevidence' : d.verdict;
      if (!kind) continue;
      const c = count.get(kind) ?? { all: 0, fp: 0 };
      c.all++;
      if (!row.detect.noGroundTruth && d.object === undefined) c.fp++;
      count.set(kind, c);
    }
  }
  const body = (['object', 'partly', 'background', 'noevidence'] as const)
    .filter((k) => count.has(k))
    .map((k) => {
      const c = count.get(k)!;
      return `<tr><th scope="row"><span class="badge ${k}">${kindWords(k)}</span></th><td>${c.all}</td><td>${c.fp}</td></tr>`;
    });
  return `<table class="small">
<caption>Verdicts of the explained detections (each map against its own box)</caption>
<thead><tr><th scope="col">Verdict</th><th scope="col">Detections</th><th scope="col">False positives</th></tr></thead>
<tbody>${body.join('\n')}</tbody>
</table>`;
}

/** A detector's mean map around its detections, one picture per class, with where the attention lies in words. */
function aroundSection(summary: AuditSummary, maps: readonly (string | null)[]): string {
  const around = summary.detect?.around ?? [];
  if (around.length === 0) return '';
  const figures = around.map((c, i) => {
    const img = maps[i]
      ? `<img src="${maps[i]}" width="${MAP_SIDE / 2}" height="${MAP_SIDE / 2}" alt="Mean heat map around the ${escapeHtml(c.label)} detections">`
      : '';
    return `<figure class="cluster">${img}<figcaption>${escapeHtml(aroundWords(c))}</figcaption></figure>`;
  });
  return `<h3>Around the detections, by class</h3>
<p class="note">Each explained detection's map in its box's frame: the box (outlined) widened by ${Math.round(WINDOW_MARGIN * 100)}% of its size on every side, every box stretched to the same square, then averaged over the class's detections. Grey: outside every photo.${legend()}</p>
<div class="clusters">${figures.join('\n')}</div>`;
}

/** Per labelled tag of a multilabel audit: its labelled images and how many of them have it present. */
function tagTable(summary: AuditSummary): string {
  if (!summary.tags || summary.tags.length === 0) return '';
  const body = summary.tags
    .map(
      (t) =>
        `<tr><th scope="row">${escapeHtml(t.label)}</th><td>${t.images}</td><td>${t.present}</td><td>${percent(t.present / t.images)}</td></tr>`,
    )
    .join('\n');
  return `<table class="small">
<caption>Labelled tags</caption>
<thead><tr><th scope="col">Tag</th><th scope="col">Labelled images</th><th scope="col">Present</th><th scope="col">Share</th></tr></thead>
<tbody>${body}</tbody>
</table>`;
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
  { key: 'top1', title: 'Prediction' },
  { key: 'score', title: 'Score', numeric: true },
  { key: 'label', title: 'Label' },
  { key: 'correct', title: 'Correct' },
  { key: 'share', title: 'Share inside', numeric: true },
  { key: 'peak', title: 'Peak inside' },
  { key: 'verdict', title: 'Verdict' },
  { key: 'border', title: 'Border share', numeric: true },
  { key: null, title: 'Error' },
];

/** How the images table gets its rows: written into the page, or loaded by the script from files beside it. */
export type TableRows =
  | { readonly inline: string }
  | { readonly paged: { readonly files: number; readonly folder: string } };

/**
 * The images table, rows in `ordered` order. A row with pictures shows its thumbnail; one whose pictures are in
 * `missing` (file → why) says "picture missing" in their place.
 */
export function tableSection(
  ordered: readonly AuditRow[],
  images: ReadonlyMap<string, ReportImages>,
  missing: ReadonlyMap<string, string>,
  findings: readonly Finding[] = [],
): string {
  const body = ordered
    .map((row, index) => {
      const picture = images.get(row.file);
      const thumb = picture
        ? `<img class="thumb" src="${pictureUri(picture.thumbnail)}" alt="">`
        : missing.has(row.file)
          ? '<span class="missing">picture missing</span>'
          : '';
      const c = rowCells(row);
      const cells = [
        `<td>${thumb}</td>`,
        `<th scope="row"><button type="button" class="open" aria-haspopup="dialog">${escapeHtml(row.file)}</button></th>`,
        `<td>${escapeHtml(c.prediction)}${c.low ? `<br><span class="note low">${escapeHtml(c.low)}</span>` : ''}</td>`,
        `<td class="num">${escapeHtml(c.score)}</td>`,
        `<td>${escapeHtml(c.label)}</td>`,
        `<td>${escapeHtml(c.correct)}</td>`,
        `<td class="num">${escapeHtml(c.share)}</td>`,
        `<td>${escapeHtml(c.peak)}</td>`,
        `<td><span class="badge ${escapeHtml(c.kind)}">${escapeHtml(c.verdict)}</span></td>`,
        `<td class="num">${escapeHtml(c.border)}</td>`,
        `<td class="error">${escapeHtml(c.error)}</td>`,
      ];
      return `<tr data-index="${index}">${cells.join('')}</tr>`;
    })
    .join('\n');
  return imagesSection(ordered, { inline: body }, findings);
}

/**
 * The "Every image" section: its controls and table, with `rows` written in or (a large audit) an empty body
 * and a pager, the script filling in one view of rows at a time from the page files. The verdict menu also
 * offers each of `findings`, so a finding's link can filter the table to its images.
 */
export function imagesSection(
  ordered: readonly AuditRow[],
  rows: TableRows,
  findings: readonly Finding[] = [],
): string {
  const head = COLUMNS.map((c) =>
    c.key === null
      ? `<th scope="col">${c.title}</th>`
      : `<th scope="col"${c.numeric ? ' class="num"' : ''} data-sort="${c.key}" aria-sort="${c.key === INITIAL_SORT ? 'ascending' : 'none'}"><button type="button" data-sort="${c.key}">${c.title}</button></th>`,
  ).join('');
  const kinds = ordered.some((row) => row.detect) ? [...KINDS, ...DETECT_KINDS] : KINDS;
  const options =
    kinds.map((kind) => `<option value="${kind}">${filterWords(kind)}</option>`).join('') +
    findingOptions(findings);
  const paged = 'paged' in rows ? rows.paged : undefined;
  const pager = paged
    ? `<div class="pager"><button type="button" id="${PAGE_IDS.pagerPrevious}" disabled>Previous</button><span id="${PAGE_IDS.pagerStatus}" aria-live="polite"></span><button type="button" id="${PAGE_IDS.pagerNext}" disabled>Next</button></div>`
    : '';
  const body = paged
    ? `<tr><td colspan="${COLUMNS.length}" class="note">The rows are read from the ${paged.files} file${paged.files === 1 ? '' : 's'} in the folder ${escapeHtml(paged.folder)}/ beside this page (keep it with the page); they need the page's script.</td></tr>`
    : (rows as { inline: string }).inline;
  return `<section aria-labelledby="images-title">
<h2 id="images-title">Every image</h2>
<p class="note">Worst first: errors, then images where the model looks at the background, partly outside, at the object; within each, the lowest share inside first. Click a column header to sort, and an image's row to see its heat map.</p>
<div class="controls">
<label for="${PAGE_IDS.filterText}">Filter</label>
<input id="${PAGE_IDS.filterText}" type="search" placeholder="file, label, class or message" autocomplete="off">
<label for="${PAGE_IDS.filterVerdict}">Verdict</label>
<select id="${PAGE_IDS.filterVerdict}"><option value="all">all</option>${options}</select>
<span id="${PAGE_IDS.shown}" aria-live="polite">Showing ${ordered.length} of ${ordered.length} images</span>
</div>
${pager}<div class="table-wrap">
<table id="${PAGE_IDS.table}">
<caption class="visually-hidden">Every image with its prediction and where the model looked</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
</div>
</section>`;
}

export function dialogMarkup(): string {
  return `<dialog id="${PAGE_IDS.dialog}" aria-labelledby="${PAGE_IDS.dialogTitle}">
<div class="dialog-body">
<div class="dialog-head"><h2 id="${PAGE_IDS.dialogTitle}"></h2><button type="button" id="${PAGE_IDS.dialogClose}">Close</button></div>
<img id="${PAGE_IDS.dialogImage}" alt="" hidden>
<dl id="${PAGE_IDS.dialogList}" class="facts"></dl>
</div>
</dialog>`;
}
