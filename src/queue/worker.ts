// A queue worker: takes audit jobs (and evaluate jobs, queue/evaluate-job.ts) from Redis, runs each image
// through the local code (auditImages and renderRowPictures, auditDetections and renderDetectPictures for a
// detector; evaluateImage) and hands the result to the run's results queue. Models are loaded once per
// reference and kept. BullMQ redoes a job whose worker died (its lock
// expires: "stalled"); a job whose worker died at work on it `attempts` times (queue/lanes.ts) is not tried
// again but becomes an error row (a skipped image), so one poison image cannot stop a fleet.
import { hostname } from 'node:os';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type AuditItem, auditImages, errorRow } from '../audit/audit.js';
import { auditDetections } from '../audit/detect.js';
import { type DetectPictures, renderDetectPictures } from '../audit/detect-pictures.js';
import { type RenderedPictures, renderRowPictures } from '../audit/row-pictures.js';
import type { AuditRow } from '../audit/types.js';
import { SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { noiseTunnel } from '../methods/gradient/noise-tunnel.js';
import { type AnyMethod, getMethod } from '../methods/registry.js';
import type { ModelHints } from '../models/spec.js';
import { checkReachable, type RedisTarget } from './connection.js';
import {
  checkEvaluateJob,
  type EvaluateJob,
  type EvaluateResult,
  evaluateJob,
  isEvaluateJob,
} from './evaluate-job.js';
import {
  jobRegionMask,
  loadJobImage,
  ModelCache,
  openModel,
  openReference,
  ReferenceCache,
  readJobImageAhead,
} from './inputs.js';
import {
  type AuditJob,
  type AuditResult,
  checkAuditJob,
  fileOfJob,
  JOBS_QUEUE,
  type JobSettings,
  MAX_RESULT_MAPS,
} from './job.js';
import { beginWork, deathsAtWork, Lanes } from './lanes.js';
import { jobShortcuts } from './shortcut-job.js';

export interface WorkerOptions {
  readonly target: RedisTarget;
  /**
   * Images in their model passes at once (default 1; one model call already uses the threads ONNX Runtime is
   * given), as `sightline audit --concurrency`. Twice as many jobs are held: while one image is in the model,
   * the next is fetched and decoded and the last one's pictures are drawn and sent (JOBS_PER_LANE).
   */
  readonly concurrency?: number;
  /** Real paths of the folders jobs may name files in (images, masks, models, labels, references). */
  readonly roots: readonly string[];
  /** Seconds a job's lock lasts without renewal; a dead worker's job is redone after about this long. */
  readonly lockSeconds?: number;
  /** Opens a model (the CLI's loader, which prints its notes); kept and reused for every job that names it. */
  loadModel(ref: string, hints: ModelHints): Promise<Model>;
  /** One line for the log, already redacted. */
  log(line: string): void;
}

export interface RunningWorker {
  /** Stops taking jobs, finishes the ones running, hands back nothing unfinished, and closes everything. */
  close(): Promise<void>;
}

/**
 * Jobs held per model lane. With one, the model would idle while a job's pictures are drawn and its result
 * sent to Redis (a third of the time of a small model's job); with two, that work overlaps the next job's
 * model passes, as the local audit's lanes (audit/audit.ts inLanes) overlap them.
 */
const JOBS_PER_LANE = 2;

/** Results queues kept open at once (one per audit this worker has served). */
const RESULT_QUEUES_KEPT = 16;

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { target } = options;
  await checkReachable(target);
  const connection = target.connect();
  connection.on('error', rateLimitedLog(options, 'Redis'));
  const models = new ModelCache(options.loadModel);
  const references = new ReferenceCache();
  const lanes = new Lanes(options.concurrency ?? 1);
  const results = new Map<string, Queue>();
  const resultsQueue = (name: string) => {
    let queue = results.get(name);
    if (!queue) {
      // A long-lived worker serves audit after audit: only the most recent results queues stay open.
      if (results.size >= RESULT_QUEUES_KEPT) {
        const [oldest, open] = results.entries().next().value as [string, Queue];
        results.delete(oldest);
        void open.close().catch(() => {});
      }
      queue = new Queue(name, { connection: connection as Redis });
      queue.on('error', rateLimitedLog(options, 'results queue'));
      results.set(name, queue);
    }
    return queue;
  };
  const lockDuration = (options.lockSeconds ?? 30) * 1000;
  const worker = new Worker(
    JOBS_QUEUE,
    async (job: Job) => {
      const result = await runJob(job, options, models, references, lanes);
      if (!result) return;
      const { results: name, payload } = result;
      // The same id as the job: a job redone after its result was sent adds nothing, and the coordinator
      // writes each file once however often a result arrives.
      await resultsQueue(name).add('row', payload, {
        jobId: job.id,
        removeOnComplete: true,
        removeOnFail: true,
        attempts: 5,
      });
    },
    {
      connection: connection as Redis,
      concurrency: JOBS_PER_LANE * (options.concurrency ?? 1),
      lockDuration,
      stalledInterval: lockDuration,
      // Attempts are counted by the job itself (AuditJob.attempts), which turns the last one into an error row;
      // BullMQ's own limit, which would only fail the job silently, is set out of the way.
      maxStalledCount: 1000,
      // Redis client names take no spaces (CLIENT SETNAME); they are how getWorkers counts live workers.
      name: `sightline-${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}-${process.pid}`,
    },
  );
  worker.on('error', rateLimitedLog(options, 'worker'));
  worker.on('failed', (job, error) => {
    if (job)
      options.log(
        target.redact(`job for '${fileOfJob(job.data) ?? job.id}' failed, will retry: ${error.message}`),
      );
  });
  return {
    async close() {
      await worker.close();
      for (const queue of results.values()) await queue.close();
      await models.dispose();
      connection.disconnect();
    },
  };
}

/** An evaluation job's result: the image measured, or why it was skipped (as the local evaluation says). */
async function runEvaluateJob(
  job: Job,
  options: WorkerOptions,
  models: ModelCache,
  references: ReferenceCache,
  lanes: Lanes,
  data: EvaluateJob,
): Promise<{ results: string; payload: EvaluateResult }> {
  const { file } = data.image;
  const deaths = deathsAtWork(job);
  if (deaths >= data.attempts)
    return {
      results: data.results,
      payload: {
        file,
        skipped: `the worker measuring this image stopped ${deaths} times (killed, out of memory or crashed) without finishing it; it is not tried again`,
      },
    };
  try {
    // An evaluation is model passes through and through: the lane is held for all of it.
    const release = await beginWork(job, lanes);
    try {
      return { results: data.results, payload: await evaluateJob(data, options.roots, models, references) };
    } finally {
      release();
    }
  } catch (error) {
    if (job.attemptsMade + 1 < data.attempts) throw error;
    return { results: data.results, payload: { file, skipped: (error as Error).message } };
  }
}

/** One job's row and pictures, ready for its results queue; undefined for a job with nowhere to send a row. */
async function runJob(
  job: Job,
  options: WorkerOptions,
  models: ModelCache,
  references: ReferenceCache,
  lanes: Lanes,
): Promise<{ results: string; payload: AuditResult | EvaluateResult } | undefined> {
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  let data: AuditJob;
  const evaluating = isEvaluateJob(job.data);
  try {
    if (evaluating)
      return await runEvaluateJob(job, options, models, references, lanes, checkEvaluateJob(job.data));
    data = checkAuditJob(job.data);
  } catch (error) {
    if (!(error instanceof SightlineError) || !/^A malformed queue job/.test(error.message)) throw error;
    const file = fileOfJob(job.data);
    const results = (job.data as { results?: unknown })?.results;
    options.log(
      options.target.redact(
        `job ${job.id}${file ? ` for '${file}'` : ''} refused: ${(error as Error).message}`,
      ),
    );
    // A row for the image it names, when it names one and a results queue of the right form.
    if (!file || typeof results !== 'string' || !/^sightline-results-[0-9a-f]{16}$/.test(results)) return;
    const payload = evaluating
      ? { file, skipped: error.message }
      : { file, row: errorRow(file, error, {}, seconds()) };
    return { results, payload };
  }
  const { file } = data.image;
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const reply = (row: AuditRow, pictures?: RenderedPictures | DetectPictures) => ({
    results: data.results,
    payload: {
      file,
      row,
      ...(pictures ? { overlay: base64(pictures.overlay), thumbnail: base64(pictures.thumbnail) } : {}),
      ...(pictures && 'maps' in pictures
        ? { maps: Object.fromEntries([...pictures.maps].map(([key, bytes]) => [key, base64(bytes)])) }
        : {}),
    },
  });
  // A worker that died at work on this image (killed, out of memory, crashed in native code).
  const deaths = deathsAtWork(job);
  if (deaths >= data.attempts) {
    return reply({
      file,
      status: 'error',
      error: {
        code: 'WORKER_LOST',
        message: `The worker auditing this image stopped ${deaths} times (killed, out of memory or crashed) without finishing it; it is not tried again.`,
      },
      seconds: 0,
    });
  }
  try {
    const { row, pictures } = await auditOne(job, data, options, models, references, lanes);
    return reply(row, pictures);
  } catch (error) {
    // Errors here are this worker's (a model it cannot load, say), not the image's: another try may work,
    // until the last, which records why.
    if (job.attemptsMade + 1 < data.attempts) throw error;
    return reply(errorRow(file, error, {}, seconds()));
  }
}

/**
 * The local audit of one image: the same auditImages (auditDetections for a detector) and picture rendering as
 * `sightline audit`. The image holds a model lane from its model's loading to its row, as in a local audit's
 * lanes; its pictures are drawn after, beside the next image's model passes.
 */
async function auditOne(
  job: Job,
  data: AuditJob,
  options: WorkerOptions,
  models: ModelCache,
  references: ReferenceCache,
  lanes: Lanes,
): Promise<{ row: AuditRow; pictures?: RenderedPictures | DetectPictures }> {
  const { settings, image } = data;
  const ahead = readJobImageAhead(image, options.roots);
  const release = await beginWork(job, lanes);
  let out: { row: AuditRow; pictures?: RenderedPictures | DetectPictures } | undefined;
  try {
    // Inside the work: a model whose loading kills the worker counts against the image like any other death.
    const model = await openModel(settings, options.roots, models);
    const reference = await openReference(settings.reference, options.roots, references);
    const method = methodOf(settings);
    const load = () => loadJobImage(image, options.roots, ahead);
    if (model.spec.task === 'detect') {
      const objects = image.objects;
      await auditDetections([{ file: image.file, load, objects: objects && (async () => objects) }], {
        model,
        method,
        options: settings.options,
        detections: settings.detections,
        concurrency: 1,
        async onRow(row, result) {
          release();
          if (result && result.maps.length > MAX_RESULT_MAPS)
            out = { row: tooManyMaps(row, result.maps.length) };
          else
            out = {
              row,
              pictures: result ? await renderDetectPictures(row, result, method.title) : undefined,
            };
        },
      });
    } else {
      const item: AuditItem = {
        file: image.file,
        load,
        label: image.label,
        regionMask: image.regions
          ? (width, height) => jobRegionMask(image, options.roots, width, height)
          : undefined,
      };
      const shortcuts = jobShortcuts(model, data, options.roots);
      await auditImages([item], {
        model,
        method,
        options: settings.options,
        topK: settings.topK,
        tolerance: settings.tolerance,
        faithfulness: settings.faithfulness,
        reference,
        concurrency: 1,
        ...(shortcuts ? { shortcuts } : {}),
        async onRow(row, result) {
          release();
          out = { row, pictures: result ? await renderRowPictures(result, row, method.title) : undefined };
        },
      });
    }
  } finally {
    release();
  }
  // auditImages and auditDetections call onRow once per item, error or not.
  return out as { row: AuditRow; pictures?: RenderedPictures | DetectPictures };
}

/**
 * A detector's row with more maps than a result carries (a photo with many missed objects: their overlays
 * would take megabytes of Redis) becomes an error row that says how to audit the image instead.
 */
function tooManyMaps(row: AuditRow, maps: number): AuditRow {
  const error = new SightlineError(
    'INVALID_ARGUMENT',
    `This image's row has ${maps} maps (explained detections and missed objects), over the ${MAX_RESULT_MAPS} a queued result carries; audit it without --queue, or with a lower --detections.`,
    { maps },
  );
  return errorRow(
    row.file,
    error,
    { width: row.width, height: row.height, task: 'detect' },
    row.seconds ?? 0,
  );
}

function methodOf(settings: JobSettings): AnyMethod {
  const base = getMethod(settings.method);
  return settings.noiseTunnel ? noiseTunnel(base, settings.noiseTunnel) : base;
}

/** Logs connection errors at most once per 5 s each: a Redis restart must not flood the log. */
function rateLimitedLog(options: WorkerOptions, what: string): (error: Error) => void {
  let last = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 5000) return;
    last = now;
    options.log(options.target.redact(`${what}: ${error.message}`));
  };
}
