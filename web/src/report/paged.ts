// The images table of a large audit's report: its rows are in script files beside the page (fetch is refused
// to a page opened from file://, a <script src> is not), read one after another; the table shows VIEW_ROWS rows
// of the filtered, sorted list at a time, with a pager. Filtering and sorting cover every row read so far, and
// the view follows as the rest arrive.
import {
  INITIAL_SORT,
  PAGE_CALLBACK,
  PAGE_IDS,
  type PagedRow,
  type ReportPageData,
  type ReportPageRow,
  VIEW_ROWS,
} from '../../../src/audit/report/page-data.js';
import { openOnClick } from './dialog.js';
import { byId, type Controls, filterOf, markSorted, sortIndices } from './view.js';

type Pages = NonNullable<ReportPageData['pages']>;

export function pagedTable(
  pages: Pages,
  c: Controls,
  open: (row: ReportPageRow, from: HTMLElement | null) => void,
): void {
  const rows: PagedRow[] = [];
  const unread: string[] = [];
  const previous = byId(PAGE_IDS.pagerPrevious, HTMLButtonElement);
  const next = byId(PAGE_IDS.pagerNext, HTMLButtonElement);
  const status = byId(PAGE_IDS.pagerStatus, HTMLElement);
  let sortKey: string = INITIAL_SORT;
  let ascending = true;
  let start = 0;
  let view: number[] = [];
  let drawn = '';
  let reading = 0;

  const refresh = () => {
    const keep = filterOf(c);
    const kept: number[] = [];
    rows.forEach((row, i) => {
      if (keep(row)) kept.push(i);
    });
    view = sortIndices(rows, kept, sortKey, ascending);
    start = Math.min(start, Math.max(0, Math.ceil(view.length / VIEW_ROWS) - 1) * VIEW_ROWS);
    const shown = view.slice(start, start + VIEW_ROWS);
    // Redrawn only when the rows in view change, so a page arriving does not disturb a table being read.
    const key = shown.join(',');
    if (key !== drawn) {
      drawn = key;
      c.tbody.replaceChildren(...shown.map((i) => tableRow(rows[i], i)));
    }
    const loading = reading < pages.files.length ? ` (reading: ${rows.length} of ${pages.total} so far)` : '';
    const failed =
      unread.length > 0
        ? `; ${unread.length} file${unread.length === 1 ? '' : 's'} of rows could not be read: ${unread.join(', ')}`
        : '';
    c.shown.textContent = `Showing ${view.length} of ${pages.total} images${loading}${failed}`;
    status.textContent =
      view.length === 0 ? 'No rows' : `Rows ${start + 1}–${start + shown.length} of ${view.length}`;
    previous.disabled = start === 0;
    next.disabled = start + VIEW_ROWS >= view.length;
  };

  // Each file calls this with its index and rows; one out of turn, or not a list, is ignored.
  (window as unknown as Record<string, unknown>)[PAGE_CALLBACK] = (index: unknown, part: unknown) => {
    if (index === reading && Array.isArray(part)) rows.push(...(part as PagedRow[]));
  };
  const readNext = () => {
    if (reading >= pages.files.length) return;
    const script = document.createElement('script');
    script.src = pages.files[reading];
    const done = (ok: boolean) => {
      if (!ok) unread.push(pages.files[reading]);
      script.remove();
      reading += 1;
      refresh();
      readNext();
    };
    script.addEventListener('load', () => done(true));
    script.addEventListener('error', () => done(false));
    document.head.append(script);
  };

  for (const th of c.headers) {
    th.querySelector('button')?.addEventListener('click', () => {
      const key = th.dataset.sort ?? INITIAL_SORT;
      ascending = key === sortKey ? !ascending : true;
      sortKey = key;
      start = 0;
      markSorted(c, key, ascending);
      refresh();
    });
  }
  const refilter = () => {
    start = 0;
    refresh();
  };
  c.filterText.addEventListener('input', refilter);
  c.filterVerdict.addEventListener('change', refilter);
  previous.addEventListener('click', () => {
    start = Math.max(0, start - VIEW_ROWS);
    refresh();
  });
  next.addEventListener('click', () => {
    if (start + VIEW_ROWS < view.length) start += VIEW_ROWS;
    refresh();
  });
  openOnClick(c.tbody, rows, open);
  refresh();
  readNext();
}

/** One table row, built as the single-file report's markup is (sections.ts), every text set as text. */
function tableRow(row: PagedRow, index: number): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.index = String(index);
  const cell = (text: string, className?: string) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  };
  const picture = document.createElement('td');
  if (row.thumbnail) {
    const img = document.createElement('img');
    img.className = 'thumb';
    img.alt = '';
    img.loading = 'lazy';
    img.src = row.thumbnail;
    picture.append(img);
  } else if (row.missing) {
    const note = document.createElement('span');
    note.className = 'missing';
    note.textContent = 'picture missing';
    picture.append(note);
  }
  const name = document.createElement('th');
  name.scope = 'row';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'open';
  button.setAttribute('aria-haspopup', 'dialog');
  button.textContent = row.file;
  name.append(button);
  const { cells } = row;
  const prediction = cell(cells.prediction);
  if (cells.low) {
    const note = document.createElement('span');
    note.className = 'note low';
    note.textContent = cells.low;
    prediction.append(document.createElement('br'), note);
  }
  const verdict = document.createElement('td');
  const badge = document.createElement('span');
  badge.className = `badge ${cells.kind}`;
  badge.textContent = cells.verdict;
  verdict.append(badge);
  tr.append(
    picture,
    name,
    prediction,
    cell(cells.score, 'num'),
    cell(cells.label),
    cell(cells.correct),
    cell(cells.share, 'num'),
    cell(cells.peak),
    verdict,
    cell(cells.border, 'num'),
    cell(cells.error, 'error'),
  );
  return tr;
}
