// Boxes from a CSV file (file,x,y,width,height or file,xmin,ymin,xmax,ymax), and the CSV table parser the
// labels file shares. Portable: the text comes from files.ts (Node) or the web app.
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, type ErrorCode, messageOf, SightlineError } from '../../core/errors.js';
import type { RegionShape } from '../../core/regions/shapes.js';
import { listSome } from '../../core/text.js';
import type { ImageRegions } from '../types.js';
import { regionsError } from './common.js';
import { normalizeFileName } from './match.js';

/**
 * The rows of a CSV file after its header, each with its line number, and the header's column names
 * (trimmed, lower case). A byte-order mark, blank lines and spaces around fields are ignored. Malformed CSV
 * (an unclosed quote, a row with more or fewer fields than the header) is a SightlineError `code`.
 */
export function parseCsvTable(
  path: string,
  text: string,
  what: string,
  code: ErrorCode,
): { header: string[]; rows: { fields: string[]; line: number }[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, { bom: true, trim: true, skip_empty_lines: true, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (cause) {
    throw new SightlineError(
      code,
      `The ${what} '${path}' is not valid CSV: ${messageOf(cause)}.`,
      { path },
      { cause },
    );
  }
  if (records.length === 0) {
    throw new SightlineError(code, `The ${what} '${path}' is empty; expected a header row and then data.`, {
      path,
    });
  }
  return {
    header: records[0].record.map((name) => name.toLowerCase()),
    rows: records.slice(1).map(({ record, info }) => ({ fields: record, line: info.lines })),
  };
}

export function readBoxCsv(path: string, text: string): Map<string, ImageRegions> {
  const { header, rows } = parseCsvTable(path, text, 'regions file', 'REGIONS');
  const column = (name: string) => header.indexOf(name);
  const has = (names: string[]) => names.every((n) => column(n) >= 0);
  const corners = has(['xmin', 'ymin', 'xmax', 'ymax']);
  const sizes = has(['x', 'y', 'width', 'height']);
  if (column('file') < 0 || corners === sizes) {
    const why =
      column('file') < 0
        ? "no 'file' column"
        : corners
          ? 'both x, y, width, height and xmin, ymin, xmax, ymax'
          : 'no complete set of box columns';
    throw regionsError(
      `The header of '${path}' is '${listSome(header, 10, ',')}', with ${why}; expected the columns ` +
        'file,x,y,width,height or file,xmin,ymin,xmax,ymax (in any order; other columns are ignored).',
      { path, header },
    );
  }
  const names = corners ? ['xmin', 'ymin', 'xmax', 'ymax'] : ['x', 'y', 'width', 'height'];
  const index = new Map<string, RegionShape[]>();
  for (const { fields, line } of rows) {
    const file = normalizeFileName(fields[column('file')]);
    const where = `Line ${line} of '${path}'`;
    if (file === '')
      throw regionsError(`${where} has no file name; expected the image's file name.`, { path });
    const [a, b, c, d] = names.map((name) => {
      const text = fields[column(name)];
      const value = text === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(value)) {
        throw regionsError(`${where} has ${name} ${describe(text)} for '${file}'; expected a number.`, {
          path,
        });
      }
      return value;
    });
    let box: RegionShape;
    if (corners) {
      if (!(c > a && d > b)) {
        throw regionsError(
          `${where} has the corners [${a}, ${b}, ${c}, ${d}] for '${file}'; expected [xmin, ymin, xmax, ymax] ` +
            'with xmin < xmax and ymin < ymax.',
          { path },
        );
      }
      box = { type: 'box', x: a, y: b, width: c - a, height: d - b };
    } else {
      if (!(c > 0 && d > 0)) {
        throw regionsError(
          `${where} has the box [${a}, ${b}, ${c}, ${d}] for '${file}'; expected [x, y, width, height] with ` +
            'width, height > 0.',
          { path },
        );
      }
      box = { type: 'box', x: a, y: b, width: c, height: d };
    }
    const list = index.get(file);
    if (list) list.push(box);
    else index.set(file, [box]);
  }
  return new Map([...index].map(([file, shapes]) => [file, { shapes, source: path }]));
}
