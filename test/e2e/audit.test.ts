// `sightline audit` as a user runs it: resumable after a hard kill, right about a model that judges by a
// watermark, and tolerant of bad images, unknown labels and regions that do not fit.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { patchModelProto } from '../helpers/analytic.js';
import { CLI, runCli } from '../helpers/cli.js';
import { OBJECT, SIZE, WATERMARK, watermarkPhoto, writeCocoBoxes } from '../helpers/watermark.js';

let dir: string;
let modelPath: string;
let classNames: string;

async function dataset(name: string, count: number): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  for (let i = 0; i < count; i++)
    await watermarkPhoto(join(folder, `img${String(i).padStart(2, '0')}.png`), i);
  return folder;
}

function cocoFor(folder: string, files: string[], box = OBJECT): Promise<string> {
  return writeCocoBoxes(join(folder, '..', `${folder.split('/').pop()}-regions.json`), files, box);
}

function readRows(text: string): AuditRow[] {
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
}

function modelArgs(): string[] {
  return ['--model', modelPath, '--mean', '0', '--std', '1', '--class-names', classNames];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-audit-'));
  modelPath = join(dir, 'watermark.onnx');
  await writeFile(modelPath, encodeModel(patchModelProto(WATERMARK, { dims: ['N', 3, SIZE, SIZE] })));
  classNames = join(dir, 'classes.txt');
  await writeFile(classNames, 'watermarked\nclean\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sightline audit on a model that judges by a watermark', () => {
  it('puts the mean map on the watermark corner and calls every image "looks at the background"', async () => {
    const folder = await dataset('shortcut', 6);
    const regions = await cocoFor(
      folder,
      Array.from({ length: 6 }, (_, i) => `img0${i}.png`),
    );
    const out = join(dir, 'shortcut-out');
    const result = await runCli([
      'audit',
      folder,
      ...modelArgs(),
      '--method',
      'gradient',
      '--regions',
      regions,
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      '0 of 6 with regions look at the object, 0 partly outside, 6 at the background.',
    );

    const rows = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    expect(rows.map((r) => r.file)).toEqual([
      'img00.png',
      'img01.png',
      'img02.png',
      'img03.png',
      'img04.png',
      'img05.png',
    ]);
    for (const row of rows) {
      expect(row.status).toBe('ok');
      expect(row.region?.verdict).toBe('background');
      // The gradient is zero outside the watermark: nothing of the model's attention is on the object.
      expect(row.region?.share).toBe(0);
      expect(row.region?.peakInside).toBe(false);
      // The border band is the outer 6.4 px (10% of 64) of each side: pixel centres 0.5 … 5.5, so the 8 × 8
      // watermark has all but its 2 × 2 inner corner in it; the gradient is even over the patch: 60/64.
      expect(row.borderShare).toBeCloseTo(60 / 64, 5);
    }
    // The mean map (32 × 32 cells of 2 × 2 pixels): all its mass in the 4 × 4 cells over the 8 × 8 watermark.
    const { summary } = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    const mean: number[] = summary.meanMap;
    expect(summary.verdicts).toEqual({ object: 0, partly: 0, background: 6 });
    let corner = 0;
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) corner += mean[y * 32 + x];
    expect(corner).toBeCloseTo(1, 5);
    const peak = mean.indexOf(Math.max(...mean));
    expect([peak % 32, Math.floor(peak / 32)].every((c) => c < 4)).toBe(true);
    const csv = await readFile(join(out, 'results.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(7);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('img05.png');
  }, 120_000);

  it('with --faithfulness, records deletion and insertion AUC per image (hand-computed deletion)', async () => {
    const folder = join(dir, 'shortcut');
    const out = join(dir, 'faithful-out');
    const result = await runCli([
      'audit',
      folder,
      ...modelArgs(),
      '--method',
      'gradient',
      '--faithfulness',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const rows = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    for (const [i, row] of rows.entries()) {
      // Logits [m, −m], m the watermark's mean (pixels / 255): p = σ(2m). The first of 64 steps (a row's worth, 64
      // pixels) deletes exactly the 64 watermark pixels, which the gradient ranks first; then p = ½ to the end.
      const m = (20 + 10 * i) / 255;
      const p0 = 1 / (1 + Math.exp(-2 * m));
      expect(row.faithfulness?.deletion).toBeCloseTo((p0 + 0.5 * 64 - (p0 + 0.5) / 2) / 64, 5);
      expect(row.faithfulness?.insertion).toBeGreaterThan(0);
    }
    expect((await readFile(join(out, 'results.csv'), 'utf8')).split('\r\n')[0]).toContain(
      'deletion_auc,insertion_auc',
    );
  }, 120_000);

  it('resumes after SIGKILL without redoing or losing an image', async () => {
    const folder = await dataset('resume', 14);
    const out = join(dir, 'resume-out');
    const args = [
      CLI,
      'audit',
      folder,
      ...modelArgs(),
      '--method',
      'rise',
      '--masks',
      '3000',
      '--out',
      out,
      '--concurrency',
      '1',
    ];
    const first: ChildProcess = spawn(process.execPath, args);
    const journal = join(out, 'journal.jsonl');
    // Kill hard once a few images are in the journal, mid-run.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(async () => {
        const text = await readFile(journal, 'utf8').catch(() => '');
        if (text.split('\n').length - 2 >= 3) {
          clearInterval(timer);
          first.kill('SIGKILL');
          resolve();
        }
      }, 50);
      first.on('close', (code) => {
        clearInterval(timer);
        if (code !== null) reject(new Error(`the audit finished (code ${code}) before it could be killed`));
      });
    });
    await new Promise((resolve) => first.on('close', resolve));
    const before = (await readFile(journal, 'utf8'))
      .split('\n')
      .slice(1)
      .filter((line) => line.trim() !== '');
    const doneBefore = before.flatMap((line) => {
      try {
        return [JSON.parse(line) as AuditRow];
      } catch {
        return []; // a line cut short by the kill
      }
    });
    expect(doneBefore.length).toBeGreaterThanOrEqual(3);
    expect(doneBefore.length).toBeLessThan(14);

    const second = await runCli(args.slice(1));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      `resuming: ${doneBefore.length} already done, ${14 - doneBefore.length} to go`,
    );
    // Only the remaining images were worked on in the second run.
    const worked = [...second.stderr.matchAll(/^\[\d+\/14\] (\S+):/gm)].map((m) => m[1]);
    expect(worked).toHaveLength(14 - doneBefore.length);
    for (const row of doneBefore) expect(worked).not.toContain(row.file);

    const rows = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    expect(rows.map((r) => r.file)).toEqual(
      Array.from({ length: 14 }, (_, i) => `img${String(i).padStart(2, '0')}.png`),
    );
    // The rows finished before the kill are kept exactly as they were written.
    for (const row of doneBefore) expect(rows.find((r) => r.file === row.file)).toEqual(row);
  }, 240_000);

  it('records a corrupt image, an unknown label and a box outside the image as errors, and finishes the rest', async () => {
    const folder = join(dir, 'mixed');
    for (const sub of ['watermarked', 'clean', 'zebra']) await mkdir(join(folder, sub), { recursive: true });
    await watermarkPhoto(join(folder, 'watermarked', 'a.png'), 5);
    await watermarkPhoto(join(folder, 'watermarked', 'b.png'), 6);
    await watermarkPhoto(join(folder, 'clean', 'c.png'), 0);
    await watermarkPhoto(join(folder, 'zebra', 'z.png'), 1);
    await writeFile(join(folder, 'watermarked', 'broken.png'), 'not a picture at all\n');
    const regions = join(dir, 'mixed-regions.csv');
    await writeFile(
      regions,
      'file,x,y,width,height\nwatermarked/a.png,24,24,16,16\nwatermarked/b.png,900,10,20,20\n',
    );
    const out = join(dir, 'mixed-out');
    const result = await runCli([
      'audit',
      folder,
      ...modelArgs(),
      '--method',
      'gradient',
      '--labels',
      'folders',
      '--regions',
      regions,
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const rows = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
    const byFile = new Map(rows.map((r) => [r.file, r]));
    expect([...byFile.keys()]).toEqual([
      'clean/c.png',
      'watermarked/a.png',
      'watermarked/b.png',
      'watermarked/broken.png',
      'zebra/z.png',
    ]);
    expect(byFile.get('watermarked/a.png')).toMatchObject({
      status: 'ok',
      label: { text: 'watermarked', index: 0 },
    });
    expect(byFile.get('watermarked/a.png')?.region?.verdict).toBe('background');
    expect(byFile.get('clean/c.png')).toMatchObject({ status: 'ok', label: { text: 'clean', index: 1 } });
    expect(byFile.get('watermarked/broken.png')).toMatchObject({
      status: 'error',
      error: { code: 'IMAGE_DECODE' },
    });
    expect(byFile.get('watermarked/broken.png')?.error?.message).toContain('broken.png');
    expect(byFile.get('zebra/z.png')).toMatchObject({ status: 'error', error: { code: 'UNKNOWN_TARGET' } });
    expect(byFile.get('zebra/z.png')?.error?.message).toContain("'zebra'");
    expect(byFile.get('watermarked/b.png')).toMatchObject({ status: 'error', error: { code: 'REGIONS' } });
    expect(byFile.get('watermarked/b.png')?.error?.message).toContain('outside the 64×64 image');
    const csv = await readFile(join(out, 'results.csv'), 'utf8');
    expect(csv).toContain('zebra/z.png,error');
  }, 120_000);

  it('fails the --fail-under gate with its own exit code', async () => {
    const folder = join(dir, 'shortcut');
    const regions = join(dir, 'shortcut-regions.json');
    const result = await runCli([
      'audit',
      folder,
      ...modelArgs(),
      '--method',
      'gradient',
      '--regions',
      regions,
      '--out',
      join(dir, 'gate-out'),
      '--fail-under',
      '0.5',
    ]);
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('only 0.0% of images look at the object, under --fail-under 50.0%');
  }, 120_000);
});
