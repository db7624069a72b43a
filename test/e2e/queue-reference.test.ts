// `--reference` on the queue (an embedding model's photo or .npy vector), with a real worker process on a private
// redis-server and the analytic embedder of test/helpers/target-models.ts: the rows and evaluation of a local
// run, each cosine as computed from the model's definition; a job names the reference by path and hash (not
// its numbers), and a changed file or a tampered job becomes an error row in words, the worker still running.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { encodeNpy } from '../../src/io/npy.js';
import type { Patch } from '../helpers/analytic.js';
import { runCli } from '../helpers/cli.js';
import {
  journalRows,
  type QueueFixture,
  queueFixture,
  resultsOf,
  startCoordinator,
  until,
  untrustedJobs,
  type WorkerProcess,
} from '../helpers/queue.js';
import { cosine, embedderProto, embedding, photo, SIZE } from '../helpers/target-models.js';

const SHARED: Patch = { x0: 4, y0: 12, x1: 20, y1: 28 };
type Photo = ReturnType<typeof photo>;
/** The reference photo: green in SHARED, as two of the audited photos have, and its own blue patch. */
const B = photo(2, [
  { patch: SHARED, rgb: [0, 255, 0] },
  { patch: { x0: 0, y0: 0, x1: 12, y1: 8 }, rgb: [0, 0, 255] },
]);
const PHOTOS: Record<string, Photo> = {
  'a.png': photo(1, [
    { patch: SHARED, rgb: [0, 255, 0] },
    { patch: { x0: 20, y0: 0, x1: 32, y1: 12 }, rgb: [255, 0, 0] },
  ]),
  'c.png': photo(3, [{ patch: { x0: 0, y0: 0, x1: 16, y1: 16 }, rgb: [0, 0, 255] }]),
  'd.png': photo(4, [
    { patch: { x0: 8, y0: 16, x1: 24, y1: 24 }, rgb: [0, 255, 0] },
    { patch: { x0: 24, y0: 24, x1: 32, y1: 32 }, rgb: [255, 255, 255] },
  ]),
};

let q: QueueFixture;
let dir: string;
let worker: WorkerProcess;
const at = (name: string) => join(dir, name);
const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

async function png(path: string, image: Photo) {
  await sharp(Buffer.from(image.data), { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .png()
    .toFile(path);
}

beforeAll(async () => {
  q = await queueFixture('queue-reference', 1);
  dir = q.dir;
  await writeFile(at('embed.onnx'), encodeModel(embedderProto()));
  await writeFile(at('embed.json'), JSON.stringify({ task: 'embed', mean: [0], std: [1] }));
  await mkdir(at('pictures'));
  for (const [name, image] of Object.entries(PHOTOS)) await png(at(`pictures/${name}`), image);
  await png(at('ref.png'), B);
  const vector = Float32Array.from(embedding(B));
  await writeFile(at('ref.npy'), encodeNpy(vector, [1, vector.length]));
  await writeFile(at('other.npy'), encodeNpy(Float32Array.from(embedding(PHOTOS['c.png'])), [192]));
  await writeFile(at('short.npy'), encodeNpy(vector.subarray(0, 100), [100]));
  await writeFile(at('matrix.npy'), encodeNpy(vector, [2, 96]));
  const nan = Float32Array.from(vector);
  nan[5] = Number.NaN;
  await writeFile(at('nan.npy'), encodeNpy(nan, [192]));
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

const MODEL = () => ['--model', at('embed.onnx')];
const withoutTime = ({ seconds: _, ...row }: AuditRow) => row;
const cosineOf = (row: AuditRow) => (row.target?.description as { cosine?: number } | undefined)?.cosine;

describe('sightline audit --queue --reference', () => {
  // First, while no worker runs: the jobs can be read in Redis, and the file changed before any is taken.
  it('names the reference in each job by path and hash, and refuses the file once it has changed', async () => {
    await copyFile(at('ref.npy'), at('moving.npy'));
    const hash = await sha256(at('moving.npy'));
    const out = at('changed');
    const coordinator = startCoordinator([
      at('pictures'),
      ...MODEL(),
      '--reference',
      at('moving.npy'),
      '--method',
      'gradient',
      '--attempts',
      '1',
      '--out',
      out,
      '--queue',
      q.redis.url,
    ]);
    const connection = q.redis.client();
    const jobs = new Queue('sightline-audit', { connection });
    try {
      await until(async () => (await jobs.getWaitingCount()) === 3, 30_000, 'three jobs waiting');
      for (const job of await jobs.getWaiting()) {
        expect(job.data.settings.reference).toEqual({ path: at('moving.npy'), sha256: hash });
        // 192 numbers as JSON would be about 3.5 KB in every job; the path and hash are about 100 bytes.
        expect(JSON.stringify(job.data).length).toBeLessThan(1000);
      }
    } finally {
      await jobs.close();
      connection.disconnect();
    }
    await copyFile(at('other.npy'), at('moving.npy'));
    const changed = await sha256(at('moving.npy'));
    worker = q.worker();
    const result = await coordinator.exit;
    expect(result.code, result.stderr).toBe(0);
    const rows = await journalRows(out);
    expect(rows.map((r) => r.file).sort()).toEqual(['a.png', 'c.png', 'd.png']);
    for (const row of rows) {
      expect(row.status).toBe('error');
      expect(row.error?.message).toBe(
        `The reference '${at('moving.npy')}' has SHA-256 ${changed}, not the ${hash} its run was started with (the file changed since, or the job was altered); expected the same, unchanged file on every machine.`,
      );
    }
  }, 120_000);

  it.each([
    ['ref.png', 'image'],
    ['ref.npy', 'vector'],
  ])(
    'with --reference %s gives the rows of a local audit, each the cosine to the reference',
    async (reference, kind) => {
      const args = [at('pictures'), ...MODEL(), '--reference', at(reference), '--method', 'grad-cam'];
      const localOut = at(`local-${kind}`);
      const local = await runCli(['audit', ...args, '--out', localOut]);
      expect(local.code, local.stderr).toBe(0);
      const queuedOut = at(`queued-${kind}`);
      const queued = await runCli(['audit', ...args, '--out', queuedOut, '--queue', q.redis.url]);
      expect(queued.code, queued.stderr).toBe(0);
      expect(queued.stdout).toBe(local.stdout.replaceAll(localOut, queuedOut));
      const localRows = await resultsOf(localOut);
      const queuedRows = await resultsOf(queuedOut);
      expect(queuedRows.map(withoutTime)).toEqual(localRows.map(withoutTime));
      expect(queuedRows).toHaveLength(3);
      for (const row of queuedRows) {
        expect(row.status, row.error?.message).toBe('ok');
        expect(row.target?.description).toMatchObject({
          kind: 'similarity',
          reference: kind,
          dimensions: 192,
        });
        const expected = cosine(embedding(PHOTOS[row.file]), embedding(B));
        expect(cosineOf(row)).toBeCloseTo(expected, 6);
      }
      // A closed form besides: a.png shares 4 (of 6.25 and 5.5, squared norms) with the reference.
      expect(cosineOf(queuedRows.find((r) => r.file === 'a.png') as AuditRow)).toBeCloseTo(
        4 / (Math.sqrt(6.25) * Math.sqrt(5.5)),
        6,
      );
    },
    120_000,
  );
});

describe('sightline audit --queue on an embedding model without --reference', () => {
  it('refuses as a local audit does, enqueuing nothing', async () => {
    const r = await runCli([
      'audit',
      at('pictures'),
      ...MODEL(),
      '--out',
      at('none'),
      '--queue',
      q.redis.url,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'An embedding model is audited against a reference: --reference other.jpg (a photo, embedded by the same model) or --reference vector.npy',
    );
    expect(r.stderr).not.toContain('Queue:');
  }, 60_000);
});

describe('sightline evaluate --queue --reference', () => {
  it('writes the evaluation of a local run, its curves following the cosine to the reference', async () => {
    const args = (out: string) => [
      'evaluate',
      at('pictures'),
      ...MODEL(),
      '--reference',
      at('ref.npy'),
      '--methods',
      'gradient,occlusion',
      '--out',
      out,
    ];
    const evaluation = async (out: string) => {
      const json = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
      for (const image of json.images) for (const m of image.methods) delete m.seconds;
      json.images.sort((a: { file: string }, b: { file: string }) => a.file.localeCompare(b.file));
      return json;
    };
    const local = await runCli(args(at('eval-local')));
    expect(local.code, local.stderr).toBe(0);
    const queued = await runCli([...args(at('eval-queued')), '--queue', q.redis.url]);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toBe(local.stdout.replaceAll(at('eval-local'), at('eval-queued')));
    const expected = await evaluation(at('eval-local'));
    const got = await evaluation(at('eval-queued'));
    expect(got).toEqual(expected);
    expect(got.images).toHaveLength(3);
    for (const image of got.images) {
      expect(image.target.description).toMatchObject({ kind: 'similarity', reference: 'vector' });
      expect(image.target.description.cosine).toBeCloseTo(
        cosine(embedding(PHOTOS[image.file]), embedding(B)),
        6,
      );
    }
  }, 120_000);
});

describe('a worker given tampered reference jobs', () => {
  it('turns a wrong hash, a path outside --root and a bad vector into error rows in words', async () => {
    const results = 'sightline-results-fedcba9876543210';
    const { jobs, sent, close } = untrustedJobs(q.redis.client(), results);
    const settings = {
      model: at('embed.onnx'),
      hints: { mean: [0], std: [1], task: 'embed' },
      method: 'gradient',
      options: {},
      topK: 5,
      tolerance: 15,
      faithfulness: false,
    };
    const source = at('pictures/a.png');
    const job = async (name: string, reference: Record<string, unknown>) =>
      jobs.add(
        name,
        { v: 1, results, attempts: 1, settings: { ...settings, reference }, image: { file: name, source } },
        { jobId: `tampered-${name}` },
      );
    const file = async (name: string) => ({ path: at(name), sha256: await sha256(at(name)) });
    await job('fine', await file('ref.npy'));
    await job('wrong-hash', { path: at('ref.npy'), sha256: '0'.repeat(64) });
    await job('not-a-hash', { path: at('ref.npy'), sha256: 'ABC' });
    await job('relative', { path: 'ref.npy', sha256: (await file('ref.npy')).sha256 });
    await job('outside', { path: '/etc/hostname', sha256: '0'.repeat(64) });
    await job('nan', await file('nan.npy'));
    await job('short', await file('short.npy'));
    await job('matrix', await file('matrix.npy'));
    await jobs.add(
      'evaluate',
      {
        v: 1,
        kind: 'evaluate',
        results,
        attempts: 1,
        settings: {
          model: settings.model,
          hints: settings.hints,
          methods: ['gradient'],
          metrics: ['deletion'],
          options: {},
          curveSteps: null,
          sanityBlocks: null,
          reference: { path: at('ref.npy'), sha256: '0'.repeat(64) },
        },
        image: { file: 'evaluate', source },
      },
      { jobId: 'tampered-evaluate' },
    );
    try {
      await until(async () => (await sent()).length === 9, 60_000, 'nine results');
      const byFile = new Map((await sent()).map((d) => [d.file as string, d]));
      const message = (name: string) => (byFile.get(name)?.row as AuditRow | undefined)?.error?.message;
      const fine = byFile.get('fine')?.row as AuditRow;
      expect(fine.status, fine.error?.message).toBe('ok');
      expect(cosineOf(fine)).toBeCloseTo(cosine(embedding(PHOTOS['a.png']), embedding(B)), 6);
      expect(message('wrong-hash')).toBe(
        `The reference '${at('ref.npy')}' has SHA-256 ${(await file('ref.npy')).sha256}, not the ${'0'.repeat(64)} its run was started with (the file changed since, or the job was altered); expected the same, unchanged file on every machine.`,
      );
      expect(message('not-a-hash')).toBe(
        "A malformed queue job: 'settings.reference.sha256' is not a SHA-256 (64 lowercase hex digits).",
      );
      expect(message('relative')).toBe(
        "A malformed queue job: 'settings.reference.path' is not an absolute path.",
      );
      expect(message('outside')).toContain(
        "The reference '/etc/hostname' is outside the folders this worker may read",
      );
      expect(message('nan')).toBe('The reference vector holds NaN at position 5; expected finite numbers.');
      expect(message('short')).toBe("The reference vector has 100 numbers; this model's embedding has 192.");
      expect(message('matrix')).toBe(
        `The reference '${at('matrix.npy')}' is an array of shape [2, 96]; expected one vector ([D] or [1, D]).`,
      );
      expect(byFile.get('evaluate')?.skipped).toMatch(
        /^The reference '.*ref\.npy' has SHA-256 [0-9a-f]{64}, not/,
      );
      expect(worker.child.exitCode).toBe(null);
    } finally {
      await close();
    }
  }, 120_000);
});
