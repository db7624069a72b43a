/**
 * `sightline audit` on a detector, as a user runs it: the hand-set YOLOv8-style square detector of
 * scripts/golden/detectors.py (test/fixtures/detectors, labels red/green/blue) over three 64 × 64 photos with
 * COCO boxes (test/helpers/detector-photo.ts writeSquaresAudit). Planted: a blue square the COCO file does not list (a false positive) and
 * a green box over empty background (a miss). Counted by hand: red found twice (a, b), green twice (a, c).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepare } from '../../src/explain.js';
import { decodeImage } from '../../src/io/decode.js';
import { openOnnxModel } from '../../src/models/open.js';
import { runCli } from '../helpers/cli.js';
import {
  BLUE,
  DETECTOR_FIXTURES,
  expectSquaresAround,
  GREEN,
  SQUARES_LABELS as LABELS,
  writeSquaresAudit,
} from '../helpers/detector-photo.js';

let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-audit-detect-'));
  await writeSquaresAudit(dir);
});

const audit = (out: string, extra: string[] = []) =>
  runCli([
    'audit',
    at('photos'),
    '--model',
    at('det.onnx'),
    '--method',
    'd-rise',
    '--masks',
    '200',
    '--regions',
    at('coco.json'),
    '--concurrency',
    '1',
    '--out',
    out,
    ...extra,
  ]);

interface Row {
  file: string;
  status: string;
  overlay: string;
  thumbnail: string;
  detect: {
    objects: number;
    detections: { label: string; box: number[]; object?: number; boxShare?: number; map?: string }[];
    misses: { label: string; box: number[]; map?: string; boxShare?: number; noEvidence?: boolean }[];
  };
}
const readRows = async (out: string): Promise<Row[]> =>
  (await readFile(join(out, 'results.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('sightline audit --model detector.onnx --regions coco.json', () => {
  it('reports the planted false positive and the planted miss, each with its map, and the counts by class', async () => {
    const out = at('out');
    const r = await audit(out);
    expect(r.code, r.stderr).toBe(0);
    const rows = await readRows(out);
    expect(rows.map((x) => [x.file, x.status])).toEqual([
      ['a.png', 'ok'],
      ['b.png', 'ok'],
      ['c.png', 'ok'],
    ]);
    const fps = rows.flatMap((x) =>
      x.detect.detections.filter((d) => d.object === undefined).map((d) => ({ file: x.file, ...d })),
    );
    expect(fps.map((d) => [d.file, d.label, d.box])).toEqual([['a.png', 'blue', BLUE.box]]);
    const misses = rows.flatMap((x) => x.detect.misses.map((m) => ({ file: x.file, ...m })));
    expect(misses.map((m) => [m.file, m.label, m.box])).toEqual([['b.png', 'green', GREEN.box]]);
    for (const e of [...fps, ...misses]) {
      expect(e.map).toMatch(/^overlays\/.*-(det|miss)\d\.webp$/);
      expect((await sharp(join(out, e.map as string)).metadata()).width).toBe(64);
    }
    // The false positive's map is measured inside its own (blue) box.
    // The miss's box holds only background: D-RISE finds nothing that raises a green proposal there.
    expect(misses[0].noEvidence).toBe(true);
    expect(fps[0].boxShare).toBeGreaterThan(0);
    expect(['object', 'partly', 'background']).toContain((fps[0] as { verdict?: string }).verdict);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')).summary.detect;
    expect(summary.classes).toEqual([
      { label: 'blue', truePositives: 0, falsePositives: 1, misses: 0 },
      { label: 'green', truePositives: 2, falsePositives: 0, misses: 1 },
      { label: 'red', truePositives: 2, falsePositives: 0, misses: 0 },
    ]);
    expect([summary.truePositives, summary.falsePositives, summary.misses]).toEqual([4, 1, 1]);
    expect(summary.outsideBox).toBeGreaterThanOrEqual(0);
    expect(summary.outsideBox).toBeLessThanOrEqual(1);
    expect(r.stdout).toContain('4 detections found an object, 1 was a false positive, 1 object was missed');
    expect(r.stdout).toContain('blue: 0 found, 1 false positive, 0 missed');
    const csv = await readFile(join(out, 'results.csv'), 'utf8');
    // The prediction column says each row's detections in words.
    const lines = csv.trim().split('\r\n').slice(1);
    expect(lines[0]).toContain('"3 detections (2 found an object, 1 false positive), 0 of 2 objects missed"');
    expect(lines[1]).toContain('"1 detection (1 found an object, 0 false positives), 1 of 2 objects missed"');
    expect(lines[2]).toContain('"1 detection (1 found an object, 0 false positives), 0 of 1 object missed"');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('blue: 0 found, 1 false positive, 0 missed');
    expect(html).toContain("false positive: why did it see a 'blue' here?");
    expect(html).toContain('Missed green (object 1) at [34, 38, 50, 54]');
    // Each row's photo with its boxes and its thumbnail, as WebP files, inlined in the report as written.
    for (const x of rows)
      for (const picture of [x.overlay, x.thumbnail]) {
        expect(picture).toMatch(/\.webp$/);
        const bytes = await readFile(join(out, picture));
        expect(html).toContain(`data:image/webp;base64,${bytes.toString('base64')}`);
      }
  }, 120_000);

  it("averages each class's maps around its boxes: Grad-CAM's mass inside the squares is the window's middle", async () => {
    // Box-target Grad-CAM puts 99.8–100% of each detection's map in its square (detection-explain.test.ts),
    // so every class's mean window must hold its mass inside the box, centred on the window's middle (8, 8).
    const out = at('around');
    const r = await audit(out, ['--method', 'grad-cam']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('with Grad-CAM');
    const detect = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')).summary.detect;
    const around = expectSquaresAround(detect.around);
    for (const c of around) {
      let mass = 0;
      let x = 0;
      let y = 0;
      c.mean.forEach((v, i) => {
        mass += v ?? 0;
        x += ((i % 16) + 0.5) * (v ?? 0);
        y += (Math.floor(i / 16) + 0.5) * (v ?? 0);
      });
      expect(mass).toBeCloseTo(1, 2);
      expect(Math.abs(x / mass - 8), c.label).toBeLessThan(0.25);
      expect(Math.abs(y / mass - 8), c.label).toBeLessThan(0.25);
    }
    // The blue square touches the photo's top and right edges (y 6, x 58 of 64): cells past them are null.
    const blue = around[0].mean;
    expect(blue[0]).toBeNull();
    expect(blue[15 * 16 + 15]).toBeNull();
    expect(blue[8 * 16 + 8]).not.toBeNull();
    const rows = await readRows(out);
    const first = rows[0].detect.detections[0] as { window?: unknown[] };
    expect(first.window).toHaveLength(256);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('Around the detections, by class');
    expect(html).toContain('&#39;red&#39; (2 detections): 100% inside the box, 0% above it');
    expect(html).toContain('alt="Mean heat map around the red detections"');
  }, 120_000);

  it('resumes after an interruption with the rows already done kept as they were', async () => {
    const out = at('resume');
    expect((await audit(out)).code).toBe(0);
    const journal = join(out, 'journal.jsonl');
    const [header, first] = (await readFile(journal, 'utf8')).split('\n');
    // As a kill after the first image leaves it: its line, then half of the next.
    await writeFile(journal, `${header}\n${first}\n{"file":"b.pn`);
    const mapOfFirst = JSON.parse(first).detect.detections[0].map;
    const before = (await stat(join(out, mapOfFirst))).mtimeMs;
    const r = await audit(out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('resuming: 1 already done, 2 to go');
    const lines = (await readFile(journal, 'utf8')).trim().split('\n');
    expect(lines[1]).toBe(first);
    expect(lines).toHaveLength(4);
    expect((await stat(join(out, mapOfFirst))).mtimeMs).toBe(before);
    expect((await readRows(out)).map((x) => x.file)).toEqual(['a.png', 'b.png', 'c.png']);
  }, 120_000);

  it('refuses hostile detect rows in the journal field by field and redoes their images', async () => {
    const out = at('hostile');
    expect((await audit(out)).code).toBe(0);
    const journal = join(out, 'journal.jsonl');
    const [header, a, b, c] = (await readFile(journal, 'utf8')).trim().split('\n');
    const ra = JSON.parse(a);
    ra.detect.detections[0].object = 7; // an object the image does not have
    const rb = JSON.parse(b);
    rb.detect.misses = []; // the missed object forgotten
    const rc = JSON.parse(c);
    rc.detect.detections[0].box = [0, 0, 'x', 1];
    await writeFile(
      journal,
      `${[header, JSON.stringify(ra), JSON.stringify(rb), JSON.stringify(rc)].join('\n')}\n`,
    );
    const r = await audit(out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("line 2: 'detect.detections[0].object' is not a whole number from 0 to 1");
    expect(r.stderr).toContain("line 3: 'detect' neither finds nor misses every object");
    expect(r.stderr).toContain("line 4: 'detect.detections[0].box[2]' is not a finite number");
    expect(r.stderr).toContain('Auditing 3 images in');
    expect(r.stderr).not.toContain('resuming');
    const rows = await readRows(out);
    expect(rows[1].detect.misses).toHaveLength(1);
  }, 120_000);

  it('refuses a COCO annotation without a class in words (exit 2)', async () => {
    const bad = {
      images: [{ id: 1, file_name: 'a.png' }],
      annotations: [{ image_id: 1, bbox: [0, 0, 4, 4] }],
    };
    await writeFile(at('bad.json'), JSON.stringify(bad));
    const r = await runCli([
      'audit',
      at('photos'),
      '--model',
      at('det.onnx'),
      '--regions',
      at('bad.json'),
      '--out',
      at('bad'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("annotations[0] in '");
    expect(r.stderr).toContain("which 'categories' does not name; a detector's audit needs each box's class");
  }, 60_000);

  it('--fail-under gates on the share of found detections whose map looks at the object: passes with Grad-CAM, fails with D-RISE (exit 6)', async () => {
    // Grad-CAM of the box target keeps ~100% of each map in its square: all 4 found detections look at it.
    const pass = await audit(at('gate-pass'), ['--method', 'grad-cam', '--fail-under', '1']);
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.stderr).not.toContain('under --fail-under');
    // D-RISE with 200 masks spreads each map: about a third inside the box ('partly'), so none counts.
    const out = at('gate-fail');
    const fail = await audit(out, ['--fail-under', '0.5']);
    expect(fail.code, fail.stderr).toBe(6);
    // The gate's count, recounted from the rows: found (matched) detections and their 'object' verdicts.
    const found = (await readRows(out)).flatMap((x) =>
      x.detect.detections.filter((d) => d.object !== undefined),
    ) as { verdict?: string }[];
    const looking = found.filter((d) => d.verdict === 'object').length;
    expect(found).toHaveLength(4);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')).summary.detect;
    expect(summary.lookingAtObject).toEqual({ found: 4, looking });
    expect(fail.stderr).toContain(
      `sightline: only ${((looking / 4) * 100).toFixed(1)}% of the explained detections that found an object look at it (${looking} of 4), under --fail-under 50.0%.`,
    );
    // The report and results are written all the same.
    expect((await stat(join(out, 'report.html'))).size).toBeGreaterThan(0);
  }, 120_000);

  it("evaluate: the deletion curve starts at the unmasked photo's similarity; the pointing game is played against the matched object", async () => {
    const out = at('ev');
    const r = await runCli([
      'evaluate',
      at('photos/b.png'),
      '--model',
      at('det.onnx'),
      '--methods',
      'd-rise',
      '--masks',
      '200',
      '--metrics',
      'deletion,insertion,pointing',
      '--regions',
      at('coco.json'),
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(e.quantity).toContain('D-RISE similarity');
    const model = await openOnnxModel(await readFile(at('det.onnx')), { labels: LABELS, iouThreshold: 0.45 });
    try {
      const prepared = await prepare({ model, image: await decodeImage(at('photos/b.png')), target: 0 });
      expect(prepared.target.label).toBe('red #0');
      expect(e.images[0].methods[0].curves.deletion[0]).toBeCloseTo(prepared.scores.data[0], 5);
      await prepared.model?.dispose();
    } finally {
      await model.dispose();
    }
    // The red square's map peaks in the red object's box (the green box of b.png is a miss, not its region).
    expect(e.table.cells['d-rise'].pointing.mean).toBe(1);
  }, 60_000);

  it('evaluate on a false positive says it has no object to point at', async () => {
    const out = at('ev-fp');
    const r = await runCli([
      'evaluate',
      at('photos/a.png'),
      '--model',
      at('det.onnx'),
      '--methods',
      'd-rise',
      '--masks',
      '100',
      '--metrics',
      'deletion,pointing',
      '--target',
      'blue',
      '--regions',
      at('coco.json'),
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'a.png: no region metrics: detection #0 (blue) matches no ground-truth object (a false positive), so it has no region to point at.',
    );
    const e = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(e.table.cells['d-rise'].pointing).toBeUndefined();
  }, 60_000);

  it('--detections caps the maps per image; without ground truth detections are explained, not counted, and --fail-under has none to count', async () => {
    const out = at('cap');
    const r = await runCli([
      'audit',
      at('photos'),
      '--model',
      at('det.onnx'),
      '--masks',
      '100',
      '--detections',
      '1',
      '--fail-under',
      '0.1',
      '--out',
      out,
    ]);
    // No detection found an object: the gate fails (exit 6) and says why; the audit itself is complete.
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain(
      'sightline: no explained detection found a ground-truth object (--regions gives the objects), so none looks at one, under --fail-under 10.0%.',
    );
    const rows = await readRows(out);
    const a = rows[0].detect as Row['detect'] & { noGroundTruth?: boolean; explained: number };
    expect(a.noGroundTruth).toBe(true);
    expect([a.detections.length, a.explained]).toEqual([3, 1]);
    expect(a.detections.map((d) => d.map !== undefined)).toEqual([true, false, false]);
    expect(r.stdout).toContain('No ground-truth boxes were given (--regions)');
    expect(r.stdout).toContain('Audited 3 images (0 errors).');
  }, 60_000);

  it('runs torchvision SSDlite (random weights, post-NMS, no labels) end to end, COCO classes by id; maps not judged', async () => {
    const coco = {
      images: [{ id: 1, file_name: 'a.png' }],
      annotations: [{ image_id: 1, category_id: 1, bbox: [10, 14, 16, 16] }],
      categories: [{ id: 1, name: '1' }],
    };
    await writeFile(at('ssd-coco.json'), JSON.stringify(coco));
    const out = at('ssd');
    const r = await runCli([
      'audit',
      at('photos'),
      '--model',
      `${DETECTOR_FIXTURES}ssdlite320_w025_c3.onnx`,
      '--score-threshold',
      '0.05',
      '--masks',
      '20',
      '--detections',
      '1',
      '--regions',
      at('ssd-coco.json'),
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    // D-RISE is a detector's default method, as in explain.
    expect(r.stderr).toContain('with D-RISE');
    const rows = await readRows(out);
    expect(rows.map((x) => x.status)).toEqual(['ok', 'ok', 'ok']);
    const a = rows[0].detect;
    expect(a.objects).toBe(1);
    expect(a.detections.length).toBeGreaterThan(0);
    expect(a.detections[0].map).toMatch(/^overlays\//);
    expect(a.detections.filter((d) => d.object !== undefined).length + a.misses.length).toBe(1);
  }, 120_000);

  it('redoes an image whose detection map was deleted since, saying which', async () => {
    const out = at('deleted');
    expect((await audit(out)).code).toBe(0);
    const [first] = await readRows(out);
    const map = first.detect.detections[0].map as string;
    await rm(join(out, map));
    const r = await audit(out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('resuming: 2 already done, 1 to go');
    expect(r.stderr).toContain(`a.png (${JSON.stringify(map)}:`);
    expect((await sharp(join(out, map)).metadata()).width).toBe(64);
  }, 120_000);
});
