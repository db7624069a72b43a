// `sightline audit` on an output folder someone has tampered with (deleted overlays, an edited journal), on a
// model that finds no evidence at all, and on file names that hold terminal escape sequences.
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { formatCount } from '../../src/core/text.js';
import {
  attr,
  buildModel,
  encodeModel,
  floatTensor,
  int64Tensor,
  valueInfo,
} from '../../src/engines/onnx/proto.js';
import { patchModelProto } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';

const SIZE = 32;
let dir: string;
let watermark: string;
let flat: string;
let classNames: string;

/** Scores [2, 1] + 0 · mean(x): the score never moves, so every gradient is zero. */
function flatModelProto() {
  return buildModel({
    inputs: [valueInfo('x', ['N', 3, SIZE, SIZE])],
    outputs: [valueInfo('scores', ['N', 2])],
    initializers: [
      floatTensor('zero', [1], Float32Array.from([0])),
      floatTensor('bias', [1, 2], Float32Array.from([2, 1])),
      int64Tensor('one', [1], [1]),
    ],
    nodes: [
      { opType: 'Mul', input: ['x', 'zero'], output: ['z'] },
      {
        opType: 'ReduceMean',
        input: ['z'],
        output: ['m'],
        attribute: [attr('axes', [1, 2, 3]), attr('keepdims', 0)],
      },
      { opType: 'Unsqueeze', input: ['m', 'one'], output: ['m1'] },
      { opType: 'Add', input: ['m1', 'bias'], output: ['scores'] },
    ],
  });
}

async function photo(path: string, i: number): Promise<void> {
  const data = Buffer.alloc(SIZE * SIZE * 3, 90 + 10 * i);
  for (let p = 0; p < 8 * SIZE * 3; p++) data[p] = 20 + 10 * i;
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(path);
}

async function dataset(name: string, files: string[]): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  for (const [i, file] of files.entries()) await photo(join(folder, file), i);
  return folder;
}

function readRows(text: string): AuditRow[] {
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
}

function args(folder: string, out: string, model = watermark): string[] {
  return [
    'audit',
    folder,
    '--model',
    model,
    '--mean',
    '0',
    '--std',
    '1',
    '--class-names',
    classNames,
    '--method',
    'gradient',
    '--out',
    out,
    '--concurrency',
    '1',
  ];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-audit-robust-'));
  watermark = join(dir, 'watermark.onnx');
  await writeFile(
    watermark,
    encodeModel(patchModelProto({ x0: 0, y0: 0, x1: 8, y1: 8 }, { dims: ['N', 3, SIZE, SIZE] })),
  );
  flat = join(dir, 'flat.onnx');
  await writeFile(flat, encodeModel(flatModelProto()));
  classNames = join(dir, 'classes.txt');
  await writeFile(classNames, 'watermarked\nclean\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resuming an audit whose output folder was tampered with', () => {
  it('redoes an image whose overlay was deleted, and writes the report (exit 0)', async () => {
    const folder = await dataset('deleted', ['a.png', 'b.png', 'c.png']);
    const out = join(dir, 'deleted-out');
    const first = await runCli(args(folder, out));
    expect(first.code, first.stderr).toBe(0);
    const rows = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    const b = rows.find((r) => r.file === 'b.png')!;
    await unlink(join(out, b.overlay!));

    const second = await runCli(args(folder, out));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      `sightline: warning: the pictures of 1 image done earlier cannot be used: b.png ("${b.overlay}": no such file or folder); it is redone.`,
    );
    expect(second.stderr).toContain('(resuming: 2 already done, 1 to go)');
    expect([...second.stderr.matchAll(/^\[\d+\/3\] (\S+):/gm)].map((m) => m[1])).toEqual(['b.png']);
    const after = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    expect(after.map((r) => [r.file, r.status])).toEqual([
      ['a.png', 'ok'],
      ['b.png', 'ok'],
      ['c.png', 'ok'],
    ]);
    await readFile(join(out, b.overlay!)); // drawn again
    const html = await readFile(join(out, 'report.html'), 'utf8');
    // The cell's markup (the page's script also holds the words, for a paged report's rows).
    expect(html).not.toContain('<span class="missing">picture missing</span>');
    expect(html.match(/<img class="thumb"/g)).toHaveLength(3);
  }, 120_000);

  it('ignores journal paths outside --out and lines that are not rows, redoes those images, embeds nothing from outside', async () => {
    const folder = await dataset('edited', ['a.png', 'b.png', 'c.png', 'd.png']);
    const out = join(dir, 'edited-out');
    const first = await runCli(args(folder, out));
    expect(first.code, first.stderr).toBe(0);
    const secret = Buffer.from('TOP SECRET bytes outside the output folder');
    await writeFile(join(dir, 'secret.png'), secret);
    await symlink(join(dir, 'secret.png'), join(out, 'overlays', 'link.png'));

    const journal = join(out, 'journal.jsonl');
    const [header, ...lines] = (await readFile(journal, 'utf8')).trimEnd().split('\n');
    const rows = lines.map((line) => JSON.parse(line) as AuditRow);
    const edited = [
      header,
      JSON.stringify({ ...rows[0], overlay: '/etc/passwd' }),
      JSON.stringify({ ...rows[1], thumbnail: '../secret.png' }),
      JSON.stringify({ ...rows[2], overlay: 'overlays/link.png' }),
      '{"file": "d.png", "status": "ok", "summary": "not numbers"}',
      'garbage that is not JSON',
      JSON.stringify({ file: 'x.png', status: 'ok', pad: 'x'.repeat(2_000_000) }),
      JSON.stringify({ ...rows[3], overlay: undefined, thumbnail: undefined }),
    ];
    await writeFile(journal, `${edited.join('\n')}\n`);

    const second = await runCli(args(folder, out));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      `sightline: warning: 3 lines of the journal '${journal}' are not rows this audit wrote (line 5: 'summary' is not 1024 finite numbers; line 6: not JSON; line 7: ${formatCount(edited[6].length)} characters, over 1,000,000); skipped, and their images redone.`,
    );
    expect(second.stderr).toContain(
      'sightline: warning: the pictures of 4 images done earlier cannot be used: a.png ("/etc/passwd" is outside the output folder); b.png ("../secret.png" is outside the output folder); c.png ("overlays/link.png" leads outside the output folder) … and 1 more; they are redone.',
    );
    expect(second.stderr).toContain('with Vanilla gradient.\n');
    expect([...second.stderr.matchAll(/^\[\d+\/4\] (\S+):/gm)].map((m) => m[1])).toEqual([
      'a.png',
      'b.png',
      'c.png',
      'd.png',
    ]);
    const after = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    expect(after.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    for (const r of after) {
      expect(r.overlay).toMatch(/^overlays\/[a-z]\.png-[0-9a-f]{8}\.webp$/);
      expect(r.thumbnail).toMatch(/^thumbnails\/[a-z]\.png-[0-9a-f]{8}\.webp$/);
    }
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).not.toContain(secret.toString('base64'));
    expect(html).not.toContain((await readFile('/etc/passwd')).toString('base64').slice(0, 40));
    expect(html.match(/<img class="thumb"/g)).toHaveLength(4);

    // The journal was rewritten clean: a third run has nothing to say and nothing to do.
    const third = await runCli(args(folder, out));
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toContain('warning');
    expect(third.stderr).toContain('(resuming: 4 already done, 0 to go)');
  }, 120_000);
});

describe('an audit on a model whose score does not move', () => {
  it('records ok rows that found no evidence, keeps the predictions, and counts them against the gate', async () => {
    const folder = await dataset('flat', ['a.png', 'b.png']);
    const regions = join(dir, 'flat-regions.csv');
    await writeFile(regions, 'file,x,y,width,height\na.png,8,8,8,8\n');
    const out = join(dir, 'flat-out');
    const result = await runCli([...args(folder, out, flat), '--regions', regions, '--fail-under', '0.5']);
    expect(result.stderr).toContain(
      '[1/2] a.png: watermarked 73.1% , no evidence for the class (the map is zero everywhere)'.replace(
        ' ,',
        ',',
      ),
    );
    // 1 image with a region, which found no evidence: 0% on the object, under the gate's 50%.
    expect(result.code, result.stderr).toBe(6);
    expect(result.stdout).toContain('Audited 2 images (0 errors).');
    expect(result.stdout).toContain('0 of 1 with regions look at the object');
    expect(result.stdout).toContain('2 found no evidence for the class (the map is zero everywhere).');
    const rows = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    for (const row of rows) {
      expect(row).toMatchObject({
        status: 'ok',
        noEvidence: true,
        target: { index: 0, label: 'watermarked' },
      });
      // Softmax of the constant logits [2, 1].
      expect(row.predictions?.map((p) => p.label)).toEqual(['watermarked', 'clean']);
      expect(row.predictions?.[0].score).toBeCloseTo(1 / (1 + Math.exp(-1)), 5);
      expect(row.region).toBeUndefined();
      expect(row.borderShare).toBeUndefined();
      expect(row.summary).toBeUndefined();
      expect(row.error).toBeUndefined();
    }
    expect(rows[0].regionGiven).toBe(true);
    expect(rows[1].regionGiven).toBeUndefined();
    const { summary } = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ images: 2, errors: 0, noEvidence: 2, meanMap: [] });
    const csv = (await readFile(join(out, 'results.csv'), 'utf8')).split('\r\n');
    const header = csv[0].split(',');
    const a = csv[1].split(',');
    expect(a[header.indexOf('no_evidence')]).toBe('true');
    expect(a[header.indexOf('share')]).toBe('');
    expect(a[header.indexOf('status')]).toBe('ok');
    expect(csv.join('\n')).not.toMatch(/NaN/);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<span class="badge noevidence">no evidence for the class</span></th><td>2</td>');
    expect(html).toContain("the model found no evidence for 'watermarked' in this image");
    expect(html).not.toMatch(/NaN/);
    // Relative to the audited folder, not this machine's layout.
    expect(html).toContain('<dd>../flat-regions.csv</dd>');
    expect(html).toContain('<dd>../flat.onnx</dd>');
    expect(html).not.toContain(dir);
    expect(await readFile(join(out, 'summary.json'), 'utf8')).not.toContain(dir);
  }, 120_000);
});

describe('terminal safety', () => {
  it('prints a file name holding escape sequences as visible text, with no control character', async () => {
    const name = '\u001b[31mred\u001b]0;owned\u0007.png';
    const folder = await dataset('escapes', [name]);
    await writeFile(join(folder, '\u001b[2Jbroken.png'), 'not a picture');
    const out = join(dir, 'escapes-out');
    const result = await runCli(args(folder, out));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('] \\x1b[31mred\\x1b]0;owned\\x07.png: watermarked');
    expect(result.stderr).toContain('] \\x1b[2Jbroken.png: error: ');
    const controls = [...result.stdout, ...result.stderr].filter((c) => {
      const code = c.charCodeAt(0);
      return (code < 0x20 && c !== '\n') || (code >= 0x7f && code <= 0x9f);
    });
    expect(controls).toEqual([]);
    // The error row names the image from the audited folder, not by its absolute path.
    const rows = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    const broken = rows.find((r) => r.status === 'error')!;
    expect(broken.error?.message).not.toContain(folder);
  }, 120_000);

  it('a file name holding a line feed cannot forge a line of its own in a warning or an error row', async () => {
    const forged = 'sightline: all 3 images look at the object';
    const name = `a\n${forged}.png`;
    const folder = await dataset('newlines', [name]);
    await writeFile(join(folder, `b\n${forged}.png`), 'not a picture');
    const out = join(dir, 'newlines-out');
    const first = await runCli(args(folder, out));
    expect(first.code, first.stderr).toBe(0);
    const row = readRows(await readFile(join(out, 'results.jsonl'), 'utf8')).find((r) => r.file === name)!;
    await unlink(join(out, row.overlay!));
    const second = await runCli(args(folder, out));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`cannot be used: a\\n${forged}.png ("${row.overlay}"`);
    for (const result of [first, second])
      expect(result.stderr.split('\n').filter((line) => line.startsWith(forged))).toEqual([]);
  }, 120_000);

  it('escapes the file name in an error from explain', async () => {
    const result = await runCli(['explain', join(dir, '\u001b]0;owned\u0007\u009b2J.png')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('\\x1b]0;owned\\x07\\x9b2J.png');
    for (const c of ['\u001b', '\u0007', '\u009b']) expect(result.stderr).not.toContain(c);
  }, 60_000);

  it('cuts an error that would list 100,000 columns, and escapes the file name in it', async () => {
    const labels = join(dir, '\u001b[1mlabels.csv');
    const columns = Array.from({ length: 100_000 }, (_, i) => `c${i}`);
    await writeFile(labels, `${columns.join(',')}\n${columns.map(() => 'v').join(',')}\n`);
    const folder = await dataset('labels', ['a.png']);
    const result = await runCli([...args(folder, join(dir, 'labels-out')), '--labels', labels]);
    expect(result.code).toBe(3);
    expect(result.stderr.length).toBeLessThan(2200);
    expect(result.stderr).toContain(
      "\\x1b[1mlabels.csv' is 'c0,c1,c2,c3,c4,c5,c6,c7,c8,c9 … and 99,990 more'",
    );
    expect(result.stderr).not.toContain('\u001b');
  }, 60_000);
});
