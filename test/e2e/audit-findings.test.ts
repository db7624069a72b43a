// The findings at the top of an audit's report, checked against the rows: on a model that judges by a watermark
// in the top-left corner they name the corner and the count (and, with --shortcuts, the images it still
// labels so with the object removed); on a model that reads only the object they say
// nothing about the background, only that it is wrong where it looked at the object (the 'clean' folder's
// images, whose label the model never gives). Every count is recounted here from results.jsonl.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/audit/findings.js';
import type { AuditRow } from '../../src/audit/types.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { patchModelProto } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';
// The object model scores only OBJECT, the region every photo is given.
import { OBJECT, SIZE, WATERMARK, watermarkPhoto, writeCocoBoxes } from '../helpers/watermark.js';

/** Folder (label) → images: the models always answer 'watermarked' (logits [m, −m], m ≥ 0). */
const FILES = {
  watermarked: ['a.png', 'b.png', 'c.png', 'd.png', 'e.png'],
  clean: ['f.png', 'g.png', 'h.png'],
};
const ALL = Object.entries(FILES).flatMap(([folder, names]) => names.map((n) => `${folder}/${n}`));

let dir: string;
let folder: string;
let regions: string;
let classNames: string;

async function audit(model: 'watermark' | 'object', extra: string[] = []) {
  const patch =
    model === 'watermark'
      ? WATERMARK
      : { x0: OBJECT.x, y0: OBJECT.y, x1: OBJECT.x + OBJECT.width, y1: OBJECT.y + OBJECT.height };
  const modelPath = join(dir, `${model}.onnx`);
  await writeFile(modelPath, encodeModel(patchModelProto(patch, { dims: ['N', 3, SIZE, SIZE] })));
  const out = join(dir, `${model}-out`);
  const result = await runCli([
    'audit',
    folder,
    '--model',
    modelPath,
    '--mean',
    '0',
    '--std',
    '1',
    '--class-names',
    classNames,
    '--method',
    'gradient',
    '--regions',
    regions,
    '--out',
    out,
    '--labels',
    'folders',
    ...extra,
  ]);
  expect(result.code, result.stderr).toBe(0);
  const rows = (await readFile(join(out, 'results.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
  const { findings } = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as {
    findings: Finding[];
  };
  const csv = await readFile(join(out, 'needs-attention.csv'), 'utf8');
  const html = await readFile(join(out, 'report.html'), 'utf8');
  return { out, rows, findings, csv, html, stdout: result.stdout };
}

/** The rows' files that pass `test`, sorted as the findings list them. */
function filesWhere(rows: readonly AuditRow[], test: (row: AuditRow) => boolean): string[] {
  return rows
    .filter(test)
    .map((r) => r.file)
    .sort();
}

/** needs-attention.csv as file → finding ids (no field in these tests holds a quoted line break). */
function attention(csv: string): Map<string, string[]> {
  const lines = csv.trim().split('\r\n');
  expect(lines[0]).toBe('file,findings,finding_ids,what_to_do');
  return new Map(
    lines.slice(1).map((line) => {
      const [file] = line.split(',');
      const ids = line.match(/,([a-z0-9;-]+),("[^"]*"|[^,]*)$/);
      expect(ids, line).not.toBeNull();
      return [file, ids![1].split(';')];
    }),
  );
}

/** Expects needs-attention.csv to list exactly the files the findings name, each with the ids naming it. */
function expectAttention(csv: string, findings: readonly Finding[]): void {
  const expected = new Map<string, string[]>();
  for (const f of findings)
    for (const file of f.files) expected.set(file, [...(expected.get(file) ?? []), f.id]);
  expect(attention(csv)).toEqual(new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-findings-'));
  folder = join(dir, 'photos');
  let i = 0;
  for (const [sub, names] of Object.entries(FILES)) {
    await mkdir(join(folder, sub), { recursive: true });
    for (const name of names) await watermarkPhoto(join(folder, sub, name), i++);
  }
  regions = await writeCocoBoxes(join(dir, 'regions.json'), ALL);
  classNames = join(dir, 'classes.txt');
  await writeFile(classNames, 'watermarked\nclean\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findings of an audit report', () => {
  it('on the watermark model: the background, the top-left corner and the shortcut test, counted from the rows', async () => {
    const { rows, findings, csv, html, stdout } = await audit('watermark', ['--shortcuts']);
    expect(rows).toHaveLength(8);

    const background = findings.find((f) => f.id === 'background')!;
    const onBackground = filesWhere(rows, (r) => r.region?.verdict === 'background');
    expect(onBackground).toEqual(ALL.slice().sort());
    expect(background.files).toEqual(onBackground);
    expect(background.count).toBe(onBackground.length);
    // Right on the 5 'watermarked' images (the model always answers so), wrong on the 3 'clean' ones.
    const right = rows.filter((r) => r.region?.verdict === 'background' && r.correct).length;
    expect(right).toBe(5);
    expect(background.text).toMatch(
      /^8 of 8 images with a marked object: the model looks mostly at the background .*; its answer is right on 5 of the 8 labelled ones; 8 of them are in group \d \(mean map: 100% of the attention in the top-left corner \(a ninth of the picture\)\)\.$/,
    );
    expect(background.advice).toMatch(/top-left corner of group \d's images: crop out or cover/);

    // Each row's own map: its share in the top-left ninth (cells whose centre is in the first third), recounted.
    const corner = findings.find((f) => f.id === 'place-top-left-corner')!;
    const inCorner = filesWhere(rows, (r) => {
      let share = 0;
      for (let y = 0; y < 11; y++) for (let x = 0; x < 11; x++) share += r.summary![y * 32 + x];
      return share >= 0.5;
    });
    expect(inCorner).toHaveLength(8);
    expect(corner.files).toEqual(inCorner);
    expect(corner.count).toBe(8);
    expect(corner.text).toBe(
      '8 of 8 images with a map: at least 50% of the attention (100% on each) is in the top-left corner (a ninth of the picture), not on the marked object.',
    );
    // With the object removed the watermark is still there: every image whose answer was its label keeps it.
    const context = findings.find((f) => f.id === 'context-1')!;
    const kept = filesWhere(rows, (r) => r.shortcuts?.reliesOnContext === true);
    expect(kept).toEqual(FILES.watermarked.map((n) => `watermarked/${n}`));
    expect(context.files).toEqual(kept);
    expect(context.text).toBe(
      "With the object removed, the model still says 'watermarked' on 5 of 8 images tested.",
    );
    // The model looked at the object nowhere: no wrong-where-it-looked finding; and no answer changed with
    // the background alone (the watermark stays in the photo).
    expect(filesWhere(rows, (r) => r.shortcuts?.fragile === true)).toEqual([]);
    expect(findings.map((f) => f.id)).toEqual(['background', 'place-top-left-corner', 'context-1']);
    for (const f of findings) expect(f.count).toBe(f.files.length);

    expectAttention(csv, findings);
    // The findings come first, each with a button filtering the table through the verdict menu, which offers them.
    expect(html.indexOf('id="findings-title"')).toBeLessThan(html.indexOf('id="run-title"'));
    expect(html).toContain(
      '<button type="button" class="finding-link" data-finding="finding-background">Show these 8 images in the table</button>',
    );
    expect(html).toContain('<option value="finding-place-top-left-corner">finding 2 (8 images)</option>');
    const data = JSON.parse(html.match(/id="report-data">(.*?)<\/script>/s)![1]) as {
      rows: { file: string; kinds: string[] }[];
    };
    for (const row of data.rows) {
      expect(row.kinds).toEqual([
        'background',
        'finding-background',
        'finding-place-top-left-corner',
        ...(row.file.startsWith('watermarked/') ? ['finding-context-1'] : []),
      ]);
    }
    expect(stdout).toContain(
      'Findings (their files in needs-attention.csv):\n  1. 8 of 8 images with a marked object',
    );
    expect(stdout).toContain(
      '  2. 8 of 8 images with a map: at least 50% of the attention (100% on each) is in the top-left corner',
    );
  }, 60_000);

  it('on the object model, paged: no background or corner finding; wrong where it looked at the object', async () => {
    const { out, rows, findings, csv, html, stdout } = await audit('object', ['--report-layout', 'pages']);
    expect(filesWhere(rows, (r) => r.region?.verdict === 'object')).toHaveLength(8);
    const wrong = filesWhere(rows, (r) => r.region?.verdict === 'object' && r.correct === false);
    expect(wrong).toEqual(['clean/f.png', 'clean/g.png', 'clean/h.png']);
    expect(findings).toEqual([
      {
        id: 'wrong-on-object',
        text: 'Wrong on 3 of the 8 labelled images where the model looked at the object (its answer is not the label).',
        advice: expect.stringContaining('relabel the files that are wrong'),
        count: wrong.length,
        files: wrong,
      },
    ]);
    expectAttention(csv, findings);
    expect(stdout).toContain('  1. Wrong on 3 of the 8 labelled images where the model looked at the object');
    // The paged table's rows carry the finding as a kind, so the button filters them there too.
    expect(html).toContain('data-finding="finding-wrong-on-object"');
    expect(html).toContain('<option value="finding-wrong-on-object">');
    const pages = await readdir(join(out, 'report-rows'));
    const text = (await Promise.all(pages.map((p) => readFile(join(out, 'report-rows', p), 'utf8')))).join(
      '',
    );
    const paged = [...text.matchAll(/sightlineReportRows\(\d+, (.*)\);\n/g)].flatMap(
      (m) => JSON.parse(m[1]) as { file: string; kinds: string[] }[],
    );
    expect(paged).toHaveLength(8);
    for (const row of paged) {
      expect(row.kinds).toEqual(
        row.file.startsWith('clean/') ? ['object', 'finding-wrong-on-object'] : ['object'],
      );
    }
  }, 60_000);
});
