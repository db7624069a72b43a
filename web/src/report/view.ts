// What the images table shows, shared by the single-file table and the paged one: the rows a filter keeps and
// the order a column sorts them in, and the page's elements both drive.
import { PAGE_IDS, type ReportPageRow } from '../../../src/audit/report/page-data.js';

export function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`report.html has no <${type.name}> #${id}`);
  return element;
}

export interface Controls {
  readonly table: HTMLTableElement;
  readonly tbody: HTMLTableSectionElement;
  readonly headers: readonly HTMLTableCellElement[];
  readonly filterText: HTMLInputElement;
  readonly filterVerdict: HTMLSelectElement;
  readonly shown: HTMLElement;
}

export function controls(): Controls {
  const table = byId(PAGE_IDS.table, HTMLTableElement);
  return {
    table,
    tbody: table.tBodies[0],
    headers: Array.from(table.querySelectorAll<HTMLTableCellElement>('thead th[data-sort]')),
    filterText: byId(PAGE_IDS.filterText, HTMLInputElement),
    filterVerdict: byId(PAGE_IDS.filterVerdict, HTMLSelectElement),
    shown: byId(PAGE_IDS.shown, HTMLElement),
  };
}

/** The filter's test: every word of the text box occurs in the row's text, and the verdict menu's kind is its. */
export function filterOf(c: Controls): (row: ReportPageRow) => boolean {
  const words = c.filterText.value.toLowerCase().split(/\s+/).filter(Boolean);
  const kind = c.filterVerdict.value;
  return (row) => (kind === 'all' || row.kinds.includes(kind)) && words.every((w) => row.text.includes(w));
}

function compareValues(x: string | number, y: string | number): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x).localeCompare(String(y), undefined, { numeric: true, sensitivity: 'base' });
}

/** `indices` of `rows` sorted by `key`: absent values last in either direction, ties in the initial order. */
export function sortIndices(
  rows: readonly ReportPageRow[],
  indices: number[],
  key: string,
  ascending: boolean,
): number[] {
  return indices.sort((a, b) => {
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
}

export function markSorted(c: Controls, key: string, ascending: boolean): void {
  for (const th of c.headers) {
    th.setAttribute('aria-sort', th.dataset.sort === key ? (ascending ? 'ascending' : 'descending') : 'none');
  }
}
