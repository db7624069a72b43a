// `sightline audit … --queue redis://…`: the coordinator's side in the CLI. Turns the audit's flags into the
// settings every job carries and its images into jobs, then lets src/queue/coordinator.ts run them; the rows
// come back to the same keepRow a local audit writes with, so journal and reports are the same.
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { errorRow, refuseMissingReference } from '../audit/audit.js';
import type { DetectPictures } from '../audit/detect-pictures.js';
import type { RenderedPictures } from '../audit/row-pictures.js';
import type { ShortcutConfig } from '../audit/shortcut-types.js';
import type { ShortcutTester } from '../audit/shortcuts.js';
import type { AuditRow, DetectObject, ImageRegions } from '../audit/types.js';
import { SightlineError } from '../core/errors.js';
import type { OptionValue } from '../core/method.js';
import type { ModelTask } from '../core/model.js';
import { isHttpUrl } from '../core/url.js';
import { passedOverError } from '../io/list-images.js';
import type { AnyMethod } from '../methods/registry.js';
import type { ModelHints } from '../models/spec.js';
import { redisTarget } from '../queue/connection.js';
import { auditOnQueue as runOnQueue } from '../queue/coordinator.js';
import {
  type JobImage,
  type JobPartner,
  type JobPartners,
  type JobReference,
  type JobSettings,
  type JobShortcutSettings,
  jobRegions,
  MAX_RESULT_MAPS,
} from '../queue/job.js';
import { type ModelFlags, modelHints } from './options.js';
import { printError, safeName } from './print.js';

export function addQueueOptions(cmd: Command): Command {
  return cmd
    .option(
      '--queue <redis-url>',
      'run on workers (sightline worker) through a BullMQ queue on this Redis: redis://[:password@]host:port/db, rediss:// for TLS, or env:VAR for a URL in that variable (passwords are never printed)',
    )
    .option(
      '--in-flight <n>',
      'queue: images enqueued and not yet written, at most (bounds Redis memory)',
      positiveInt,
      200,
    )
    .option(
      '--attempts <n>',
      'queue: times an image may stop a worker (or fail on one) before it becomes an error row',
      positiveInt,
      3,
    );
}

interface QueueFlags extends ModelFlags {
  model: string;
  classNames?: string;
  top: number;
  pointingTolerance: number;
  faithfulness?: boolean;
  detections: number;
  inFlight: number;
  attempts: number;
  out: string;
}

export interface QueueContext {
  readonly files: readonly string[];
  /** Where an image is read: an absolute path or an http(s) URL. */
  source(file: string): string;
  readonly passedOver: ReadonlyMap<string, string>;
  readonly method: AnyMethod;
  readonly options: Record<string, OptionValue>;
  readonly task: ModelTask;
  /** An embedding model's reference: its absolute path and the SHA-256 of the bytes read here. */
  readonly reference?: JobReference;
  label(file: string): string | undefined;
  regions(file: string): ImageRegions | undefined;
  /** A detector's ground-truth objects in the image (none when the audit has no ground truth). */
  objects?(file: string): readonly DetectObject[];
  readonly signal: AbortSignal;
  keepRow(row: AuditRow, pictures?: RenderedPictures | DetectPictures): Promise<void>;
  /** --shortcuts: its settings and the tester over every image with regions, whose choices the jobs carry. */
  readonly shortcuts?: { readonly config: ShortcutConfig; readonly tester: ShortcutTester };
}

export async function auditOnQueue(url: string, flags: QueueFlags, context: QueueContext): Promise<void> {
  const target = redisTarget(url);
  const detector = context.task === 'detect';
  refuseLocalOnly('audit', {
    http: modelHints(flags).http,
    ...(detector ? { detections: flags.detections } : {}),
  });
  // A local audit refuses this in auditImages, which here runs only on the workers: every job would fail there.
  refuseMissingReference(context.task, context.reference !== undefined);
  const settings: JobSettings = {
    model: flags.model === 'default' || isHttpUrl(flags.model) ? flags.model : resolve(flags.model),
    hints: JSON.parse(
      JSON.stringify(modelHints(flags, flags.classNames ? resolve(flags.classNames) : undefined)),
    ),
    // A noise tunnel's id is 'smoothgrad:<inner>'; the job names the inner method and the tunnel apart.
    method: flags.noiseTunnel ? context.method.id.slice(flags.noiseTunnel.length + 1) : context.method.id,
    ...(flags.noiseTunnel ? { noiseTunnel: flags.noiseTunnel } : {}),
    options: context.options,
    topK: flags.top,
    tolerance: flags.pointingTolerance,
    faithfulness: flags.faithfulness === true,
    ...(detector ? { detections: flags.detections } : {}),
    ...(context.reference ? { reference: context.reference } : {}),
  };
  const images: JobImage[] = [];
  for (const file of context.files) {
    const reason = context.passedOver.get(file);
    if (reason !== undefined) {
      // Not an image a worker could read: its row is written here, as a local audit writes it.
      await context.keepRow(errorRow(file, passedOverError(file, reason), {}, 0));
      continue;
    }
    const label = context.label(file);
    let objects: readonly DetectObject[] | undefined;
    try {
      objects = context.objects?.(file);
    } catch (error) {
      // Ground truth naming the image ambiguously: its error row, as the local audit writes one.
      if (!(error instanceof SightlineError)) throw error;
      await context.keepRow(errorRow(file, error, {}, 0));
      continue;
    }
    images.push({
      file,
      source: context.source(file),
      ...(label !== undefined ? { label } : {}),
      ...jobRegions(context.regions(file)),
      ...(objects ? { objects } : {}),
    });
  }
  printError(
    `Queue: ${images.length} image${images.length === 1 ? '' : 's'} for the workers on ${target.shown}.\n`,
  );
  // No image left (a finished audit run again): no job carries them, and the mean colour's pass is saved.
  const shortcuts = images.length > 0 ? context.shortcuts : undefined;
  let lastLine = 0;
  await runOnQueue({
    target,
    settings: shortcuts
      ? { ...settings, shortcuts: await shortcutSettings(shortcuts, context.signal) }
      : settings,
    detector,
    images,
    ...(shortcuts ? { partners: jobPartners(images, shortcuts.tester, context) } : {}),
    out: resolve(flags.out),
    attempts: flags.attempts,
    inFlight: flags.inFlight,
    signal: context.signal,
    keep: context.keepRow,
    onProblem: (message) => printError(`sightline: warning: ${safeName(message)}\n`),
    onLost(count) {
      printError(
        `Queue: Redis lost the job or result of ${count} image${count === 1 ? '' : 's'} (a restart without AOF?); enqueued again.\n`,
      );
    },
    onStatus(status) {
      // A line every 10 s at most: a log of a day-long run stays readable.
      if (Date.now() - lastLine < 10_000 && status.done < status.total) return;
      lastLine = Date.now();
      const workers =
        status.workers === undefined
          ? 'workers unknown'
          : `${status.workers} worker${status.workers === 1 ? '' : 's'} live`;
      printError(
        `Queue: ${status.done} of ${status.total} written, ${workers}, ${status.perSecond.toFixed(2)} images/s.\n`,
      );
    },
  });
}

/**
 * The shortcut settings every job carries. With background 'mean' the mean colour is over every image with
 * regions, which no worker reads: it is computed here once, as the local audit computes it.
 */
async function shortcutSettings(
  shortcuts: NonNullable<QueueContext['shortcuts']>,
  signal: AbortSignal,
): Promise<JobShortcutSettings> {
  if (shortcuts.config.background !== 'mean') return shortcuts.config;
  printError(
    'Queue: reading every image with regions once for the mean colour (--shortcut-background mean).\n',
  );
  return { ...shortcuts.config, meanColour: await shortcuts.tester.meanColour(signal) };
}

/** Each image's swap partners, as the local audit chooses them, by what a worker needs to cut their backgrounds. */
function jobPartners(
  images: readonly JobImage[],
  tester: ShortcutTester,
  context: QueueContext,
): Map<string, JobPartners> {
  // Partners are lenders of a background, so each has regions (ShortcutTester takes no other).
  const reference = (file: string): JobPartner => {
    const unreadable = context.passedOver.get(file);
    return {
      file,
      source: context.source(file),
      regions: jobRegions(context.regions(file)).regions as JobPartner['regions'],
      ...(unreadable !== undefined ? { unreadable } : {}),
    };
  };
  return new Map(
    images.map(({ file }) => {
      const { random, same } = tester.partnersOf(file);
      return [
        file,
        { ...(random ? { random: reference(random) } : {}), ...(same ? { same: reference(same) } : {}) },
      ];
    }),
  );
}

/**
 * What a queued run cannot carry, refused before anything is enqueued, each refusal saying what to do instead.
 * Shared by `audit --queue` and `evaluate --queue`.
 */
export function refuseLocalOnly(
  run: 'audit' | 'evaluation',
  given: { http?: ModelHints['http']; detections?: number },
): void {
  const refuse = (message: string): never => {
    throw new SightlineError('INVALID_ARGUMENT', message, {});
  };
  if (given.detections !== undefined && given.detections > MAX_RESULT_MAPS)
    refuse(
      `--queue explains at most ${MAX_RESULT_MAPS} detections per image (--detections ${given.detections}): each map's overlay travels through Redis. Lower --detections, or run this ${run} without --queue.`,
    );
  const http = given.http;
  if (http?.headers?.length || http?.apiKeyEnv || http?.apiKeyHeader)
    refuse(
      "--queue does not carry HTTP headers or API keys: they would be stored in Redis, where every client of it could read them. Give them to each worker instead (sightline worker --header 'Name: value', --api-key-env VAR, --api-key-header NAME) and leave them off here.",
    );
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number ≥ 1, got '${value}'`);
  return n;
}
