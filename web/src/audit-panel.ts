// The "Audit a folder" panel: photos and a regions file in (a dropped folder, picked photos or a picked
// folder), the audit run in the engine worker with progress and Cancel, each photo's verdict as it comes (and
// saved, so a reload resumes: audit-store.ts), the dataset picture at the end, and the files the CLI writes for
// the rows done (audit-download.ts).
import { type AuditRow, summarize } from '../../src/browser.js';
import { type AuditFiles, auditFiles, downloadFile, zipFiles } from './audit-download.js';
import type { AuditPictures } from './audit-pictures.js';
import type { AuditPhoto, AuditRegionsFile } from './audit-protocol.js';
import { auditFingerprint, discardSaved, savedCount, savedRows, saveRow } from './audit-store.js';
import { showAuditRow, showAuditSummary } from './audit-view.js';
import { ui } from './dom.js';
import { droppedFiles } from './dropped.js';
import { Cancelled, engine } from './engine.js';
import { ensureModel } from './model.js';
import { state } from './state.js';

const PHOTO = /\.(jpe?g|png|webp|gif|bmp)$/i;
const REGIONS = /\.(json|xml|csv)$/i;

function element<T extends HTMLElement>(id: string, kind: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof kind)) throw new Error(`index.html lacks the audit panel's #${id}.`);
  return found;
}

const el = {
  drop: element('audit-drop', HTMLLabelElement),
  photos: element('audit-photos', HTMLInputElement),
  folder: element('audit-folder', HTMLInputElement),
  regions: element('audit-regions', HTMLInputElement),
  chosen: element('audit-chosen', HTMLElement),
  start: element('audit-start', HTMLButtonElement),
  cancel: element('audit-cancel', HTMLButtonElement),
  report: element('audit-report', HTMLButtonElement),
  csv: element('audit-csv', HTMLButtonElement),
  zip: element('audit-zip', HTMLButtonElement),
  saved: element('audit-saved', HTMLElement),
  discard: element('audit-discard', HTMLButtonElement),
  work: element('audit-work', HTMLElement),
  progress: element('audit-progress', HTMLProgressElement),
  status: element('audit-status', HTMLElement),
  table: element('audit-table', HTMLTableElement),
  rows: element('audit-rows', HTMLElement),
  picture: element('audit-picture', HTMLElement),
};

interface Named {
  readonly file: File;
  /** The path inside what was dropped or picked, '/'-separated. */
  readonly path: string;
}

let photos: AuditPhoto[] = [];
let regions: File[] = [];
let rows: AuditRow[] = [];
/** The rows' overlays and thumbnails for report.html, by file. */
let pictures = new Map<string, AuditPictures>();
let running: number | undefined;
/** From Start until the audit's end: a second Start, or discarding its saved rows, waits. */
let busy = false;
/** The files of the last audit's rows, made when first asked for. */
let files: Promise<AuditFiles> | undefined;
let lastConfig: Parameters<typeof auditFiles>[1] | undefined;

/**
 * A picked or dropped folder names its files 'folder/sub/a.jpg'; the rows name them as the CLI does from
 * inside the audited folder ('sub/a.jpg'), so the folder's own name goes when every photo shares it.
 */
function choose(files: readonly Named[]): void {
  const images = files.filter((f) => PHOTO.test(f.path));
  const given = files.filter((f) => REGIONS.test(f.path)).map((f) => f.file);
  const tops = new Set(images.map((f) => (f.path.includes('/') ? f.path.split('/', 1)[0] : '')));
  const strip = tops.size === 1 && !tops.has('');
  photos = images.map((f) => ({
    file: strip ? f.path.slice(f.path.indexOf('/') + 1) : f.path,
    blob: f.file,
  }));
  if (given.length > 0) regions = given;
  describeChoice();
}

function describeChoice(): void {
  const n = photos.length;
  el.chosen.textContent =
    (n === 0 ? 'No photos chosen.' : `${n} photo${n === 1 ? '' : 's'} chosen.`) +
    (regions.length > 0 ? ` Regions: ${regions.map((f) => f.name).join(', ')}.` : ' No regions file.');
  el.start.disabled = n === 0 || busy;
}

/**
 * The most photos whose pictures report.html holds: the CLI's REPORT_INLINE_MAX_ROWS (src/audit/write.ts), about
 * 14 MB of page. A larger audit's report here lists its rows without pictures; `sightline audit` pages them.
 */
const REPORT_PICTURES_MAX = 300;

/** As the CLI reads regions files (audit/regions/files.ts): about the longest string the engine holds. */
const MAX_REGIONS_BYTES = 512 * 1024 * 1024;

async function start(): Promise<void> {
  const huge = regions.find((f) => f.size > MAX_REGIONS_BYTES);
  el.work.hidden = false;
  if (huge) {
    el.status.textContent = `The regions file '${huge.name}' is ${(huge.size / 2 ** 20).toFixed(0)} MiB, over the limit of 512 MiB; expected a COCO, CSV or VOC file of regions.`;
    return;
  }
  busy = true;
  el.saved.hidden = true;
  try {
    await audit();
  } finally {
    busy = false;
    running = undefined;
    el.cancel.hidden = true;
    describeChoice();
    void showSaved();
  }
}

async function audit(): Promise<void> {
  el.start.disabled = true;
  // The last audit's rows and files go at once: nothing on screen belongs to two audits.
  el.rows.replaceChildren();
  el.picture.hidden = true;
  for (const button of [el.report, el.csv, el.zip]) button.hidden = true;
  el.status.textContent = state.model ? 'Starting…' : 'Starting the model…';
  await ensureModel();
  const model = state.model;
  if (!model) {
    el.status.textContent = 'The audit needs a model: the built-in one could not start (see above).';
    return;
  }
  const method = ui.method.value || 'grad-cam';
  const texts: AuditRegionsFile[] = await Promise.all(
    regions.map(async (f) => ({ name: f.name, text: await f.text() })),
  );
  const chosen = photos;
  const fingerprint = await auditFingerprint({
    model: model.identity,
    method,
    options: {},
    regions: texts,
    photos: chosen,
  });
  const saved = await savedRows(fingerprint, new Set(chosen.map((p) => p.file))).catch(() => ({
    rows: [] as AuditRow[],
    pictures: new Map<string, AuditPictures>(),
    ignored: 0,
  }));
  // A page holds its pictures in memory and report.html inlines them: up to the CLI's single-file limit.
  const drawPictures = chosen.length <= REPORT_PICTURES_MAX;
  pictures = drawPictures ? saved.pictures : new Map();
  const resumed = new Set(saved.rows.map((r) => r.file));
  const todo = chosen.filter((p) => !resumed.has(p.file));
  rows = [...saved.rows];
  files = undefined;
  lastConfig = {
    model: model.name,
    method,
    options: {},
    ...(texts.length > 0 ? { regions: texts.map((t) => t.name).join(', ') } : {}),
  };
  for (const row of sortedByFile(rows)) showAuditRow(el.rows, row);
  el.table.hidden = false;
  el.progress.value = chosen.length > 0 ? rows.length / chosen.length : 0;
  const label = ui.method.selectedOptions[0]?.textContent ?? method;
  const earlier =
    rows.length > 0
      ? `Resumed ${rows.length} of ${chosen.length} photos from saved progress${saved.ignored > 0 ? ` (${saved.ignored} saved record${saved.ignored === 1 ? '' : 's'} failed the check and ${saved.ignored === 1 ? 'is' : 'are'} redone)` : ''}. `
      : saved.ignored > 0
        ? `${saved.ignored} saved record${saved.ignored === 1 ? '' : 's'} failed the check and ${saved.ignored === 1 ? 'is' : 'are'} redone. `
        : '';
  el.status.textContent = `${earlier}Auditing ${todo.length} photos with ${label}…`;
  el.cancel.hidden = false;
  let cancelled = false;
  let failed: string | undefined;
  // Each row is saved before it is shown: a row on screen survives a reload.
  let saving: Promise<void> = Promise.resolve();
  if (todo.length > 0) {
    const call = engine.call(
      {
        type: 'audit',
        photos: todo,
        regions: texts.length > 0 ? texts : undefined,
        method,
        pictures: drawPictures,
      },
      'audit',
      {
        onProgress: (done, total) => {
          el.progress.value = (resumed.size + done) / chosen.length;
          el.status.textContent = `${earlier}${done} of ${total} photos done.`;
        },
        onRow: (row, drawn) => {
          saving = saving
            .then(() => saveRow(fingerprint, row, drawn))
            .catch(() => undefined)
            .then(() => {
              rows.push(row);
              if (drawn) pictures.set(row.file, drawn);
              showAuditRow(el.rows, row);
            });
        },
      },
    );
    running = call.id;
    try {
      cancelled = (await call.done).cancelled;
    } catch (error) {
      if (error instanceof Cancelled) cancelled = true;
      else failed = (error as Error).message;
    }
    await saving;
  }
  running = undefined;
  el.cancel.hidden = true;
  rows = sortedByFile(rows);
  if (failed !== undefined) el.status.textContent = `The audit stopped: ${failed}`;
  else
    el.status.textContent = cancelled
      ? `Cancelled: ${rows.length} of ${chosen.length} photos done; the results below are for those.`
      : `Done: ${rows.length} photos${resumed.size > 0 ? ` (${resumed.size} resumed from saved progress, ${rows.length - resumed.size} audited now)` : ''}.${drawPictures ? '' : ` report.html lists them without pictures above ${REPORT_PICTURES_MAX} photos; \`sightline audit\` writes a report with all of them.`}`;
  if (failed === undefined || rows.length > 0) {
    showAuditSummary(el.picture, summarize(rows), rows);
    el.picture.hidden = false;
    for (const button of [el.report, el.csv, el.zip]) button.hidden = rows.length === 0;
  }
}

function sortedByFile(list: readonly AuditRow[]): AuditRow[] {
  return [...list].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** The discard control, shown while progress is saved (and no audit runs). */
async function showSaved(): Promise<void> {
  const count = await savedCount().catch(() => 0);
  el.saved.hidden = count === 0 || busy;
  el.discard.textContent = `Discard saved progress (${count} photo${count === 1 ? '' : 's'})`;
}

async function offer(name: keyof AuditFiles | 'sightline-audit.zip'): Promise<void> {
  if (!lastConfig) return;
  files ??= auditFiles(rows, lastConfig, pictures);
  try {
    const made = await files;
    downloadFile(name, name === 'sightline-audit.zip' ? zipFiles(made) : made[name]);
  } catch (error) {
    files = undefined;
    el.status.textContent = `The files could not be made: ${(error as Error).message}`;
  }
}

export function setUpAudit(): void {
  el.photos.addEventListener('change', () =>
    choose([...(el.photos.files ?? [])].map((file) => ({ file, path: file.name }))),
  );
  el.folder.addEventListener('change', () =>
    choose(
      [...(el.folder.files ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name })),
    ),
  );
  el.regions.addEventListener('change', () => {
    regions = [...(el.regions.files ?? [])];
    describeChoice();
  });
  el.drop.addEventListener('dragover', (event) => event.preventDefault());
  el.drop.addEventListener('drop', (event) => {
    event.preventDefault();
    if (event.dataTransfer) void droppedFiles(event.dataTransfer).then(choose);
  });
  el.start.addEventListener('click', () => void start());
  el.cancel.addEventListener('click', () => {
    if (running !== undefined) engine.cancel(running);
  });
  el.report.addEventListener('click', () => void offer('report.html'));
  el.csv.addEventListener('click', () => void offer('results.csv'));
  el.zip.addEventListener('click', () => void offer('sightline-audit.zip'));
  el.discard.addEventListener('click', () => {
    if (busy) return;
    void discardSaved()
      .then(() => {
        el.work.hidden = false;
        el.status.textContent = 'Saved progress discarded: the next audit starts from the first photo.';
      })
      .catch((error) => {
        el.status.textContent = `The saved progress could not be discarded: ${(error as Error).message}`;
      })
      .then(showSaved);
  });
  void showSaved();
}
