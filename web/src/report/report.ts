// report.html's behaviour (src/audit/report/html.ts writes the markup and inlines this, bundled by
// scripts/build-web.mjs): sorting (header buttons; a second click reverses; absent values last), filtering
// (every word of the text box must occur; the verdict menu), and the detail dialog (row click, or the file's
// button with Enter or Space). Text is set with textContent only: the rows hold names from the user's files.
import { INITIAL_SORT, PAGE_IDS, type ReportPageData } from '../../../src/audit/report/page-data.js';

function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`report.html has no <${type.name}> #${id}`);
  return element;
}

const data = JSON.parse(byId(PAGE_IDS.data, HTMLScriptElement).textContent ?? '') as ReportPageData;
const rows = data.rows;
const table = byId(PAGE_IDS.table, HTMLTableElement);
const tbody = table.tBodies[0];
const rowOf = new Map<number, HTMLTableRowElement>();
for (const tr of Array.from(tbody.rows)) rowOf.set(Number(tr.dataset.index), tr);
const headers = Array.from(table.querySelectorAll<HTMLTableCellElement>('thead th[data-sort]'));
const filterText = byId(PAGE_IDS.filterText, HTMLInputElement);
const filterVerdict = byId(PAGE_IDS.filterVerdict, HTMLSelectElement);
const shown = byId(PAGE_IDS.shown, HTMLElement);
const dialog = byId(PAGE_IDS.dialog, HTMLDialogElement);
const dialogTitle = byId(PAGE_IDS.dialogTitle, HTMLElement);
const dialogImage = byId(PAGE_IDS.dialogImage, HTMLImageElement);
const dialogList = byId(PAGE_IDS.dialogList, HTMLElement);
let sortKey: string = INITIAL_SORT;
let ascending = true;
let opener: HTMLElement | null = null;

function compareValues(x: string | number, y: string | number): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x).localeCompare(String(y), undefined, { numeric: true, sensitivity: 'base' });
}

function sortBy(key: string): void {
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
  for (const i of order) tbody.appendChild(rowOf.get(i)!);
  for (const th of headers) {
    th.setAttribute('aria-sort', th.dataset.sort === key ? (ascending ? 'ascending' : 'descending') : 'none');
  }
}

function applyFilter(): void {
  const words = filterText.value.toLowerCase().split(/\s+/).filter(Boolean);
  const kind = filterVerdict.value;
  let count = 0;
  rows.forEach((row, i) => {
    const visible = (kind === 'all' || row.kinds.includes(kind)) && words.every((w) => row.text.includes(w));
    rowOf.get(i)!.hidden = !visible;
    if (visible) count += 1;
  });
  shown.textContent = `Showing ${count} of ${rows.length} images`;
}

function openDetail(index: number, from: HTMLElement | null): void {
  const row = rows[index];
  opener = from;
  dialogTitle.textContent = row.file;
  if (row.overlay) {
    dialogImage.src = row.overlay;
    dialogImage.alt = `Heat map over ${row.file}`;
    dialogImage.hidden = false;
  } else {
    dialogImage.removeAttribute('src');
    dialogImage.alt = '';
    dialogImage.hidden = true;
  }
  dialogList.replaceChildren();
  for (const [term, description] of row.detail) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = description;
    dialogList.append(dt, dd);
  }
  dialog.showModal();
}

for (const th of headers) {
  th.querySelector('button')?.addEventListener('click', () => sortBy(th.dataset.sort ?? INITIAL_SORT));
}
filterText.addEventListener('input', applyFilter);
filterVerdict.addEventListener('change', applyFilter);
tbody.addEventListener('click', (event) => {
  const tr = event.target instanceof Element ? event.target.closest('tr') : null;
  if (tr && tbody.contains(tr)) {
    openDetail(Number(tr.dataset.index), tr.querySelector<HTMLElement>('button.open'));
  }
});
byId(PAGE_IDS.dialogClose, HTMLButtonElement).addEventListener('click', () => dialog.close());
dialog.addEventListener('click', (event) => {
  if (event.target === dialog) dialog.close();
});
dialog.addEventListener('close', () => {
  opener?.focus();
});
applyFilter();
