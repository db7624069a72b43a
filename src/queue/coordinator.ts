// The coordinator of a queued audit: enqueues one job per image (its id fixed by the settings and the image, so
// enqueuing again adds nothing), and takes the rows back from the audit's own results queue as workers finish
// them. A result leaves Redis only once `keep` has written it (a BullMQ job completed after its processor
// returns), so killing the coordinator loses nothing: the rerun finds the results still queued.
import { hostname } from 'node:os';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DetectPictures } from '../audit/detect-pictures.js';
import { checkRow } from '../audit/row-check.js';
import type { RenderedPictures } from '../audit/row-pictures.js';
import type { AuditRow } from '../audit/types.js';
import { abortedError } from '../core/errors.js';
import { checkReachable, type RedisTarget } from './connection.js';
import {
  type AuditJob,
  type AuditResult,
  JOB_VERSION,
  JOBS_QUEUE,
  type JobImage,
  type JobPartners,
  type JobSettings,
  jobId,
  resultsQueueName,
  SHORTCUTS_JOB_VERSION,
} from './job.js';
import { detectPictures, picture } from './result-pictures.js';

/** What every queued run (audit or evaluate) shares: where, which images, how many at once, what to tell. */
export interface QueueRunBase {
  readonly target: RedisTarget;
  /** The images still without a result, in order. */
  readonly images: readonly JobImage[];
  /** The output folder's absolute path: with the settings it names the run's results queue. */
  readonly out: string;
  /** Times an image may stop a worker (or fail on one) before it becomes an error. Default 3. */
  readonly attempts?: number;
  /** Images enqueued and not yet written, at most (bounds Redis memory). Default 200. */
  readonly inFlight?: number;
  /** Seconds a result's lock lasts here; a killed coordinator's result is taken again after this. Default 10. */
  readonly lockSeconds?: number;
  readonly signal?: AbortSignal;
  /** Every few seconds: images written, live workers, images per second over the last minute. */
  onStatus?(status: QueueStatus): void;
  /** Told when images whose job and result Redis lost are enqueued again (how many). */
  onLost?(count: number): void;
  /** Told of a connection problem (redacted), at most every 10 s while it lasts. */
  onProblem?(message: string): void;
  /** Milliseconds between sweeps for lost jobs (default SWEEP_EVERY_MS). */
  readonly sweepMs?: number;
}

export interface QueueAuditRequest extends QueueRunBase {
  readonly settings: JobSettings;
  /** With settings.shortcuts: each image's swap partners (an image missing here has none). */
  readonly partners?: ReadonlyMap<string, JobPartners>;
  /** A detector's audit: every ok row must be a detector's, with its maps' pictures. */
  readonly detector?: boolean;
  /** Writes one row (and its pictures), once per image, in the order results arrive. */
  keep(row: AuditRow, pictures?: RenderedPictures | DetectPictures): Promise<void>;
}

/** A run of any kind: the settings that name it, a job's data per image, and what to do with each result. */
export interface QueueRun extends QueueRunBase {
  readonly settings: unknown;
  jobData(image: JobImage, results: string, attempts: number): unknown;
  /** What else an image's job carries beyond the settings and the image, for its id (queue/job.ts jobId). */
  jobExtra?(image: JobImage): unknown;
  /** Handles one image's result (untrusted: check it), once per image. */
  accept(file: string, result: Record<string, unknown>): Promise<void>;
}

export interface QueueStatus {
  readonly done: number;
  readonly total: number;
  /** Workers connected to the jobs queue; undefined where Redis does not list clients. */
  readonly workers?: number;
  readonly perSecond: number;
}

const STATUS_EVERY_MS = 2000;
/** How often the images enqueued and not yet written are checked for a job or result that Redis lost. */
export const SWEEP_EVERY_MS = 30_000;

/** An audit on the queue: rows checked as journal lines are, then kept (pictures first, then the row). */
export function auditOnQueue(request: QueueAuditRequest): Promise<void> {
  const { partners } = request;
  const shortcuts = request.settings.shortcuts !== undefined;
  const partnersOf = (image: JobImage) => partners?.get(image.file) ?? {};
  return runOnQueue({
    ...request,
    jobData: (image, results, attempts): AuditJob => ({
      v: shortcuts ? SHORTCUTS_JOB_VERSION : JOB_VERSION,
      results,
      attempts,
      settings: request.settings,
      image,
      ...(shortcuts ? { partners: partnersOf(image) } : {}),
    }),
    ...(shortcuts ? { jobExtra: partnersOf } : {}),
    async accept(file, result) {
      const { row, pictures } = readResult(file, result as unknown as AuditResult, request.detector === true);
      await request.keep(row, pictures);
    },
  });
}

export async function runOnQueue(request: QueueRun): Promise<void> {
  const { target, settings } = request;
  await checkReachable(target);
  const connection = target.connect();
  // Redis away (a restart, the network): ioredis reconnects on its own; the user hears of it every 10 s.
  let lastProblem = 0;
  connection.on('error', (error: Error) => {
    if (Date.now() - lastProblem < 10_000) return;
    lastProblem = Date.now();
    request.onProblem?.(`Redis at ${target.shown}: ${target.redact(error.message)}; reconnecting`);
  });
  const results = resultsQueueName(settings, request.out, hostname());
  const attempts = request.attempts ?? 3;
  const inFlight = request.inFlight ?? 200;
  const pending = new Map(request.images.map((image) => [image.file, image]));
  const total = pending.size;
  const jobs = new Queue(JOBS_QUEUE, { connection: connection as Redis });
  jobs.on('error', () => {});
  const rows = new Queue(results, { connection: connection as Redis });
  rows.on('error', () => {});
  /** Images enqueued and not yet written, with their jobs' data and options, for the sweep. */
  const enqueued = new Map<string, Parameters<Queue['addBulk']>[0][number]>();
  let finished = 0;
  let wake: () => void = () => {};
  const times: number[] = [];

  const allDone = new Promise<void>((resolve) => {
    if (pending.size === 0) resolve();
    wake = () => {
      if (pending.size === 0) resolve();
    };
  });
  let room: (() => void) | undefined;
  const lock = (request.lockSeconds ?? 10) * 1000;
  const collector = new Worker(
    results,
    async (job: Job) => {
      const result = job.data as Record<string, unknown> | null;
      const file = typeof result?.file === 'string' ? result.file : undefined;
      // A result for an image already written (a job redone after its result was sent) or not of this run.
      if (!result || file === undefined || !pending.has(file)) return;
      await request.accept(file, result);
      pending.delete(file);
      enqueued.delete(file);
      finished++;
      times.push(Date.now());
      room?.();
      wake();
    },
    {
      connection: connection as Redis,
      concurrency: 1,
      lockDuration: lock,
      stalledInterval: lock,
      name: `sightline-coordinator-${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}-${process.pid}`,
    },
  );
  collector.on('error', () => {});

  const started = Date.now();
  const status = async () => {
    // Only the last minute is kept: a day-long run does not hold a time per image.
    while (times.length > 0 && times[0] <= Date.now() - 60_000) times.shift();
    const recent = times;
    const window = Math.min(60, (Date.now() - started) / 1000);
    const workers = await jobs.getWorkersCount().catch(() => undefined);
    request.onStatus?.({
      done: finished,
      total,
      workers,
      perSecond: window > 0 ? recent.length / window : 0,
    });
  };
  const timer = setInterval(() => void status(), STATUS_EVERY_MS);
  // A Redis that lost data (a restart without AOF, a crash inside appendfsync's second) can lose a job or a
  // result: the image would never get a row. An image with neither its job nor its result in Redis, and still
  // unwritten (checked last: a result is removed only after its row is written), is enqueued again.
  let sweeping = false;
  const sweeper = setInterval(async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const lost = [];
      for (const [file, job] of enqueued) {
        const id = job.opts?.jobId as string;
        const held = (await jobs.getJobState(id)) !== 'unknown' || (await rows.getJobState(id)) !== 'unknown';
        if (!held && pending.has(file)) lost.push(job);
      }
      if (lost.length > 0) {
        request.onLost?.(lost.length);
        await jobs.addBulk(lost);
      }
    } catch {
      // Redis away: the next sweep tries again.
    } finally {
      sweeping = false;
    }
  }, request.sweepMs ?? SWEEP_EVERY_MS);
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(abortedError());
    if (request.signal?.aborted) stop();
    request.signal?.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => {});
  try {
    const enqueue = async () => {
      const images = [...request.images];
      let sent = 0;
      while (sent < images.length) {
        // Enqueued and not yet written stays under inFlight, so Redis holds a window, not the dataset.
        while (sent - finished >= inFlight) await new Promise<void>((resolve) => (room = resolve));
        const chunk = images.slice(sent, sent + Math.min(100, inFlight - (sent - finished)));
        const batch = chunk.map((image) => {
          const job = {
            name: 'image',
            data: request.jobData(image, results, attempts),
            opts: {
              jobId: jobId(results, image, request.jobExtra?.(image)),
              attempts,
              backoff: { type: 'exponential' as const, delay: 1000 },
              removeOnComplete: true,
              removeOnFail: { count: 1000 },
            },
          };
          if (pending.has(image.file)) enqueued.set(image.file, job);
          return job;
        });
        await jobs.addBulk(batch);
        sent += chunk.length;
      }
    };
    await Promise.race([Promise.all([enqueue(), allDone]), aborted]);
    await status();
  } finally {
    clearInterval(timer);
    clearInterval(sweeper);
    await collector.close();
    await jobs.close();
    await rows.close();
    connection.disconnect();
  }
}

/**
 * A result's row, checked as a journal line is (a result is untrusted), with its pictures. A detector's audit
 * (`detector`) takes only detector rows, each ok one with its maps; any other audit takes none.
 */
function readResult(
  file: string,
  result: AuditResult,
  detector: boolean,
): { row: AuditRow; pictures?: RenderedPictures | DetectPictures } {
  const checked = checkRow(result.row);
  const refuse = (problem: string): { row: AuditRow } => ({
    row: {
      file,
      status: 'error',
      error: { code: 'BAD_RESULT', message: `A worker sent a malformed result for this image: ${problem}.` },
      seconds: 0,
    },
  });
  if ('problem' in checked) return refuse(checked.problem);
  const row = checked.row;
  if (row.file !== file) return refuse("the row's 'file' is not the image's");
  if (!detector && row.detect)
    return refuse("the row has a detector's 'detect' part; this audit's model is no detector");
  if (row.status !== 'ok') return { row };
  if (detector) {
    const read = detectPictures(row, result);
    return 'problem' in read ? refuse(read.problem) : { row, pictures: read.pictures };
  }
  if (result.overlay === undefined && result.thumbnail === undefined) return { row };
  const overlay = picture(result.overlay);
  const thumbnail = picture(result.thumbnail);
  if (!overlay || !thumbnail) return refuse('its pictures are not WebP files of a sensible size');
  return { row, pictures: { overlay, thumbnail } };
}
