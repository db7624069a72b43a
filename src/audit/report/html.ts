// report.html: one self-contained file (pictures as data: URIs, CSS and script inline, a Content-Security-Policy
// that forbids any fetch), so it opens from a USB stick or an e-mail attachment and makes no network request.
// The markup is written here and in sections.ts; the script and style sheet are real files in web/src/report/,
// bundled at build time and inlined (assets.ts).
import { createHash } from 'node:crypto';
import { invalidArgument } from '../../core/errors.js';
import { escapeHtml } from '../../core/html.js';
import { colormap } from '../../render/colormaps.js';
import { WINDOW_BOX_CELLS } from '../detect-window.js';
import type { AuditConfig, AuditRow, AuditSummary } from '../types.js';
import { reportAssets } from './assets.js';
import { pngUri, scriptJson } from './escape.js';
import { PAGE_IDS, type ReportPageData } from './page-data.js';
import { details, kindsOf, searchText, sortKeys, worstFirst } from './row-view.js';
import {
  datasetSection,
  dialogMarkup,
  heatMapUri,
  type ReportImages,
  runSection,
  tableSection,
} from './sections.js';
import { shortcutSection } from './shortcut-section.js';

export { scriptJson } from './escape.js';
export { worstFirst } from './row-view.js';
export type { ReportImages } from './sections.js';

export interface ReportInput {
  readonly rows: readonly AuditRow[];
  /** summarize(rows). */
  readonly summary: AuditSummary;
  readonly config: AuditConfig;
  /** Default "Sightline audit". */
  readonly title?: string;
  /** Pictures by row file; a row without an entry is shown without pictures. */
  readonly images?: ReadonlyMap<string, ReportImages>;
  /** Rows whose pictures could not be read, by file, with why: their image cell says the picture is missing. */
  readonly missingPictures?: ReadonlyMap<string, string>;
}

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
  const missing = input.missingPictures ?? new Map<string, string>();
  const ordered = worstFirst(rows);
  const assets = await reportAssets();

  const meanMap = await heatMapUri(summary.meanMap);
  const clusterMaps = await Promise.all(summary.clusters.map((cluster) => heatMapUri(cluster.mean)));
  const aroundMaps = await Promise.all(
    (summary.detect?.around ?? []).map((c) => heatMapUri(c.mean, WINDOW_BOX_CELLS)),
  );

  const data: ReportPageData = {
    rows: ordered.map((row) => ({
      file: row.file,
      kinds: kindsOf(row),
      keys: sortKeys(row),
      text: searchText(row),
      detail: details(row, missing.get(row.file)),
      overlay: images.has(row.file) ? pngUri(images.get(row.file)!.overlay) : null,
    })),
  };

  const body = [
    `<header><h1>${escapeHtml(title)}</h1></header>`,
    '<main>',
    runSection(config, rows),
    datasetSection(rows, summary, meanMap, clusterMaps, aroundMaps),
    shortcutSection(rows, summary.shortcuts, config.shortcuts),
    tableSection(ordered, images, missing),
    '</main>',
    dialogMarkup(),
    `<script type="application/json" id="${PAGE_IDS.data}">${scriptJson(data)}</script>`,
    `<script>${assets.script}</script>`,
  ].join('\n');

  const style = `${assets.style}\n${rampStyle()}`;
  const policy = [
    "default-src 'none'",
    'img-src data:',
    `style-src '${sha256(style)}'`,
    `script-src '${sha256(assets.script)}'`,
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

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

/** The legend's colour ramp: turbo, the heat maps' colormap, in nine stops (the rest of .ramp is in report.css). */
function rampStyle(): string {
  const lut = colormap('turbo').lut;
  const stops = Array.from({ length: 9 }, (_, i) => {
    const c = Math.round((i / 8) * 255) * 3;
    return `rgb(${lut[c]}, ${lut[c + 1]}, ${lut[c + 2]}) ${i * 12.5}%`;
  }).join(', ');
  return `.ramp { background: linear-gradient(to right, ${stops}); }`;
}
