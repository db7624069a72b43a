// report.html: one self-contained file (pictures as data: URIs, CSS and script inline, a Content-Security-Policy
// that forbids any fetch), so it opens from a USB stick or an e-mail attachment and makes no network request;
// or, for a large audit, the same page whose images table reads its rows from script files beside it and its
// pictures from the audit's picture files (renderPagedReport). The markup is written here and in sections.ts;
// the script and style sheet are real files in web/src/report/, bundled at build time and inlined (assets.ts).
import { invalidArgument } from '../../core/errors.js';
import { escapeHtml } from '../../core/html.js';
import { colormap } from '../../render/colormaps.js';
import { WINDOW_BOX_CELLS } from '../detect-window.js';
import { auditFindings, type Finding } from '../findings.js';
import type { AuditConfig, AuditRow, AuditSummary } from '../types.js';
import { reportAssets } from './assets.js';
import { pictureUri, scriptJson } from './escape.js';
import { findingKindsByFile, findingsSection } from './findings.js';
import { selfContainedPage } from './page.js';
import {
  PAGE_CALLBACK,
  PAGE_IDS,
  type PagedRow,
  type ReportPageData,
  type ReportPageRow,
} from './page-data.js';
import { details, kindsOf, rowCells, searchText, sortKeys, worstFirst } from './row-view.js';
import {
  datasetSection,
  dialogMarkup,
  heatMapUri,
  imagesSection,
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
  /** The findings shown first (auditFindings(rows, summary) when absent). */
  readonly findings?: readonly Finding[];
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
  const { rows } = input;
  if (!Array.isArray(rows as unknown)) throw invalidArgument('rows', 'a list of audit rows', rows);
  const images = input.images ?? new Map<string, ReportImages>();
  const missing = input.missingPictures ?? new Map<string, string>();
  const findings = input.findings ?? auditFindings(rows, input.summary);
  const found = findingKindsByFile(findings);
  const ordered = worstFirst(rows);
  const data: ReportPageData = {
    rows: ordered.map((row) => ({
      ...pageRow(row, missing, found),
      overlay: images.has(row.file) ? pictureUri(images.get(row.file)!.overlay) : null,
    })),
  };
  return page(input, findings, tableSection(ordered, images, missing, findings), data, false);
}

export interface PagedReportInput extends Omit<ReportInput, 'images'> {
  /** Pictures by row file, as URLs relative to the page (files beside it); a row without one has none. */
  readonly pictures?: ReadonlyMap<string, { readonly overlay: string; readonly thumbnail: string }>;
  /** Rows in each page file (default ROWS_PER_PAGE). */
  readonly rowsPerPage?: number;
  /** The folder of the page files, beside the page (default PAGES_FOLDER). */
  readonly folder?: string;
}

/** The page files of a paged report: names relative to the page, and their text (JavaScript). */
export interface PagedReport {
  readonly html: string;
  readonly pages: readonly { readonly name: string; readonly text: string }[];
}

/** Rows in each page file of a paged report: a few hundred KB of script, parsed in milliseconds. */
export const ROWS_PER_PAGE = 500;
export const PAGES_FOLDER = 'report-rows';

/**
 * renderReport for a large audit: the same page with the same sections, but the images table's rows (and their
 * pictures, which stay in files beside the page) are read by the page's script from `pages`, files of
 * rowsPerPage rows each in the table's initial order, written into `folder` beside report.html. Each is a script
 * calling PAGE_CALLBACK, since a page opened from file:// may not fetch; the policy allows scripts and pictures
 * from the page's own origin for them.
 */
export async function renderPagedReport(input: PagedReportInput): Promise<PagedReport> {
  const { rows } = input;
  if (!Array.isArray(rows as unknown)) throw invalidArgument('rows', 'a list of audit rows', rows);
  const perPage = input.rowsPerPage ?? ROWS_PER_PAGE;
  if (!(Number.isInteger(perPage) && perPage > 0)) {
    throw invalidArgument('rowsPerPage', 'a positive whole number of rows', perPage);
  }
  const folder = input.folder ?? PAGES_FOLDER;
  const pictures = input.pictures ?? new Map<string, { overlay: string; thumbnail: string }>();
  const missing = input.missingPictures ?? new Map<string, string>();
  const findings = input.findings ?? auditFindings(rows, input.summary);
  const found = findingKindsByFile(findings);
  const ordered = worstFirst(rows);
  const pages: { name: string; text: string }[] = [];
  for (let start = 0; start < ordered.length; start += perPage) {
    const index = pages.length;
    const part: PagedRow[] = ordered.slice(start, start + perPage).map((row) => {
      const picture = pictures.get(row.file);
      return {
        ...pageRow(row, missing, found),
        overlay: picture?.overlay ?? null,
        thumbnail: picture?.thumbnail ?? null,
        missing: missing.has(row.file),
        cells: rowCells(row),
      };
    });
    pages.push({
      name: `${folder}/page-${String(index + 1).padStart(4, '0')}.js`,
      text: `${PAGE_CALLBACK}(${index}, ${scriptJson(part)});\n`,
    });
  }
  const data: ReportPageData = {
    rows: [],
    pages: {
      files: pages.map((p) => p.name.split('/').map(encodeURIComponent).join('/')),
      total: ordered.length,
    },
  };
  const table = imagesSection(ordered, { paged: { files: pages.length, folder } }, findings);
  return { html: await page(input, findings, table, data, true), pages };
}

/** What the script needs of a row, but its pictures; its kinds include the findings naming it (`found`). */
function pageRow(
  row: AuditRow,
  missing: ReadonlyMap<string, string>,
  found: ReadonlyMap<string, readonly string[]>,
): Omit<ReportPageRow, 'overlay'> {
  return {
    file: row.file,
    kinds: [...kindsOf(row), ...(found.get(row.file) ?? [])],
    keys: sortKeys(row),
    text: searchText(row),
    detail: details(row, missing.get(row.file)),
  };
}

/** The whole page around the images table: head, policy, findings, the run and dataset sections, dialog, script. */
async function page(
  input: ReportInput | PagedReportInput,
  findings: readonly Finding[],
  table: string,
  data: ReportPageData,
  paged: boolean,
): Promise<string> {
  const { rows, summary, config } = input;
  const title = input.title ?? 'Sightline audit';
  const assets = await reportAssets();
  const meanMap = await heatMapUri(summary.meanMap);
  const clusterMaps = await Promise.all(summary.clusters.map((cluster) => heatMapUri(cluster.mean)));
  const aroundMaps = await Promise.all(
    (summary.detect?.around ?? []).map((c) => heatMapUri(c.mean, WINDOW_BOX_CELLS)),
  );
  // Sections in reading order; a new section of the dataset-level picture goes before the table.
  const sections = [
    findingsSection(findings, rows.length),
    runSection(config, rows),
    datasetSection(rows, summary, meanMap, clusterMaps, aroundMaps),
    shortcutSection(rows, summary.shortcuts, config.shortcuts),
    table,
  ];
  const body = [
    `<header><h1>${escapeHtml(title)}</h1></header>`,
    '<main>',
    ...sections,
    '</main>',
    dialogMarkup(),
    `<script type="application/json" id="${PAGE_IDS.data}">${scriptJson(data)}</script>`,
    `<script>${assets.script}</script>`,
  ].join('\n');

  const style = `${assets.style}\n${rampStyle()}`;
  // A paged report's rows and pictures are files beside it; a single file's are all inline.
  return selfContainedPage({ title, style, body, script: assets.script, filesBeside: paged });
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
