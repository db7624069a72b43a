// `sightline evaluate … --queue redis://…`: the images measured by workers (src/queue/evaluate-job.ts) instead
// of here; each result comes back to the same list and the same evaluation.json as a local run, written after
// every image, so a stopped run resumes alike.
import { resolve } from 'node:path';
import type { DetectObject, ImageRegions } from '../audit/types.js';
import { SightlineError } from '../core/errors.js';
import type { MethodOptions } from '../core/method.js';
import { capText } from '../core/text.js';
import { isHttpUrl } from '../core/url.js';
import type { ImageEvaluation, MetricName } from '../evaluate/evaluate.js';
import { checkEvaluation } from '../evaluate/evaluation-check.js';
import type { ModelHints } from '../models/spec.js';
import { redisTarget } from '../queue/connection.js';
import { runOnQueue } from '../queue/coordinator.js';
import type { EvaluateJob, EvaluateSettings } from '../queue/evaluate-job.js';
import { JOB_VERSION, type JobImage, type JobReference, jobRegions } from '../queue/job.js';
import { refuseLocalOnly } from './audit-queue.js';
import { printError, safeName } from './print.js';

export interface EvaluateQueueContext {
  readonly model: string;
  readonly hints: ModelHints;
  readonly methods: readonly string[];
  readonly metrics: readonly MetricName[];
  readonly options: Readonly<Record<string, MethodOptions>>;
  readonly curveSteps?: number;
  readonly sanityBlocks?: number;
  readonly target?: string;
  /** An embedding model's reference: its absolute path and the SHA-256 of the bytes read here. */
  readonly reference?: JobReference;
  /** The images to measure: their name in the results and their absolute path. */
  readonly images: readonly { file: string; path: string }[];
  regions(file: string): ImageRegions | undefined;
  /** A detector's ground-truth objects in the image, sent instead of its regions (none without ground truth). */
  objects?(file: string): readonly DetectObject[];
  readonly out: string;
  readonly inFlight: number;
  readonly attempts: number;
  readonly signal: AbortSignal;
  measured(evaluation: ImageEvaluation): Promise<void>;
  skipped(file: string, reason: string): Promise<void>;
}

export async function evaluateOnQueue(url: string, context: EvaluateQueueContext): Promise<void> {
  const target = redisTarget(url);
  refuseLocalOnly('evaluation', { http: context.hints.http });
  const settings: EvaluateSettings = JSON.parse(
    JSON.stringify({
      model: context.model === 'default' || isHttpUrl(context.model) ? context.model : resolve(context.model),
      hints: context.hints,
      methods: context.methods,
      metrics: context.metrics,
      options: context.options,
      curveSteps: context.curveSteps ?? null,
      sanityBlocks: context.sanityBlocks ?? null,
      ...(context.target !== undefined ? { target: context.target } : {}),
      ...(context.reference !== undefined ? { reference: context.reference } : {}),
    }),
  );
  const images: JobImage[] = [];
  for (const { file, path } of context.images) {
    let objects: readonly DetectObject[] | undefined;
    try {
      objects = context.objects?.(file);
    } catch (error) {
      // Ground truth naming the image ambiguously: skipped with the reason, as the local evaluation skips it.
      if (!(error instanceof SightlineError)) throw error;
      await context.skipped(file, error.message);
      continue;
    }
    images.push({ file, source: path, ...(objects ? { objects } : jobRegions(context.regions(file))) });
  }
  printError(
    `Queue: ${images.length} image${images.length === 1 ? '' : 's'} for the workers on ${target.shown}.\n`,
  );
  let done = 0;
  await runOnQueue({
    target,
    settings: { evaluate: settings },
    images,
    out: context.out,
    attempts: context.attempts,
    inFlight: context.inFlight,
    signal: context.signal,
    jobData: (image, results, attempts): EvaluateJob => ({
      v: JOB_VERSION,
      kind: 'evaluate',
      results,
      attempts,
      settings,
      image,
    }),
    async accept(file, result) {
      done++;
      const prefix = `[${done}/${images.length}] `;
      // A result is untrusted: one that is not an evaluation of this image is recorded as a skip, saying so.
      const checked = result.evaluation === undefined ? undefined : checkEvaluation(result.evaluation);
      if (checked && 'evaluation' in checked && checked.evaluation.file === file) {
        await context.measured(checked.evaluation);
        const noRegion = result.noRegion;
        // The local evaluation's line for a detection without an object to point at (capped: untrusted).
        if (typeof noRegion === 'string')
          printError(`${prefix}${safeName(file)}: no region metrics: ${safeName(capText(noRegion, 500))}.\n`);
        printError(`${prefix}${safeName(file)}: measured\n`);
        return;
      }
      const reason =
        typeof result.skipped === 'string'
          ? result.skipped
          : `a worker sent a malformed result for this image (${checked && 'problem' in checked ? checked.problem : 'not an evaluation of it'})`;
      await context.skipped(file, reason);
      printError(`${prefix}${safeName(file)}: skipped: ${safeName(reason)}\n`);
    },
    onProblem: (message) => printError(`sightline: warning: ${safeName(message)}\n`),
    onLost(count) {
      printError(
        `Queue: Redis lost the job or result of ${count} image${count === 1 ? '' : 's'}; enqueued again.\n`,
      );
    },
  });
}
