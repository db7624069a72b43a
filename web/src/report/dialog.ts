// The detail dialog of report.html: a row's overlay and facts, opened from its table row (click, or the file's
// button with Enter or Space), focus returned to that button on closing. Text is set with textContent only.
import { PAGE_IDS, type ReportPageRow } from '../../../src/audit/report/page-data.js';
import { byId } from './view.js';

/** Wires the dialog and returns the function that opens it on a row. */
export function detailDialog(): (row: ReportPageRow, from: HTMLElement | null) => void {
  const dialog = byId(PAGE_IDS.dialog, HTMLDialogElement);
  const title = byId(PAGE_IDS.dialogTitle, HTMLElement);
  const image = byId(PAGE_IDS.dialogImage, HTMLImageElement);
  const list = byId(PAGE_IDS.dialogList, HTMLElement);
  let opener: HTMLElement | null = null;
  byId(PAGE_IDS.dialogClose, HTMLButtonElement).addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener('close', () => {
    opener?.focus();
  });
  return (row, from) => {
    opener = from;
    title.textContent = row.file;
    if (row.overlay) {
      image.src = row.overlay;
      image.alt = `Heat map over ${row.file}`;
      image.hidden = false;
    } else {
      image.removeAttribute('src');
      image.alt = '';
      image.hidden = true;
    }
    list.replaceChildren();
    for (const [term, description] of row.detail) {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = description;
      list.append(dt, dd);
    }
    dialog.showModal();
  };
}

/** Opens the dialog on the row of a click inside `tbody` (row index from its data-index into `rows`). */
export function openOnClick(
  tbody: HTMLTableSectionElement,
  rows: readonly ReportPageRow[],
  open: (row: ReportPageRow, from: HTMLElement | null) => void,
): void {
  tbody.addEventListener('click', (event) => {
    const tr = event.target instanceof Element ? event.target.closest('tr') : null;
    if (tr && tbody.contains(tr) && tr.dataset.index !== undefined) {
      const row = rows[Number(tr.dataset.index)];
      if (row) open(row, tr.querySelector<HTMLElement>('button.open'));
    }
  });
}
