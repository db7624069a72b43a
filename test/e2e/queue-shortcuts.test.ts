// `sightline audit --shortcuts --queue` with real `sightline worker` processes on a private redis-server: the
// rows, summary and report of a local `audit --shortcuts` with the same settings, the swaps' answers what the
// partners' corners give by hand; and jobs whose shortcut fields were written by someone else become error rows,
// the worker still running.
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { runCli } from '../helpers/cli.js';
import { type QueueFixture, queueFixture, until, untrustedJobs } from '../helpers/queue.js';
import {
  BACKGROUND,
  CLASSES,
  CORNER,
  OBJECT,
  type ShortcutDataset,
  SIZE,
  shortcutAuditArgs,
  shortcutDataset,
} from '../helpers/shortcuts.js';
import { writeCocoBoxes } from '../helpers/watermark.js';

const COUNTS = { watermarked: 4, clean: 3 } as const;
const N = COUNTS.watermarked + COUNTS.clean;
let q: QueueFixture;
let data: ShortcutDataset;

beforeAll(async () => {
  q = await queueFixture('queue-shortcuts', 1);
  data = await shortcutDataset(join(q.dir, 'shortcuts'), COUNTS);
  for (let i = 0; i < 2; i++) q.worker();
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const withoutTime = ({ seconds: _, ...row }: AuditRow) => row;

async function outputs(out: string) {
  const rows = (await readFile(join(out, 'results.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
  const { summary } = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  const csv = await readFile(join(out, 'results.csv'), 'utf8');
  return { rows, summary, csv };
}

/** The same audit here and on the queue; both must succeed. */
async function bothWays(name: string, modelArgs: string[], extra: string[] = [], dataset = data) {
  const args = (out: string) => shortcutAuditArgs(dataset, modelArgs, out, extra);
  const localOut = join(q.dir, `${name}-local`);
  const queuedOut = join(q.dir, `${name}-queued`);
  const local = await runCli(args(localOut));
  expect(local.code, local.stderr).toBe(0);
  const queued = await runCli([...args(queuedOut), '--queue', q.redis.url]);
  expect(queued.code, queued.stderr).toBe(0);
  expect(queued.stderr).toContain(`Queue: ${N} of ${N} written`);
  expect(queued.stdout).toBe(local.stdout.replaceAll(localOut, queuedOut));
  return { local: await outputs(localOut), queued: await outputs(queuedOut), stderr: queued.stderr };
}

describe('sightline audit --shortcuts --queue', () => {
  it("gives the local audit's rows and summary, each swap answering with its partner's corner", async () => {
    const { local, queued } = await bothWays('watermark', data.watermarkArgs);
    expect(queued.rows).toHaveLength(N);
    expect(queued.rows.map(withoutTime)).toEqual(local.rows.map(withoutTime));
    expect(queued.summary).toEqual(local.summary);
    expect(queued.csv.split('\r\n').map((line) => line.split(',').slice(0, -1))).toEqual(
      local.csv.split('\r\n').map((line) => line.split(',').slice(0, -1)),
    );
    // Independently of the local audit: logits [m, −m] with m the corner's mean read at mean 0.5, so each
    // variant's probability follows from the corner it shows (a swap shows its partner's).
    let sameLabelPartners = 0;
    for (const row of queued.rows) {
      const s = row.shortcuts!;
      const label = data.labels.get(row.file)!;
      const p = (corner: number) => {
        const m = corner / 255 - 0.5;
        return label === 'watermarked' ? sigmoid(2 * m) : sigmoid(-2 * m);
      };
      expect(s.variants.original!.probability).toBeCloseTo(p(data.corners.get(row.file)!), 6);
      expect(s.variants.objectRemoved!.probability).toBeCloseTo(p(data.corners.get(row.file)!), 6);
      expect(s.variants.objectOnly!.probability).toBeCloseTo(p(0), 6);
      const { random, same } = s.partners as { random: string; same: string };
      expect(s.variants.swapRandom!.probability).toBeCloseTo(p(data.corners.get(random)!), 6);
      expect(s.variants.swapSame!.probability).toBeCloseTo(p(data.corners.get(same)!), 6);
      expect(data.labels.get(same)).toBe(label);
      sameLabelPartners += data.labels.get(random) === label ? 1 : 0;
    }
    const summary = queued.summary.shortcuts;
    expect(summary.images).toBe(N);
    expect(summary.accuracy.swapRandom).toBeCloseTo(sameLabelPartners / N, 12);
    expect(summary.backgroundGap).toBeCloseTo(1 - sameLabelPartners / N, 12);
    expect(summary.backgroundGap).toBeGreaterThan(0);
  }, 120_000);

  it('carries the other fills and seed, the mean colour computed once by the coordinator', async () => {
    const extra = ['--shortcut-background', 'mean', '--shortcut-removal', 'black', '--shortcut-seed', '7'];
    const { local, queued, stderr } = await bothWays('mean', data.watermarkArgs, extra);
    expect(stderr).toContain('Queue: reading every image with regions once for the mean colour');
    expect(queued.rows.map(withoutTime)).toEqual(local.rows.map(withoutTime));
    expect(queued.summary).toEqual(local.summary);
    // Run again, every image is done: nothing is enqueued, and the mean colour is not read again.
    const out = join(q.dir, 'mean-queued');
    const again = await runCli([
      ...shortcutAuditArgs(data, data.watermarkArgs, out, extra),
      '--queue',
      q.redis.url,
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`resuming: ${N} already done, 0 to go`);
    expect(again.stderr).not.toContain('mean colour');
    expect((await outputs(out)).rows).toEqual(queued.rows);
    // Seed 7 draws other partners than seed 0 for some photo, or this test would not show the seed travels.
    const seed0 = (await outputs(join(q.dir, 'watermark-local'))).rows;
    const partners = (rows: AuditRow[]) => rows.map((r) => r.shortcuts!.partners);
    expect(partners(queued.rows)).not.toEqual(partners(seed0));
    // 'Object only' puts the dataset's mean colour in the corner the model reads: over the 7 photos, each one
    // 64 × 64 of grey 90 but for its 16 × 16 object and its 8 × 8 corner, averaged over the three channels.
    const size = SIZE * SIZE;
    let grey = 0;
    for (const [file, label] of data.labels) {
      const object = CLASSES[label].object.reduce((a, b) => a + b, 0) / 3;
      const corner = data.corners.get(file)!;
      const objectArea = OBJECT.width * OBJECT.height;
      const cornerArea = (CORNER.x1 - CORNER.x0) * (CORNER.y1 - CORNER.y0);
      grey +=
        (BACKGROUND * (size - objectArea - cornerArea) + object * objectArea + corner * cornerArea) /
        size /
        N;
    }
    expect(grey).toBeGreaterThan(90);
    for (const row of queued.rows) {
      const label = data.labels.get(row.file)!;
      const m = grey / 255 - 0.5;
      const s = row.shortcuts!;
      expect(s.variants.objectOnly!.probability).toBeCloseTo(
        label === 'watermarked' ? sigmoid(2 * m) : sigmoid(-2 * m),
        6,
      );
    }
  }, 120_000);
});

describe('a queued shortcut audit whose folder holds an entry that is not a regular file', () => {
  it('lends no background from it: the worker never reads it, and the rows say why as local ones do', async () => {
    const linked = await shortcutDataset(join(q.dir, 'linked'), COUNTS);
    // A link to nothing with regions of its own: the listing passes it over, yet it is a partner like any other.
    await symlink(join(q.dir, 'nowhere.png'), join(linked.folder, 'clean', 'img9.png'));
    await writeCocoBoxes(linked.regions, [...linked.labels.keys(), 'clean/img9.png'], OBJECT);
    const { local, queued } = await bothWays('linked', linked.watermarkArgs, [], linked);
    expect(queued.rows).toHaveLength(N + 1);
    expect(queued.rows.map(withoutTime)).toEqual(local.rows.map(withoutTime));
    const problems = queued.rows.flatMap((row) => row.shortcuts?.problems ?? []);
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems)
      expect(problem).toBe(
        "the background of 'clean/img9.png' could not be read: 'clean/img9.png' is a link to nothing (dangling or looping); expected a regular image file.",
      );
  }, 120_000);
});

describe('a worker given shortcut jobs written by someone else', () => {
  it('turns bad partner and shortcut fields into error rows and keeps working', async () => {
    const connection = new Redis(q.redis.url, { maxRetriesPerRequest: null });
    const results = 'sightline-results-fedcba9876543210';
    const { jobs, rows, close } = untrustedJobs(connection, results);
    const model = data.watermarkArgs[1];
    const shortcuts = { background: 'black', removal: 'blur', seed: 0 };
    const settings = {
      model,
      hints: { mean: [0.5], std: [1], labelsPath: data.watermarkArgs.at(-1) },
      method: 'gradient',
      options: {},
      topK: 2,
      tolerance: 15,
      faithfulness: false,
      shortcuts,
    };
    const regions = { shapes: [{ type: 'box', ...OBJECT }], source: 'regions.json' };
    const photo = (file: string) => ({ file, source: join(data.folder, file), regions });
    const job = (file: string, change: Record<string, unknown>) => ({
      v: 2,
      results,
      attempts: 1,
      settings,
      image: { ...photo('clean/img0.png'), file },
      partners: { random: photo('watermarked/img0.png'), same: photo('clean/img1.png') },
      ...change,
    });
    const bad = {
      'outside.png': { partners: { random: { ...photo('x.png'), source: '/etc/hostname' } } },
      'type.png': { partners: { random: 'watermarked/img0.png' } },
      'many.png': {
        partners: { random: photo('clean/img1.png'), same: photo('clean/img2.png'), third: photo('x.png') },
      },
      'relative.png': { partners: { same: { ...photo('x.png'), source: 'clean/img1.png' } } },
      'no-regions.png': {
        partners: { same: { file: 'x.png', source: join(data.folder, 'clean/img1.png') } },
      },
      'fill.png': { settings: { ...settings, shortcuts: { ...shortcuts, background: 'plaid' } } },
      'old.png': { v: 1 },
    };
    for (const [file, change] of Object.entries(bad))
      await jobs.add('bad', job(file, change), { jobId: file });
    await jobs.add('fine', job('fine.png', {}), { jobId: 'fine' });
    try {
      const count = Object.keys(bad).length + 1;
      await until(async () => (await rows()).length === count, 60_000, `${count} result rows`);
      const byFile = new Map((await rows()).map((r) => [r.file, r]));
      const message = (file: string) => byFile.get(file)?.error?.message;
      expect(byFile.get('outside.png')?.error?.code).toBe('IO');
      expect(message('outside.png')).toContain(
        "The shortcut partner image '/etc/hostname' is outside the folders this worker may read",
      );
      expect(message('type.png')).toBe("A malformed queue job: 'partners.random' is not an object.");
      expect(message('many.png')).toBe(
        `A malformed queue job: 'partners' has 3 entries (["third"] among them); expected at most 'random' and 'same'.`,
      );
      expect(message('relative.png')).toBe(
        "A malformed queue job: 'partners.same.source' is not an absolute path or an http(s) URL.",
      );
      expect(message('no-regions.png')).toBe(
        "A malformed queue job: 'partners.same.regions' is missing; a partner lends the background around its regions.",
      );
      expect(message('fill.png')).toBe(
        "A malformed queue job: 'settings.shortcuts.background' is not one of black, blur, mean.",
      );
      expect(message('old.png')).toBe(
        "A malformed queue job: 'v' is 1, expected 2 for a job with 'settings.shortcuts'.",
      );
      // The good job beside them: the watermarked partner's corner makes the random swap read 'watermarked'.
      const fine = byFile.get('fine.png')!;
      expect(fine.status, JSON.stringify(fine.error)).toBe('ok');
      expect(fine.shortcuts!.partners).toEqual({ random: 'watermarked/img0.png', same: 'clean/img1.png' });
      expect(fine.shortcuts!.variants.swapRandom!.top.label).toBe('watermarked');
      expect(fine.shortcuts!.variants.swapSame!.top.label).toBe('clean');
      for (const worker of q.workers) expect(worker.child.exitCode).toBe(null);
    } finally {
      await close();
    }
  }, 120_000);
});
