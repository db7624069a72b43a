// The audit's journal: one JSON line per finished image, appended and synced as each finishes, so killing the
// process loses at most the image in flight and a rerun of the same command picks up where it stopped.
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SightlineError } from '../core/errors.js';
import type { AuditConfig, AuditRow } from './types.js';

export const JOURNAL_FILE = 'journal.jsonl';
const FORMAT = 'sightline-audit-journal';
const VERSION = 1;

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
  ) {}

  /**
   * Opens (or starts) the journal in `dir`. A journal written with other settings is refused rather than mixed:
   * a rerun must ask for the same thing to resume it.
   */
  static async open(dir: string, config: AuditConfig): Promise<AuditJournal> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, JOURNAL_FILE);
    const done = new Map<string, AuditRow>();
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, cause);
    }
    let cleanEnd = 0;
    if (text) {
      const lines = text.split('\n');
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
      cleanEnd = lines[0].length + 1;
      for (const line of lines.slice(1)) {
        // A kill can cut the last line short; everything before it is intact, and that image is simply redone.
        const row = parseLine<AuditRow>(line);
        if (!row?.file) break;
        done.set(row.file, row);
        cleanEnd += line.length + 1;
      }
    }
    const handle = await open(path, 'a+').catch((cause) => {
      throw ioError(path, cause);
    });
    if (!text)
      await handle.write(
        `${JSON.stringify({ format: FORMAT, version: VERSION, config } satisfies Header)}\n`,
      );
    else if (Buffer.byteLength(text.slice(0, cleanEnd)) < Buffer.byteLength(text)) {
      // Cut off the partial line so the next row starts on a line of its own.
      await handle.truncate(Buffer.byteLength(text.slice(0, cleanEnd)));
    }
    await handle.sync();
    return new AuditJournal(handle, done, path);
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

function describe(config: AuditConfig): string {
  const options = Object.entries(config.options)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `model ${config.model}, method ${config.method}${options ? ` (${options})` : ''}${config.labels ? `, labels ${config.labels}` : ''}${config.regions ? `, regions ${config.regions}` : ''}`;
}

function ioError(path: string, cause: unknown): SightlineError {
  return new SightlineError(
    'IO',
    `Cannot use the audit journal '${path}': ${(cause as Error).message}`,
    { path },
    { cause },
  );
}
