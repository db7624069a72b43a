// `sightline compare` as a user runs it: the same folder audited with a model that reads the object and with
// one that reads a watermark in the corner; every image's change is listed, worse first, with the two audits'
// own numbers.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Comparison } from '../../src/audit/compare/index.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { patchModelProto } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';

const SIZE = 64;
const WATERMARK = { x0: 0, y0: 0, x1: 8, y1: 8 };
const OBJECT = { x0: 24, y0: 24, x1: 40, y1: 40 };
const BRIGHT = 200;
const DARK = 40;
/**
 * Both models score class 0 ('dog') as the mean of their patch less MEAN (the preprocessing's mean, on pixels
 * / 255), class 1 ('other') its negative: a patch brighter than 0.35 × 255 ≈ 89 says 'dog', a darker one
 * 'other'. So each photo's prediction under each model is set by how bright its object and watermark are.
 */
const MEAN = '0.35';

/** file → [object brightness, watermark brightness]; the folder is the label. */
const PHOTOS: Record<string, [number, number]> = {
  'dog/a.png': [BRIGHT, BRIGHT], // both right
  'dog/b.png': [BRIGHT, DARK], // the watermark model gets it wrong
  'other/c.png': [DARK, DARK], // both right
  'other/d.png': [DARK, BRIGHT], // the watermark model gets it wrong
  'dog/e.png': [DARK, BRIGHT], // a dark dog: only the watermark model says 'dog'
};

let dir: string;
let folder: string;
let classNames: string;
let regions: string;

async function photo(path: string, [object, mark]: [number, number]): Promise<void> {
  const data = Buffer.alloc(SIZE * SIZE * 3, 90);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const p = (y * SIZE + x) * 3;
      if (x >= OBJECT.x0 && x < OBJECT.x1 && y >= OBJECT.y0 && y < OBJECT.y1) data.fill(object, p, p + 3);
      if (x < WATERMARK.x1 && y < WATERMARK.y1) data.fill(mark, p, p + 3);
    }
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(path);
}

async function audit(model: string, out: string): Promise<void> {
  const result = await runCli([
    'audit',
    folder,
    '--model',
    model,
    '--mean',
    MEAN,
    '--std',
    '1',
    '--class-names',
    classNames,
    '--labels',
    'folders',
    '--method',
    'gradient',
    '--regions',
    regions,
    '--out',
    out,
  ]);
  expect(result.code, result.stderr).toBe(0);
}

interface Row {
  file: string;
  predictions: { label: string; score: number }[];
  correct: boolean;
  region: { share: number; verdict: string };
  summary: number[];
}

async function rowsOf(out: string): Promise<Map<string, Row>> {
  const text = await readFile(join(out, 'results.jsonl'), 'utf8');
  const rows = text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Row);
  return new Map(rows.map((row) => [row.file, row]));
}

let outA: string;
let outB: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-compare-'));
  folder = join(dir, 'photos');
  for (const sub of ['dog', 'other']) await mkdir(join(folder, sub), { recursive: true });
  for (const [file, shades] of Object.entries(PHOTOS)) await photo(join(folder, file), shades);
  classNames = join(dir, 'classes.txt');
  await writeFile(classNames, 'dog\nother\n');
  const files = [...Object.keys(PHOTOS), 'dog/f.png'];
  regions = join(dir, 'regions.json');
  await writeFile(
    regions,
    JSON.stringify({
      images: files.map((file_name, id) => ({ id, file_name, width: SIZE, height: SIZE })),
      annotations: files.map((_, id) => ({
        id,
        image_id: id,
        category_id: 1,
        bbox: [OBJECT.x0, OBJECT.y0, OBJECT.x1 - OBJECT.x0, OBJECT.y1 - OBJECT.y0],
      })),
      categories: [{ id: 1, name: 'object' }],
    }),
  );
  const objectModel = join(dir, 'object.onnx');
  const watermarkModel = join(dir, 'watermark.onnx');
  const dims = ['N', 3, SIZE, SIZE];
  await writeFile(objectModel, encodeModel(patchModelProto(OBJECT, { dims })));
  await writeFile(watermarkModel, encodeModel(patchModelProto(WATERMARK, { dims })));
  outA = join(dir, 'audit-object');
  outB = join(dir, 'audit-watermark');
  await audit(objectModel, outA);
  // A photo added after the first audit: only the second has it.
  await photo(join(folder, 'dog/f.png'), [BRIGHT, BRIGHT]);
  await audit(watermarkModel, outB);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sightline compare', () => {
  it("lists each image's change, worse first, with the numbers of the two audits' rows", async () => {
    const out = join(dir, 'cmp');
    const result = await runCli(['compare', outA, outB, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    // Same method, options and regions: nothing to warn about; only the model differs.
    expect(result.stderr).toBe('');

    const [rowsA, rowsB] = [await rowsOf(outA), await rowsOf(outB)];
    // The audits themselves, read here: the object model is right on all but the dark dog, the watermark model
    // wrong where the watermark disagrees with the label; the object model looks at the object, the other not.
    expect([...rowsA.values()].map((r) => [r.file, r.correct, r.region.verdict, r.region.share])).toEqual([
      ['dog/a.png', true, 'object', 1],
      ['dog/b.png', true, 'object', 1],
      ['dog/e.png', false, 'object', 1],
      ['other/c.png', true, 'object', 1],
      ['other/d.png', true, 'object', 1],
    ]);
    expect([...rowsB.values()].map((r) => [r.file, r.correct, r.region.verdict, r.region.share])).toEqual([
      ['dog/a.png', true, 'background', 0],
      ['dog/b.png', false, 'background', 0],
      ['dog/e.png', true, 'background', 0],
      ['dog/f.png', true, 'background', 0],
      ['other/c.png', true, 'background', 0],
      ['other/d.png', false, 'background', 0],
    ]);

    const comparison = JSON.parse(await readFile(join(out, 'compare.json'), 'utf8')) as Comparison;
    // Worse first: right → wrong with the verdict gone to the background (b, d), then the verdict alone (a, c);
    // the dark dog is now right but for the wrong reason: worse and better.
    expect(comparison.images.map((c) => [c.file, c.change])).toEqual([
      ['dog/b.png', 'worse'],
      ['other/d.png', 'worse'],
      ['dog/a.png', 'worse'],
      ['other/c.png', 'worse'],
      ['dog/e.png', 'mixed'],
    ]);
    expect(comparison.images[0].worse).toEqual([
      'right → wrong',
      'verdict object → background',
      'share inside 100% → 0%',
    ]);
    expect(comparison.images[4].better).toEqual(['wrong → right']);
    for (const c of comparison.images) {
      for (const [side, rows] of [
        ['a', rowsA],
        ['b', rowsB],
      ] as const) {
        const row = rows.get(c.file)!;
        expect(c[side]).toMatchObject({
          prediction: row.predictions[0].label,
          score: row.predictions[0].score,
          correct: row.correct,
          kind: row.region.verdict,
          share: row.region.share,
        });
      }
      expect(c.shareDelta).toBe(rowsB.get(c.file)!.region.share - rowsA.get(c.file)!.region.share);
      expect(c.predictionChanged).toBe(
        rowsA.get(c.file)!.predictions[0].label !== rowsB.get(c.file)!.predictions[0].label,
      );
    }
    expect(comparison.onlyA).toEqual([]);
    expect(comparison.onlyB).toEqual(['dog/f.png']);

    // Dataset numbers over the five images both have, counted here from the rows.
    const both = comparison.images.map((c) => c.file);
    const count = (rows: Map<string, Row>, test: (r: Row) => boolean) =>
      both.filter((f) => test(rows.get(f)!)).length;
    const n = comparison.numbers;
    expect(n.both).toBe(5);
    expect(n.a).toMatchObject({ labelled: 5, correct: count(rowsA, (r) => r.correct), accuracy: 4 / 5 });
    expect(n.b).toMatchObject({ labelled: 5, correct: count(rowsB, (r) => r.correct), accuracy: 3 / 5 });
    expect(n.a.kinds.object).toBe(5);
    expect(n.b.kinds.background).toBe(5);
    expect([n.a.meanShare, n.b.meanShare]).toEqual([1, 0]);
    expect([n.broken, n.fixed, n.verdictWorse, n.verdictBetter]).toEqual([2, 1, 5, 0]);
    expect(n.predictionChanged).toBe(
      count(rowsA, (r) => r.predictions[0].label !== rowsB.get(r.file)!.predictions[0].label),
    );
    expect(n.changes).toEqual({ worse: 4, mixed: 1, same: 0, better: 0 });
    // Mean maps over the five: A's is its audit's own (it has no other image), B's the mean of those rows'
    // maps; A's mass lies on the object's 8 × 8 cells (of 32 × 32), B's on the watermark's 4 × 4.
    const own = JSON.parse(await readFile(join(outA, 'summary.json'), 'utf8')).summary.meanMap as number[];
    expect(n.a.meanMap.length).toBe(32 * 32);
    for (const [i, v] of n.a.meanMap.entries()) expect(v).toBeCloseTo(own[i], 12);
    for (const [i, v] of n.b.meanMap.entries())
      expect(v).toBeCloseTo(both.reduce((s, f) => s + rowsB.get(f)!.summary[i], 0) / 5, 12);
    const mass = (map: readonly number[], x0: number, x1: number) => {
      let s = 0;
      for (let y = x0; y < x1; y++) for (let x = x0; x < x1; x++) s += map[y * 32 + x];
      return s;
    };
    expect(mass(n.a.meanMap, 12, 20)).toBeCloseTo(1, 3);
    expect(mass(n.b.meanMap, 0, 4)).toBeCloseTo(1, 3);

    expect(result.stdout).toContain(
      '5 images in both audits: 4 worse, 1 worse and better, 0 unchanged, 0 better. Accuracy 80% → 60% (4 → 3 of 5 labelled); right → wrong 2, wrong → right 1.',
    );
    expect(result.stdout).toContain('Only in A: 0; only in B: 1.');
    expect(result.stdout).toContain('Worse first:\n  dog/b.png: right → wrong; verdict object → background');

    const csv = (await readFile(join(out, 'compare.csv'), 'utf8')).trimEnd().split('\r\n');
    const header = csv[0].split(',');
    const cell = (line: string, column: string) => line.split(',')[header.indexOf(column)];
    expect(csv.slice(1).map((l) => [cell(l, 'file'), cell(l, 'change')])).toEqual([
      ...comparison.images.map((c) => [c.file, c.change]),
      ['dog/f.png', 'only_b'],
    ]);
    expect(csv.slice(1, 6).map((l) => Number(cell(l, 'b_score')))).toEqual(
      comparison.images.map((c) => rowsB.get(c.file)!.predictions[0].score),
    );

    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/(src|href)="https?:/);
    // The table is worse first, each image with both audits' thumbnails.
    const order = comparison.images.map((c) => html.indexOf(`<th scope="row">${c.file}</th>`));
    expect(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1]))).toBe(true);
    expect(html.match(/<img class="thumb"/g)).toHaveLength(10);
    expect(html.match(/<figure class="map">/g)).toHaveLength(2);
  }, 30_000);

  it('exits 3 naming the file when a folder is not an audit', async () => {
    const notAudit = await runCli(['compare', outA, folder, '--out', join(dir, 'cmp2')]);
    expect(notAudit.code).toBe(3);
    expect(notAudit.stderr).toContain(`Cannot read the audit file '${join(folder, 'summary.json')}'`);
  }, 30_000);
});
