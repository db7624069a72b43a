// report.html's behaviour (src/audit/report/html.ts writes the markup and inlines this, bundled by
// scripts/build-web.mjs): sorting (header buttons; a second click reverses; absent values last), filtering
// (every word of the text box must occur; the verdict menu, which also offers the findings, picked by a
// finding's button), and the detail dialog. A single-file report has every table row in its markup; a paged
// one's rows come from files beside it (paged.ts).
import { INITIAL_SORT, PAGE_IDS, type ReportPageData } from '../../../src/audit/report/page-data.js';
import { detailDialog, openOnClick } from './dialog.js';
import { pagedTable } from './paged.js';
import { byId, controls, filterOf, markSorted, sortIndices } from './view.js';

const data = JSON.parse(byId(PAGE_IDS.data, HTMLScriptElement).textContent ?? '') as ReportPageData;
const c = controls();
const open = detailDialog();

if (data.pages) pagedTable(data.pages, c, open);
else inlineTable();
findingButtons();

/**
 * A finding's button filters the table to its images: it picks the finding in the verdict menu (both tables
 * refilter on its change), clears the text filter, and scrolls to the table.
 */
function findingButtons(): void {
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('button[data-finding]'))) {
    button.addEventListener('click', () => {
      const kind = button.dataset.finding ?? 'all';
      if (!Array.from(c.filterVerdict.options).some((o) => o.value === kind)) return;
      c.filterText.value = '';
      c.filterVerdict.value = kind;
      c.filterVerdict.dispatchEvent(new Event('change'));
      c.table.scrollIntoView({ block: 'start' });
    });
  }
}

/** The table whose rows are all in the markup: sorting moves them, filtering hides them. */
function inlineTable(): void {
  const rows = data.rows;
  const rowOf = new Map<number, HTMLTableRowElement>();
  for (const tr of Array.from(c.tbody.rows)) rowOf.set(Number(tr.dataset.index), tr);
  let sortKey: string = INITIAL_SORT;
  let ascending = true;

  const sortBy = (key: string) => {
    ascending = key === sortKey ? !ascending : true;
    sortKey = key;
    const order = sortIndices(
      rows,
      rows.map((_, i) => i),
      key,
      ascending,
    );
    for (const i of order) c.tbody.appendChild(rowOf.get(i)!);
    markSorted(c, key, ascending);
  };
  const applyFilter = () => {
    const keep = filterOf(c);
    let count = 0;
    rows.forEach((row, i) => {
      const visible = keep(row);
      rowOf.get(i)!.hidden = !visible;
      if (visible) count += 1;
    });
    c.shown.textContent = `Showing ${count} of ${rows.length} images`;
  };
  for (const th of c.headers) {
    th.querySelector('button')?.addEventListener('click', () => sortBy(th.dataset.sort ?? INITIAL_SORT));
  }
  c.filterText.addEventListener('input', applyFilter);
  c.filterVerdict.addEventListener('change', applyFilter);
  openOnClick(c.tbody, rows, open);
  applyFilter();
}
