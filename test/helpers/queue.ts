// What the queue tests share: a private redis-server with a small watermark dataset (as in audit.test.ts),
// worker processes of the built CLI, and reading an audit's journal.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import sharp from 'sharp';
import type { AuditRow } from '../../src/audit/types.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { patchModelProto } from './analytic.js';
import { CLI, type CliResult, watch } from './cli.js';
import { type RedisOptions, startRedis, type TestRedis } from './redis.js';
import { writeCocoBoxes } from './watermark.js';

export const SIZE = 64;
const WATERMARK = { x0: 0, y0: 0, x1: 8, y1: 8 };
export const OBJECT = { x: 24, y: 24, width: 16, height: 16 };

/** A watermark model, its class names, and `count` photos with a COCO regions file, under `dir`. */
export async function watermarkAudit(
  dir: string,
  count: number,
): Promise<{ folder: string; regions: string; modelArgs: string[] }> {
  const model = join(dir, 'watermark.onnx');
  await writeFile(model, encodeModel(patchModelProto(WATERMARK, { dims: ['N', 3, SIZE, SIZE] })));
  const classNames = join(dir, 'classes.txt');
  await writeFile(classNames, 'watermarked\nclean\n');
  const folder = join(dir, 'photos');
  await mkdir(folder, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const data = Buffer.alloc(SIZE * SIZE * 3, 90);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const p = (y * SIZE + x) * 3;
        if (x >= OBJECT.x && x < OBJECT.x + OBJECT.width && y >= OBJECT.y && y < OBJECT.y + OBJECT.height)
          data.fill(230 - i, p, p + 3);
        if (x < WATERMARK.x1 && y < WATERMARK.y1) data.fill((20 + 10 * i) % 256, p, p + 3);
      }
    const file = `img${String(i).padStart(2, '0')}.png`;
    files.push(file);
    await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .png()
      .toFile(join(folder, file));
  }
  const regions = await writeCocoBoxes(join(dir, 'regions.json'), files, OBJECT);
  return {
    folder,
    regions,
    modelArgs: ['--model', model, '--mean', '0', '--std', '1', '--class-names', classNames],
  };
}

export interface WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  output(): { stdout: string; stderr: string };
  readonly exit: Promise<CliResult>;
}

/** A `sightline worker` process. */
export function startWorker(url: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, ...args], {
    env: { ...process.env, ...env },
  });
  const watched = watch(child);
  return { child, ...watched };
}

/** Spawns the coordinator (sightline audit --queue …) without waiting for it. */
export function startCoordinator(args: string[], env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn(process.execPath, [CLI, 'audit', ...args], { env: { ...process.env, ...env } });
  return { child, ...watch(child) };
}

/** The journal's rows (its header line left out), in the order they were written. */
export async function journalRows(out: string): Promise<AuditRow[]> {
  const text = await readFile(join(out, 'journal.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditRow);
}

/** results.jsonl's rows, in the audit's order. */
export async function resultsOf(out: string): Promise<AuditRow[]> {
  const text = await readFile(join(out, 'results.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
}

/**
 * Jobs written straight into Redis, as anyone who can write to it could, and the results queue they name:
 * `sent()` lists what workers sent back (waiting there, as no coordinator takes it), `rows()` the rows in it;
 * `close()` removes it all.
 */
export function untrustedJobs(connection: Redis, results: string) {
  const jobs = new Queue('sightline-audit', { connection });
  const rows = new Queue(results, { connection });
  return {
    jobs,
    async sent(): Promise<Record<string, unknown>[]> {
      return (await rows.getJobs(['wait'])).map((j) => j.data);
    },
    async rows(): Promise<AuditRow[]> {
      return (await rows.getJobs(['wait'])).map((j) => j.data.row as AuditRow);
    },
    async close(): Promise<void> {
      await rows.obliterate({ force: true });
      await rows.close();
      await jobs.close();
      connection.disconnect();
    },
  };
}

/** Waits until `check` holds (polling), failing after `ms`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a worker as a service manager would (SIGTERM) and waits for it. */
export async function stopWorker(worker: WorkerProcess): Promise<CliResult> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  return worker.exit;
}

export interface QueueFixture {
  /** A temp folder: the watermark model and photos, and room for the test's outputs. */
  readonly dir: string;
  readonly redis: TestRedis;
  readonly data: Awaited<ReturnType<typeof watermarkAudit>>;
  /** Worker processes started through `worker`; `stop` stops them. */
  readonly workers: WorkerProcess[];
  /** Starts a worker on this Redis that may read everything under `dir`. */
  worker(args?: string[]): WorkerProcess;
  /** Stops the workers (SIGTERM), then Redis, and removes the folder. */
  stop(): Promise<void>;
}

/** What every queue test and the queue bench start with: a private redis-server and `count` watermark photos. */
export async function queueFixture(
  name: string,
  count: number,
  redisOptions: (dir: string) => Promise<RedisOptions> = async () => ({}),
): Promise<QueueFixture> {
  const dir = await mkdtemp(join(tmpdir(), `sightline-${name}-`));
  const redis = await startRedis(await redisOptions(dir));
  const data = await watermarkAudit(dir, count);
  const workers: WorkerProcess[] = [];
  return {
    dir,
    redis,
    data,
    workers,
    worker(args = []) {
      const w = startWorker(redis.url, ['--root', dir, ...args]);
      workers.push(w);
      return w;
    },
    async stop() {
      await Promise.all(workers.splice(0).map(stopWorker));
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The queue tests' slow audit: RISE with `masks` masks (1000: about half a second an image here). */
export function riseAuditArgs(data: QueueFixture['data'], out: string, masks = 1000): string[] {
  return [
    data.folder,
    ...data.modelArgs,
    '--method',
    'rise',
    '--masks',
    String(masks),
    '--seed',
    '1',
    '--out',
    out,
  ];
}
