// `sightline audit --shortcuts` as a user runs it: the watermark model (its answer is the corner's) keeps its
// answer with the object removed on every photo and loses it on other classes' backgrounds, with the background
// gap the rows' own partners give; a model that reads only the object is flagged nowhere.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { runCli } from '../helpers/cli.js';
import { type ShortcutDataset, shortcutAuditArgs, shortcutDataset } from '../helpers/shortcuts.js';

let dir: string;
let data: ShortcutDataset;
const COUNTS = { watermarked: 4, clean: 3 } as const;
const N = COUNTS.watermarked + COUNTS.clean;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function readRows(text: string): AuditRow[] {
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
}

async function audit(name: string, modelArgs: string[], extra: string[] = []) {
  const out = join(dir, name);
  const result = await runCli(shortcutAuditArgs(data, modelArgs, out, extra));
  expect(result.code, result.stderr).toBe(0);
  const rows = readRows(await readFile(join(out, 'results.jsonl'), 'utf8'));
  const { summary } = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  return { out, result, rows, summary };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-shortcuts-'));
  data = await shortcutDataset(dir, COUNTS);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sightline audit --shortcuts', () => {
  it('flags every photo of the watermark model, and its background gap is what the swaps give by hand', async () => {
    const { out, result, rows, summary } = await audit('watermark', data.watermarkArgs);
    expect(rows).toHaveLength(N);
    let sameLabelPartners = 0;
    const perClass = new Map<string, { rows: number; same: number }>();
    for (const row of rows) {
      const label = data.labels.get(row.file)!;
      const s = row.shortcuts!;
      expect(row.correct, row.file).toBe(true);
      // The corner is far from the object, so removing the object leaves the answer as it was.
      expect(s.reliesOnContext, row.file).toBe(true);
      expect(s.flags).toContain(`still predicts '${label}' with the object removed`);
      // Logits [m, −m], m = corner / 255 − 0.5 (read with mean 0.5): p(watermarked) = σ(2m).
      const m = data.corners.get(row.file)! / 255 - 0.5;
      const pOf = (mean: number) => (label === 'watermarked' ? sigmoid(2 * mean) : sigmoid(-2 * mean));
      expect(s.variants.original!.probability).toBeCloseTo(pOf(m), 5);
      expect(s.variants.objectRemoved!.probability).toBeCloseTo(pOf(m), 5);
      // Object only, on black: the corner is 0, m = −0.5, so every photo reads 'clean'.
      expect(s.variants.objectOnly!.probability).toBeCloseTo(pOf(-0.5), 5);
      expect(s.variants.objectOnly!.top.label).toBe('clean');
      // A swap takes the partner's corner, so its answer is the partner's class.
      const random = s.partners.random!;
      const same = s.partners.same!;
      expect(random).not.toBe(row.file);
      expect(same).not.toBe(row.file);
      expect(data.labels.get(same)).toBe(label);
      const sameLabel = data.labels.get(random) === label;
      expect(s.variants.swapRandom!.top.label).toBe(data.labels.get(random));
      expect(s.variants.swapRandom!.correct).toBe(sameLabel);
      expect(s.variants.swapSame!.correct).toBe(true);
      expect(s.fragile).toBe(!sameLabel);
      sameLabelPartners += sameLabel ? 1 : 0;
      const c = perClass.get(label) ?? { rows: 0, same: 0 };
      perClass.set(label, { rows: c.rows + 1, same: c.same + (sameLabel ? 1 : 0) });
    }
    // The gap is same-class accuracy (1) minus random accuracy (the share of partners of the same class).
    const gap = 1 - sameLabelPartners / N;
    expect(gap).toBeGreaterThan(0); // the seed draws partners of the other class too, or the test shows nothing
    const s = summary.shortcuts;
    expect(s.images).toBe(N);
    expect(s.reliesOnContext).toBe(N);
    expect(s.fragile).toBe(N - sameLabelPartners);
    expect(s.accuracy.original).toBe(1);
    expect(s.accuracy.objectRemoved).toBe(1);
    expect(s.accuracy.objectOnly).toBeCloseTo(COUNTS.clean / N, 12);
    expect(s.accuracy.swapSame).toBe(1);
    expect(s.accuracy.swapRandom).toBeCloseTo(sameLabelPartners / N, 12);
    expect(s.backgroundGap).toBeCloseTo(gap, 12);
    for (const c of s.byClass) {
      const hand = perClass.get(c.label)!;
      expect(c.images).toBe(hand.rows);
      expect(c.backgroundGap).toBeCloseTo(1 - hand.same / hand.rows, 12);
    }
    expect(s.byClass.map((c: { label: string }) => c.label)).toEqual(['clean', 'watermarked']);
    // Every map is the same corner, so one group holds every photo.
    expect(s.byCluster.reduce((n: number, c: { images: number }) => n + c.images, 0)).toBe(N);

    expect(result.stdout).toContain(
      `Shortcut tests: ${N} of ${N} images still predict the class with the object removed; ${N - sameLabelPartners} change the answer when only the background changes.`,
    );
    expect(result.stderr).toContain(
      "clean/img0.png: clean 69.9%, looks at the background (0% inside); shortcut: still predicts 'clean' with the object removed",
    );
    const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\r\n');
    const header = csv[0].split(',');
    const column = header.indexOf('relies_on_context');
    expect(column).toBeGreaterThan(0);
    expect(csv.slice(1).map((line) => line.split(',')[column])).toEqual(Array(N).fill('true'));
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2 id="shortcuts-title">Shortcut tests</h2>');
    expect(html).toContain('still predicts &#39;watermarked&#39; with the object removed');
  });

  it('flags no photo of a model that reads only the object, and keeps its tests when resumed', async () => {
    const { rows, summary } = await audit('object', data.objectArgs, ['--shortcut-background', 'mean']);
    for (const row of rows) {
      const s = row.shortcuts!;
      expect(row.correct, row.file).toBe(true);
      expect(s.flags, row.file).toEqual([]);
      expect(s.reliesOnContext).toBe(false);
      expect(s.fragile).toBe(false);
      // The object's box filled with its surroundings is grey: the 'nothing' class.
      expect(s.variants.objectRemoved!.top.label).toBe('nothing');
    }
    const s = summary.shortcuts;
    expect(s.reliesOnContext).toBe(0);
    expect(s.fragile).toBe(0);
    expect(s.accuracy).toEqual({ original: 1, objectOnly: 1, objectRemoved: 0, swapRandom: 1, swapSame: 1 });
    expect(s.backgroundGap).toBe(0);
    // A second run finds every image done: the rows come back from the journal through its checks, whole.
    const again = await audit('object', data.objectArgs, ['--shortcut-background', 'mean']);
    expect(again.result.stderr).toContain(`resuming: ${N} already done, 0 to go`);
    expect(again.rows.map((row) => row.shortcuts)).toEqual(rows.map((row) => row.shortcuts));
    expect(again.summary.shortcuts).toEqual(s);
  });

  it('refuses --shortcuts without regions with exit code 2, before the model loads', async () => {
    const noRegions = await runCli([
      'audit',
      data.folder,
      ...data.watermarkArgs,
      '--shortcuts',
      '--out',
      join(dir, 'refused'),
    ]);
    expect(noRegions.code).toBe(2);
    expect(noRegions.stderr).toContain('--shortcuts needs --regions');
    await expect(stat(join(dir, 'refused'))).rejects.toThrow();
  });
});
