// A detector's audit on the queue (`sightline audit --queue` with real `sightline worker` processes on a private
// redis-server) against the same audit run locally: the square detector's photos with their planted false
// positive and miss (test/helpers/detector-photo.ts), D-RISE and box-target Grad-CAM, and a YOLOv8-seg detector
// whose verdicts read its instance masks; a detector's evaluation alike. Then a forged worker's malformed
// detector results, refused in words.
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import {
  BLUE,
  DETECTOR_FIXTURES,
  expectSquaresAround,
  GREEN,
  writeSquaresAudit,
  writeSquaresPhoto,
} from '../helpers/detector-photo.js';
import { type QueueFixture, queueFixture, resultsOf, startCoordinator } from '../helpers/queue.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let q: QueueFixture;
const at = (name: string) => join(q.dir, name);

beforeAll(async () => {
  q = await queueFixture('queue-detect', 0);
  await mkdir(at('squares'));
  await writeSquaresAudit(at('squares'));
  await copyFile(`${DETECTOR_FIXTURES}yolov8_seg.onnx`, at('seg.onnx'));
  await writeFile(at('seg.json'), JSON.stringify({ labels: ['red', 'green', 'blue'], iouThreshold: 0.45 }));
  await mkdir(at('seg-photos'));
  await writeSquaresPhoto(at('seg-photos/a.png'));
  for (let i = 0; i < 2; i++) q.worker();
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

const squaresArgs = (extra: string[]) => [
  at('squares/photos'),
  '--model',
  at('squares/det.onnx'),
  '--regions',
  at('squares/coco.json'),
  ...extra,
];

/** Every number rounded to 6 decimals, `seconds` left out: the rows as the comparison reads them. */
function rounded(value: unknown): unknown {
  if (typeof value === 'number') return Math.round(value * 1e6) / 1e6;
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'seconds')
        .map(([k, v]) => [k, rounded(v)]),
    );
  return value;
}

const summaryOf = async (out: string) =>
  JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')).summary;

/** The same audit locally and on the queue: both results, and the folders they wrote. */
async function bothWays(name: string, args: string[]) {
  const localOut = at(`${name}-local`);
  const queuedOut = at(`${name}-queued`);
  const local = await runCli(['audit', ...args, '--out', localOut]);
  const queued = await runCli(['audit', ...args, '--out', queuedOut, '--queue', q.redis.url]);
  return { local, queued, localOut, queuedOut };
}

/** Rows, summary, stdout, the files written and every picture the same as the local audit's. */
async function expectSame(r: Awaited<ReturnType<typeof bothWays>>): Promise<AuditRow[]> {
  const { local, queued, localOut, queuedOut } = r;
  expect(queued.code, queued.stderr).toBe(local.code);
  expect(queued.stdout).toBe(local.stdout.replaceAll(localOut, queuedOut));
  const localRows = await resultsOf(localOut);
  const queuedRows = await resultsOf(queuedOut);
  expect(rounded(queuedRows)).toEqual(rounded(localRows));
  expect(rounded((await summaryOf(queuedOut)).detect)).toEqual(rounded((await summaryOf(localOut)).detect));
  for (const sub of ['', 'overlays', 'thumbnails'])
    expect((await readdir(join(queuedOut, sub))).sort()).toEqual((await readdir(join(localOut, sub))).sort());
  for (const name of await readdir(join(localOut, 'overlays'))) {
    const same = (await readFile(join(queuedOut, 'overlays', name))).equals(
      await readFile(join(localOut, 'overlays', name)),
    );
    expect(same, `overlays/${name} differs from the local audit's`).toBe(true);
  }
  return queuedRows;
}

/** The error line of a gate that failed, as the CLI prints it. */
const gateLine = (r: CliResult) => r.stderr.split('\n').find((l) => l.includes('under --fail-under'));

describe("a detector's audit on the queue", () => {
  it('D-RISE: the rows, maps, summary and failed --fail-under gate (exit 6) of the local audit', async () => {
    const r = await bothWays(
      'drise',
      squaresArgs(['--method', 'd-rise', '--masks', '200', '--fail-under', '0.5']),
    );
    // D-RISE with 200 masks spreads each map: none of the 4 found detections looks at its object
    // (audit-detect.test.ts), so the gate fails both ways, in the same words.
    expect(r.local.code, r.local.stderr).toBe(6);
    const rows = await expectSame(r);
    expect(gateLine(r.queued)).toBe(gateLine(r.local));
    expect(r.queued.stderr).toMatch(/Queue: 3 of 3 written, 2 workers live/);
    // The planted answers, counted by hand: the blue square is the false positive, the green box of b.png the miss.
    const fps = rows.flatMap((x) =>
      (x.detect?.detections ?? []).filter((d) => d.object === undefined).map((d) => [x.file, d.label, d.box]),
    );
    expect(fps).toEqual([['a.png', 'blue', BLUE.box]]);
    const misses = rows.flatMap((x) => (x.detect?.misses ?? []).map((m) => [x.file, m.label, m.box, m.map]));
    expect(misses).toEqual([
      ['b.png', 'green', GREEN.box, expect.stringMatching(/^overlays\/b\.png-.*-miss1\.webp$/)],
    ]);
    const detect = (await summaryOf(r.queuedOut)).detect;
    expect(detect.classes).toEqual([
      { label: 'blue', truePositives: 0, falsePositives: 1, misses: 0 },
      { label: 'green', truePositives: 2, falsePositives: 0, misses: 1 },
      { label: 'red', truePositives: 2, falsePositives: 0, misses: 0 },
    ]);
    expect(detect.lookingAtObject.found).toBe(4);

    // Every job and result is gone once written.
    const client = q.redis.client();
    const keys = await client.keys('bull:*');
    client.disconnect();
    expect(keys.filter((k) => /:a[0-9a-f]{32}(:|$)/.test(k))).toEqual([]);
  }, 240_000);

  it("box-target Grad-CAM: the same windows around the detections, each class's mass inside its boxes", async () => {
    const r = await bothWays('gradcam', squaresArgs(['--method', 'grad-cam', '--fail-under', '1']));
    expect(r.local.code, r.local.stderr).toBe(0);
    await expectSame(r);
    expectSquaresAround((await summaryOf(r.queuedOut)).detect.around);
  }, 240_000);

  it("a YOLOv8-seg detector without ground truth: mask shares and verdicts as the local audit's", async () => {
    const r = await bothWays('seg', [at('seg-photos'), '--model', at('seg.onnx'), '--method', 'grad-cam']);
    expect(r.local.code, r.local.stderr).toBe(0);
    const [row] = await expectSame(r);
    expect(row.detect?.noGroundTruth).toBe(true);
    const explained = (row.detect?.detections ?? []).filter((d) => d.map !== undefined);
    expect(explained.length).toBeGreaterThan(0);
    for (const d of explained) {
      expect(d.region).toBe('mask');
      expect(d.maskShare).toBeGreaterThanOrEqual(0);
      expect(d.maskShare).toBeLessThanOrEqual(1);
    }
  }, 240_000);
});

describe("a detector's image with more maps than a result carries", () => {
  it('becomes an error row saying so, not a result of megabytes', async () => {
    // c.png's green square, found, and 100 small green boxes nothing detects: 1 + 100 maps, one over the limit.
    await mkdir(at('many'));
    await copyFile(at('squares/photos/c.png'), at('many/c.png'));
    const boxes = [[34, 6, 16, 16]];
    for (let i = 0; i < 100; i++) boxes.push([(i % 10) * 6, 30 + Math.floor(i / 10) * 3, 4, 2]);
    const coco = {
      images: [{ id: 1, file_name: 'c.png' }],
      annotations: boxes.map((bbox, i) => ({ id: i + 1, image_id: 1, category_id: 2, bbox })),
      categories: ['red', 'green', 'blue'].map((name, c) => ({ id: c + 1, name })),
    };
    await writeFile(at('many/coco.json'), JSON.stringify(coco));
    const out = at('many-queued');
    const r = await runCli([
      'audit',
      at('many'),
      '--model',
      at('squares/det.onnx'),
      '--regions',
      at('many/coco.json'),
      '--method',
      'grad-cam',
      '--out',
      out,
      '--queue',
      q.redis.url,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [row] = await resultsOf(out);
    expect(row.status).toBe('error');
    expect([row.width, row.height, row.task]).toEqual([64, 64, 'detect']);
    expect(row.error?.message).toBe(
      "This image's row has 101 maps (explained detections and missed objects), over the 100 a queued result carries; audit it without --queue, or with a lower --detections.",
    );
  }, 120_000);
});

/** evaluation.json without the timings, its images and skips in file order (on the queue: as finished). */
async function evaluation(out: string) {
  const json = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
  for (const image of json.images) for (const m of image.methods) delete m.seconds;
  const byFile = (a: { file: string }, b: { file: string }) => a.file.localeCompare(b.file);
  json.images.sort(byFile);
  json.skipped.sort(byFile);
  return json;
}

describe("a detector's evaluation on the queue", () => {
  const evaluateArgs = (out: string, extra: string[]) => [
    'evaluate',
    at('squares/photos'),
    '--model',
    at('squares/det.onnx'),
    '--methods',
    'd-rise',
    '--masks',
    '100',
    '--metrics',
    'deletion,insertion,pointing',
    '--regions',
    at('squares/coco.json'),
    '--out',
    out,
    ...extra,
  ];
  const bothEvaluations = async (name: string, extra: string[] = []) => {
    const localOut = at(`${name}-local`);
    const queuedOut = at(`${name}-queued`);
    const local = await runCli(evaluateArgs(localOut, extra));
    expect(local.code, local.stderr).toBe(0);
    const queued = await runCli([...evaluateArgs(queuedOut, extra), '--queue', q.redis.url]);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toBe(local.stdout.replaceAll(localOut, queuedOut));
    const e = await evaluation(queuedOut);
    expect(rounded(e)).toEqual(rounded(await evaluation(localOut)));
    return { local, queued, e };
  };

  it('plays the pointing game against the object each top detection found, as the local evaluation', async () => {
    const { e } = await bothEvaluations('ev');
    expect(e.images.map((i: { file: string }) => i.file)).toEqual(['a.png', 'b.png', 'c.png']);
    expect(e.quantity).toContain('D-RISE similarity');
    // Each photo's top detection found a square, and its D-RISE map peaks inside it (audit-detect.test.ts).
    expect(e.table.cells['d-rise'].pointing.mean).toBe(1);
  }, 240_000);

  it('says, as the local evaluation does, which photo has no object to point at', async () => {
    const { local, queued, e } = await bothEvaluations('ev-blue', ['--target', 'blue']);
    const line =
      'a.png: no region metrics: detection #0 (blue) matches no ground-truth object (a false positive), so it has no region to point at.';
    expect(local.stderr).toContain(line);
    expect(queued.stderr).toContain(line);
    expect(e.table.cells['d-rise'].pointing).toBeUndefined();
    // b.png and c.png hold no blue square: skipped both ways, saying so.
    expect(e.skipped.map((s: { file: string; reason: string }) => [s.file, s.reason])).toEqual([
      ['b.png', "The detector found no 'blue' in this photo (above the score threshold 0.25); it found red."],
      [
        'c.png',
        "The detector found no 'blue' in this photo (above the score threshold 0.25); it found green.",
      ],
    ]);
  }, 240_000);
});

describe('a forged worker', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  }, 30_000);

  it('has its malformed detector results refused in words, each image an error row, nothing written from them', async () => {
    // The local Grad-CAM audit's rows and pictures, sent back as a worker would send them, each image's
    // result broken in another way.
    const localOut = at('gradcam-local');
    const local = new Map((await resultsOf(localOut)).map((row) => [row.file, row]));
    const base64 = async (file: string) => (await readFile(join(localOut, file))).toString('base64');
    const forge = async (file: string) => {
      const row = structuredClone(local.get(file) as AuditRow);
      const detect = row.detect as NonNullable<AuditRow['detect']>;
      const maps: Record<string, string> = {};
      // The row as a worker sends it: each map by its key, not by the file the coordinator names it with.
      for (const d of detect.detections)
        if (d.map) {
          maps[`det${d.index}`] = await base64(d.map);
          (d as { map?: string }).map = `det${d.index}`;
        }
      for (const m of detect.misses) {
        maps[`miss${m.object}`] = await base64(m.map as string);
        (m as { map?: string }).map = `miss${m.object}`;
      }
      const pictures = {
        overlay: await base64(row.overlay as string),
        thumbnail: await base64(row.thumbnail as string),
      };
      const { overlay: _o, thumbnail: _t, ...bare } = row;
      const result = { file, row: bare as Record<string, unknown>, ...pictures, maps };
      if (file === 'a.png') {
        // A window of 255 cells, not 16 × 16.
        (detect.detections[0] as { window?: unknown[] }).window?.pop();
      } else if (file === 'b.png') {
        // A map key that would name a file outside overlays/.
        (detect.misses[0] as { map?: string }).map = '../../escaped';
        maps['../../escaped'] = maps.miss1;
        delete maps.miss1;
      } else {
        // A map's picture missing.
        delete maps.det0;
      }
      return result;
    };
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const forger = new Worker(
      'sightline-audit',
      async (job: Job) => {
        const results = new Queue(job.data.results, { connection });
        await results.add('row', await forge(job.data.image.file), { jobId: job.id, removeOnComplete: true });
        await results.close();
      },
      { connection },
    );
    try {
      const out = at('forged');
      const coordinator = startCoordinator([
        ...squaresArgs(['--method', 'grad-cam']),
        '--out',
        out,
        '--queue',
        redis.url,
      ]);
      const r = await coordinator.exit;
      expect(r.code, r.stderr).toBe(0);
      const rows = new Map((await resultsOf(out)).map((row) => [row.file, row]));
      const said = (file: string) => {
        const row = rows.get(file);
        expect(row?.status).toBe('error');
        expect(row?.error?.code).toBe('BAD_RESULT');
        return row?.error?.message;
      };
      const prefix = 'A worker sent a malformed result for this image: ';
      expect(said('a.png')).toBe(`${prefix}'detect.detections[0].window' is not a list of 256 cells.`);
      expect(said('b.png')).toBe(`${prefix}'detect.misses[0].map' is not 'miss1'.`);
      expect(said('c.png')).toBe(
        `${prefix}'maps' holds 0 pictures, expected one for each map the row names (1).`,
      );
      expect(await readdir(join(out, 'overlays'))).toEqual([]);
      expect(await readdir(q.dir)).not.toContain('escaped');
    } finally {
      await forger.close();
      connection.disconnect();
    }
  }, 120_000);
});
