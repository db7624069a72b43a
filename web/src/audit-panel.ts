// The "Audit a folder" panel: photos and a regions file in (a dropped folder, picked photos or a picked
// folder), the audit run in the engine worker with progress and Cancel, each photo's verdict as it comes, the
// dataset picture at the end, and results.csv as the CLI writes it for the rows done.
import { type AuditRow, rowsToCsv } from '../../src/browser.js';
import type { AuditPhoto, AuditRegionsFile } from './audit-protocol.js';
import { showAuditRow, showAuditSummary } from './audit-view.js';
import { ui } from './dom.js';
import { droppedFiles } from './dropped.js';
import { Cancelled, engine } from './engine.js';
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
  csv: element('audit-csv', HTMLButtonElement),
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
let running: number | undefined;

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
  el.start.disabled = n === 0 || running !== undefined;
}

/** As the CLI reads regions files (audit/regions/files.ts): about the longest string the engine holds. */
const MAX_REGIONS_BYTES = 512 * 1024 * 1024;

async function start(): Promise<void> {
  const huge = regions.find((f) => f.size > MAX_REGIONS_BYTES);
  if (huge) {
    el.work.hidden = false;
    el.status.textContent = `The regions file '${huge.name}' is ${(huge.size / 2 ** 20).toFixed(0)} MiB, over the limit of 512 MiB; expected a COCO, CSV or VOC file of regions.`;
    return;
  }
  await state.modelReady;
  const method = ui.method.value || 'grad-cam';
  const texts: AuditRegionsFile[] = await Promise.all(
    regions.map(async (f) => ({ name: f.name, text: await f.text() })),
  );
  rows = [];
  el.rows.replaceChildren();
  el.table.hidden = false;
  el.picture.hidden = true;
  el.csv.hidden = true;
  el.work.hidden = false;
  el.progress.value = 0;
  el.status.textContent = `Auditing ${photos.length} photos with ${ui.method.selectedOptions[0]?.textContent ?? method}…`;
  el.cancel.hidden = false;
  el.start.disabled = true;
  const call = engine.call(
    { type: 'audit', photos, regions: texts.length > 0 ? texts : undefined, method },
    'audit',
    {
      onProgress: (done, total) => {
        el.progress.value = total > 0 ? done / total : 0;
        el.status.textContent = `${done} of ${total} photos done.`;
      },
      onRow: (row) => {
        rows.push(row);
        showAuditRow(el.rows, row);
      },
    },
  );
  running = call.id;
  try {
    const result = await call.done;
    rows = [...result.rows];
    el.status.textContent = result.cancelled
      ? `Cancelled: ${rows.length} of ${photos.length} photos done; the results below are for those.`
      : `Done: ${rows.length} photos.`;
    showAuditSummary(el.picture, result.summary, rows);
    el.picture.hidden = false;
    el.csv.hidden = rows.length === 0;
  } catch (error) {
    el.status.textContent =
      error instanceof Cancelled ? 'Cancelled.' : `The audit stopped: ${(error as Error).message}`;
  } finally {
    running = undefined;
    el.cancel.hidden = true;
    describeChoice();
  }
}

function downloadCsv(): void {
  const url = URL.createObjectURL(new Blob([rowsToCsv(rows)], { type: 'text/csv' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'results.csv';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
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
  el.csv.addEventListener('click', downloadCsv);
}
