// The audit's journal: one JSON line per finished image, appended and synced as each finishes, so killing the
// process loses at most the image in flight and a rerun of the same command picks up where it stopped.
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileErrorReason, SightlineError } from '../core/errors.js';
import { capText, formatCount, listSome } from '../core/text.js';
import { readAtMost } from '../io/read-file.js';
import { writeAtomically } from './output.js';
import { checkRow } from './row-check.js';
import type { AuditConfig, AuditRow } from './types.js';

export const JOURNAL_FILE = 'journal.jsonl';
const FORMAT = 'sightline-audit-journal';
const VERSION = 1;
/**
 * The longest journal line read as a row (characters). A row is about 25 KB (its 32 × 32 summary map); a
 * longer line was not written by an audit and is skipped before it is parsed.
 */
export const MAX_LINE = 1_000_000;
/** The largest journal read (bytes), under the longest string JavaScript holds: about 20,000 images' rows. */
export const MAX_JOURNAL_BYTES = 400 * 1024 * 1024;

interface Header {
  readonly format: typeof FORMAT;
  readonly version: number;
  readonly config: AuditConfig;
}

export class AuditJournal {
  private constructor(
    private readonly handle: Awaited<ReturnType<typeof open>>,
    /** Rows already recorded, by file (the last one wins should a file appear twice). */
    readonly done: Map<string, AuditRow>,
    readonly path: string,
    /** What was wrong with the lines that were skipped, for the user (their images are simply redone). */
    readonly warnings: readonly string[] = [],
  ) {}

  /**
   * Opens (or starts) the journal in `dir`. A journal written with other settings is refused rather than mixed:
   * a rerun must ask for the same thing to resume it.
   */
  static async open(dir: string, config: AuditConfig): Promise<AuditJournal> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, JOURNAL_FILE);
    const done = new Map<string, AuditRow>();
    const warnings: string[] = [];
    const text = await readJournal(path);
    let cut: string | undefined;
    if (text) {
      const lines = text.split('\n');
      // What follows the last line feed is a line a kill cut short (or nothing): that image is simply redone.
      let tail = lines.pop() ?? '';
      // A header without its line feed is still the header; the rewrite below adds the line feed.
      const bareHeader = lines.length === 0;
      if (bareHeader) {
        lines.push(tail);
        tail = '';
      }
      const header = parseLine<Header>(lines[0]);
      if (header?.format !== FORMAT || header.version !== VERSION) {
        throw new SightlineError(
          'INVALID_ARGUMENT',
          `'${path}' is not a Sightline audit journal (version ${VERSION}); choose another --out folder.`,
        );
      }
      if (JSON.stringify(header.config) !== JSON.stringify(config)) {
        throw new SightlineError(
          'INVALID_ARGUMENT',
          `The folder '${dir}' holds an audit with other settings (${describe(header.config)}); this run asks for ` +
            `${describe(config)}. Pass another --out, or --restart to discard the earlier results.`,
          { journal: path },
        );
      }
      const bad: string[] = [];
      const kept = [lines[0]];
      for (const [i, line] of lines.entries()) {
        if (i === 0 || line === '') continue;
        const row = rowOrProblem(line);
        if (typeof row === 'string') bad.push(`line ${formatCount(i + 1)}: ${row}`);
        else {
          done.set(row.file, row);
          kept.push(line);
        }
      }
      if (bad.length > 0) {
        const one = bad.length === 1;
        warnings.push(
          `${formatCount(bad.length)} line${one ? '' : 's'} of the journal '${path}' ${one ? 'is not a row' : 'are not rows'} ` +
            `this audit wrote (${listSome(bad, 3, '; ')}); skipped, and ${one ? 'its image' : 'their images'} redone.`,
        );
        // Rewritten without them, so the warning is given once and new rows follow a clean line.
        cut = `${kept.join('\n')}\n`;
      } else if (bareHeader) cut = `${lines[0]}\n`;
      else if (tail !== '') cut = text.slice(0, text.length - tail.length);
    }
    if (cut !== undefined)
      await writeAtomically(path, cut).catch((cause) => Promise.reject(ioError(path, cause)));
    // Not through a link: a journal.jsonl planted as a link must not make the audit append to another file.
    const handle = await open(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    ).catch((cause) => {
      throw ioError(path, cause);
    });
    if (!text)
      await handle.write(
        `${JSON.stringify({ format: FORMAT, version: VERSION, config } satisfies Header)}\n`,
      );
    await handle.sync();
    return new AuditJournal(handle, done, path, warnings);
  }

  async append(row: AuditRow): Promise<void> {
    await this.handle.write(`${JSON.stringify(row)}\n`);
    await this.handle.datasync();
    this.done.set(row.file, row);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function parseLine<T>(line: string | undefined): T | undefined {
  if (!line) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

/**
 * The journal's text, or undefined when there is none. Only a regular file is read (a FIFO planted there would
 * block the read for ever, /dev/zero would never end), and at most MAX_JOURNAL_BYTES of it.
 */
async function readJournal(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(path, cause);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw ioError(path, new Error('it is not a regular file'));
    const tooLarge = (size: string) =>
      ioError(
        path,
        new Error(
          `it holds ${size} bytes, over ${formatCount(MAX_JOURNAL_BYTES)}; audit the folder in parts`,
        ),
      );
    if (stat.size > MAX_JOURNAL_BYTES) throw tooLarge(formatCount(stat.size));
    // Bounded even if the file grows after its check.
    const bytes = await readAtMost(handle, stat.size, MAX_JOURNAL_BYTES, () =>
      tooLarge(`more than ${formatCount(MAX_JOURNAL_BYTES)}`),
    );
    return new TextDecoder().decode(bytes);
  } catch (cause) {
    throw cause instanceof SightlineError ? cause : ioError(path, cause);
  } finally {
    await handle.close();
  }
}

/** The line's row, checked (row-check.ts), or what is wrong with it. */
function rowOrProblem(line: string): AuditRow | string {
  if (line.length > MAX_LINE) return `${formatCount(line.length)} characters, over ${formatCount(MAX_LINE)}`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  const checked = checkRow(value);
  return 'row' in checked ? checked.row : checked.problem;
}

/** Settings in words; the journal's own come from a file, so anything may stand where they should. */
function describe(config: AuditConfig): string {
  const c: Record<string, unknown> = typeof config === 'object' && config !== null ? { ...config } : {};
  const entries = typeof c.options === 'object' && c.options !== null ? Object.entries(c.options) : [];
  const options = listSome(
    entries.map(([k, v]) => `${k}=${String(v)}`),
    10,
  );
  const text = (key: string) => capText(String(c[key]), 300);
  return `model ${text('model')}, method ${text('method')}${options ? ` (${options})` : ''}${c.labels ? `, labels ${text('labels')}` : ''}${c.regions ? `, regions ${text('regions')}` : ''}`;
}

function ioError(path: string, cause: unknown): SightlineError {
  return new SightlineError(
    'IO',
    `Cannot use the audit journal '${path}': ${(cause as NodeJS.ErrnoException)?.code === 'ELOOP' ? 'it is a link; the journal must be a file of the output folder' : fileErrorReason(cause)}`,
    { path },
    { cause },
  );
}
