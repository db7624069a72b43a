// An audit's output folder is untrusted on a rerun: its journal may have been edited and its pictures
// deleted, replaced by links or by FIFOs. The report must still be written, and read nothing outside --out.
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryGrid } from '../../src/audit/aggregate.js';
import { AuditJournal, MAX_LINE } from '../../src/audit/journal.js';
import { readLabelCsv } from '../../src/audit/labels.js';
import { outputFolder, writeAtomically } from '../../src/audit/output.js';
import { readRowPictures } from '../../src/audit/pictures.js';
import { readRegions } from '../../src/audit/regions/index.js';
import { checkRow } from '../../src/audit/row-check.js';
import type { AuditConfig, AuditRow } from '../../src/audit/types.js';
import { writeReports } from '../../src/audit/write.js';
import { SightlineError } from '../../src/core/errors.js';
import { formatCount } from '../../src/core/text.js';

const CONFIG: AuditConfig = { model: 'm.onnx', method: 'gradient', options: {} };
const SUMMARY = summaryGrid({ width: 2, height: 2, data: Float32Array.from([1, 0, 0, 0]) }, false);

let dir: string;
let out: string;
/** A file outside --out whose bytes must never reach a report. */
let secret: Buffer;

function row(file: string, extra: Partial<AuditRow> = {}): AuditRow {
  return {
    file,
    status: 'ok',
    width: 8,
    height: 8,
    predictions: [{ index: 0, label: 'cat', score: 0.9 }],
    target: { index: 0, label: 'cat' },
    borderShare: 0.5,
    summary: SUMMARY,
    overlay: `overlays/${file}`,
    thumbnail: `thumbnails/${file}`,
    seconds: 0.1,
    ...extra,
  };
}

async function png(value: number): Promise<Buffer> {
  return sharp({ create: { width: 4, height: 4, channels: 3, background: { r: value, g: 0, b: 0 } } })
    .png()
    .toBuffer();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-untrusted-'));
  out = join(dir, 'out');
  await mkdir(join(out, 'overlays'), { recursive: true });
  await mkdir(join(out, 'thumbnails'), { recursive: true });
  secret = Buffer.from('TOP SECRET: the bytes of a file outside the output folder');
  await writeFile(join(dir, 'secret.png'), secret);
  for (const name of ['good.png', 'missing.png', 'link.png', 'fifo.png', 'abs.png', 'up.png']) {
    await writeFile(join(out, 'thumbnails', name), await png(10));
  }
  await writeFile(join(out, 'overlays', 'good.png'), await png(200));
  await symlink(join(dir, 'secret.png'), join(out, 'overlays', 'link.png'));
  execFileSync('mkfifo', [join(out, 'overlays', 'fifo.png')]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readRowPictures', () => {
  it('reads pictures inside --out and refuses every other path with the reason', async () => {
    const read = async (extra: Partial<AuditRow>) => readRowPictures(out, row('x.png', extra));
    const good = await read({ overlay: 'overlays/good.png', thumbnail: 'thumbnails/good.png' });
    expect('pictures' in good && good.pictures.overlay.length).toBe((await png(200)).length);
    expect(await read({ overlay: 'overlays/missing.png', thumbnail: 'thumbnails/good.png' })).toEqual({
      problem: '"overlays/missing.png": no such file or folder',
    });
    expect(await read({ overlay: '/etc/passwd', thumbnail: 'thumbnails/good.png' })).toEqual({
      problem: '"/etc/passwd" is outside the output folder',
    });
    expect(await read({ overlay: 'overlays/../../secret.png', thumbnail: 'thumbnails/good.png' })).toEqual({
      problem: '"overlays/../../secret.png" is outside the output folder',
    });
    expect(await read({ overlay: 'overlays/link.png', thumbnail: 'thumbnails/good.png' })).toEqual({
      problem: '"overlays/link.png" leads outside the output folder',
    });
    expect(await read({ overlay: 'overlays/fifo.png', thumbnail: 'thumbnails/good.png' })).toEqual({
      problem: '"overlays/fifo.png" is not a regular file',
    });
    expect(await read({ overlay: 'overlays', thumbnail: 'thumbnails/good.png' })).toEqual({
      problem: '"overlays" is not a regular file',
    });
    expect(await read({ overlay: undefined, thumbnail: undefined })).toEqual({ problem: undefined });
  });
});

describe('writeReports with pictures that cannot be used', () => {
  it('writes the report, shows those rows without pictures and says why, and embeds nothing from outside', async () => {
    const rows = [
      row('good.png'),
      row('missing.png'),
      row('link.png'),
      row('fifo.png'),
      row('abs.png', { overlay: '/etc/passwd' }),
      row('up.png', { overlay: '../secret.png' }),
    ];
    const warnings: string[] = [];
    const summary = await writeReports(out, rows, CONFIG, (w) => warnings.push(w));
    expect(summary.images).toBe(6);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^5 images of the report are shown without their pictures: missing\.png \(/);
    expect(warnings[0]).toContain('… and 2 more.');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html.match(/<span class="missing">picture missing<\/span>/g)).toHaveLength(5);
    // The good row's pictures are inlined; no byte of the secret or of /etc/passwd is.
    expect(html).toContain((await png(200)).toString('base64'));
    expect(html).not.toContain(secret.toString('base64'));
    expect(html).not.toContain((await readFile('/etc/passwd')).toString('base64').slice(0, 40));
    expect(html).toContain('missing: \\"/etc/passwd\\" is outside the output folder');
    const csv = await readFile(join(out, 'results.csv'), 'utf8');
    expect(csv.trim().split('\r\n')).toHaveLength(7);
  }, 30_000);

  it("names a file holding a line feed on the warning's one line", async () => {
    const warnings: string[] = [];
    await writeReports(out, [row('a\nsightline: forged.png')], CONFIG, (w) => warnings.push(w));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^1 image of the report is shown without its pictures: a\\nsightline: forged\.png \(/,
    );
    expect(warnings[0]).not.toContain('\n');
  });
});

describe('checkRow', () => {
  it('keeps a row as the audit wrote it', () => {
    const r = row('a.png', {
      region: {
        share: 0.5,
        areaShare: 0.25,
        concentration: 2,
        peakInside: true,
        tolerance: 15,
        verdict: 'object',
      },
    });
    expect(checkRow(JSON.parse(JSON.stringify(r)))).toEqual({ row: r });
    const error = { file: 'b.png', status: 'error', error: { code: 'IO', message: 'gone' }, seconds: 0 };
    expect(checkRow(error)).toEqual({ row: error });
  });

  it('names the first wrong field of a row that is not one, and drops unknown fields', () => {
    const problem = (value: unknown) => {
      const checked = checkRow(value);
      return 'problem' in checked ? checked.problem : 'accepted';
    };
    expect(problem(null)).toBe("'the row' is not an object");
    expect(problem([1])).toBe("'the row' is not an object");
    expect(problem({ file: 5, status: 'ok' })).toBe("'file' is not a text of at most 4096 characters");
    expect(problem({ file: '', status: 'ok' })).toBe("'file' is empty");
    expect(problem({ file: 'x'.repeat(5000), status: 'ok' })).toBe(
      "'file' is not a text of at most 4096 characters",
    );
    expect(problem({ file: 'a', status: 'done' })).toBe("'status' is not 'ok' or 'error'");
    expect(problem({ file: 'a', status: 'error' })).toBe("'error' is not an object");
    expect(problem(row('a', { summary: [1, 2, 3] }))).toBe("'summary' is not 1024 finite numbers");
    expect(problem(row('a', { borderShare: 2 }))).toBe("'borderShare' is not a finite number in [0, 1]");
    expect(problem(row('a', { width: undefined }))).toBe("'borderShare' comes without the image size");
    expect(problem(row('a', { predictions: 'cat' as never }))).toBe(
      "'predictions' is not a list of up to 1000",
    );
    expect(problem(row('a', { predictions: [{ index: -1, label: 'x', score: 1 }] }))).toBe(
      "'predictions[0].index' is not a whole number from 0",
    );
    expect(problem(row('a', { overlay: 42 as never }))).toBe(
      "'overlay' is not a text of at most 4096 characters",
    );
    expect(problem(row('a', { region: { verdict: 'great' } as never }))).toBe(
      "'region.verdict' is not a verdict",
    );
    const extra = checkRow({ ...row('a'), script: '<script>' });
    expect('row' in extra && 'script' in extra.row).toBe(false);
  });
});

describe('AuditJournal.open on an edited journal', () => {
  it('skips lines that are not rows with one warning, rewrites the journal without them, and keeps the rest', async () => {
    const folder = join(dir, 'journal');
    const first = await AuditJournal.open(folder, CONFIG);
    await first.append(row('a.png'));
    await first.append(row('b.png'));
    await first.close();
    const path = join(folder, 'journal.jsonl');
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const edited = [
      lines[0],
      lines[1],
      'not JSON at all',
      JSON.stringify({ file: 7, status: 'ok' }),
      JSON.stringify({ file: 'huge.png', status: 'ok', pad: 'x'.repeat(MAX_LINE) }),
      JSON.stringify(row('c.png', { summary: [0.5, 0.5] })),
      lines[2],
      '{"file":"cut.png","sta', // cut short by a kill
    ];
    await writeFile(path, edited.join('\n'));

    const second = await AuditJournal.open(folder, CONFIG);
    expect([...second.done.keys()]).toEqual(['a.png', 'b.png']);
    expect(second.done.get('a.png')).toEqual(row('a.png'));
    expect(second.warnings).toHaveLength(1);
    expect(second.warnings[0]).toBe(
      `4 lines of the journal '${path}' are not rows this audit wrote (line 3: not JSON; line 4: 'file' is ` +
        `not a text of at most 4096 characters; line 5: ${formatCount(edited[4].length)} characters, over ` +
        '1,000,000 … and 1 more); ' +
        'skipped, and their images redone.',
    );
    await second.append(row('c.png'));
    await second.close();
    // Rewritten: the bad lines and the cut line are gone, the new row follows on a line of its own.
    const rewritten = (await readFile(path, 'utf8')).split('\n');
    expect(rewritten).toEqual([lines[0], lines[1], lines[2], JSON.stringify(row('c.png')), '']);
    const third = await AuditJournal.open(folder, CONFIG);
    expect(third.warnings).toEqual([]);
    expect([...third.done.keys()]).toEqual(['a.png', 'b.png', 'c.png']);
    await third.close();
  });
});

describe('AuditJournal.open on an edited header', () => {
  it('refuses a header that is not a journal, or settings of any shape, with a bounded message', async () => {
    const folder = join(dir, 'header');
    await mkdir(folder, { recursive: true });
    const path = join(folder, 'journal.jsonl');
    const refusal = async (header: string) => {
      await writeFile(path, `${header}\n`);
      const error = await AuditJournal.open(folder, CONFIG).then(
        () => undefined,
        (e: unknown) => e as SightlineError,
      );
      expect(error).toBeInstanceOf(SightlineError);
      expect(error?.code).toBe('INVALID_ARGUMENT');
      return error!.message;
    };
    expect(await refusal('nonsense')).toBe(
      `'${path}' is not a Sightline audit journal (version 1); choose another --out folder.`,
    );
    const format = { format: 'sightline-audit-journal', version: 1 };
    const odd = await refusal(JSON.stringify({ ...format, config: { options: null, model: 5 } }));
    expect(odd).toContain(
      'holds an audit with other settings (model 5, method undefined); this run asks for',
    );
    const huge = await refusal(
      JSON.stringify({
        ...format,
        config: {
          model: 'x'.repeat(1_000_000),
          method: 'gradient',
          options: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`o${i}`, i])),
        },
      }),
    );
    expect(huge.length).toBeLessThan(1000);
    expect(huge).toContain('o9=9 … and 99,990 more');
    expect(await refusal(JSON.stringify({ ...format, config: null }))).toContain(
      '(model undefined, method undefined)',
    );
  });
});

describe('AuditJournal.open on a journal that is not a plain file of rows', () => {
  it('refuses a FIFO in its place at once instead of waiting on it', async () => {
    const folder = join(dir, 'fifo-journal');
    await mkdir(folder, { recursive: true });
    execFileSync('mkfifo', [join(folder, 'journal.jsonl')]);
    const error = await AuditJournal.open(folder, CONFIG).then(
      () => undefined,
      (e: unknown) => e as SightlineError,
    );
    expect(error?.code).toBe('IO');
    expect(error?.message).toBe(
      `Cannot use the audit journal '${join(folder, 'journal.jsonl')}': it is not a regular file`,
    );
  }, 10_000);

  it('takes a header without its line feed and puts the next row on a line of its own', async () => {
    const folder = join(dir, 'bare-header');
    const first = await AuditJournal.open(folder, CONFIG);
    await first.close();
    const path = join(folder, 'journal.jsonl');
    const header = (await readFile(path, 'utf8')).trimEnd();
    await writeFile(path, header);
    const second = await AuditJournal.open(folder, CONFIG);
    expect(second.warnings).toEqual([]);
    await second.append(row('a.png'));
    await second.close();
    expect(await readFile(path, 'utf8')).toBe(`${header}\n${JSON.stringify(row('a.png'))}\n`);
  });
});

describe('writing into an output folder that holds planted links', () => {
  it('refuses a journal that is a link, and leaves its target alone', async () => {
    const folder = join(dir, 'linked-journal');
    await mkdir(folder, { recursive: true });
    const target = join(dir, 'victim.txt');
    await writeFile(target, 'precious\n');
    await symlink(target, join(folder, 'journal.jsonl'));
    await expect(AuditJournal.open(folder, CONFIG)).rejects.toThrow(
      `Cannot use the audit journal '${join(folder, 'journal.jsonl')}': it is a link; the journal must be a file of the output folder`,
    );
    expect(await readFile(target, 'utf8')).toBe('precious\n');
    // A dangling link's target would otherwise have been created and appended to.
    const other = join(dir, 'dangling-journal');
    await mkdir(other, { recursive: true });
    await symlink(join(dir, 'nowhere.txt'), join(other, 'journal.jsonl'));
    await expect(AuditJournal.open(other, CONFIG)).rejects.toThrow('it is a link');
    await expect(lstat(join(dir, 'nowhere.txt'))).rejects.toThrow('ENOENT');
  });

  it('replaces a file planted as a link instead of writing through it', async () => {
    const folder = join(dir, 'linked-files');
    await mkdir(folder, { recursive: true });
    const target = join(dir, 'victim2.txt');
    await writeFile(target, 'precious\n');
    await symlink(target, join(folder, 'report.html'));
    await symlink(target, join(folder, 'report.html.partial'));
    await writeAtomically(join(folder, 'report.html'), 'the report\n');
    expect(await readFile(join(folder, 'report.html'), 'utf8')).toBe('the report\n');
    expect((await lstat(join(folder, 'report.html'))).isSymbolicLink()).toBe(false);
    expect(await readFile(target, 'utf8')).toBe('precious\n');
  });

  it('refuses an overlays folder that leads outside the output folder', async () => {
    const folder = join(dir, 'linked-folder');
    await mkdir(folder, { recursive: true });
    await mkdir(join(dir, 'elsewhere'), { recursive: true });
    await symlink(join(dir, 'elsewhere'), join(folder, 'overlays'));
    await expect(outputFolder(folder, 'overlays')).rejects.toThrow(
      `The output folder's 'overlays' leads to '${join(dir, 'elsewhere')}', outside '${folder}'; remove it or pass --restart.`,
    );
    expect(await outputFolder(folder, 'thumbnails')).toBe(join(folder, 'thumbnails'));
  });
});

describe('regions and labels files with 100,000 columns', () => {
  it('name at most ten of them in the error', async () => {
    const path = join(dir, 'wide.csv');
    const columns = Array.from({ length: 100_000 }, (_, i) => `c${i}`);
    await writeFile(path, `${columns.join(',')}\n${columns.map(() => '1').join(',')}\n`);
    for (const read of [() => readRegions(path), () => readLabelCsv(path)]) {
      const error = await read().then(
        () => undefined,
        (e: unknown) => e as SightlineError,
      );
      expect(error).toBeInstanceOf(SightlineError);
      expect(error!.message.length).toBeLessThan(600);
      expect(error!.message).toContain("is 'c0,c1,c2,c3,c4,c5,c6,c7,c8,c9 … and 99,990 more'");
    }
  });
});
