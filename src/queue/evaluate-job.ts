// `sightline evaluate --queue`: one job per image measures every method on it (evaluate/evaluate.ts
// evaluateImage, the local evaluation's own code, with a detector's region found as evaluate/detect-region.ts
// finds it) on a worker. The job is untrusted like an audit's (job.ts):
// each field is checked before use, paths confined to the worker's --root folders.
import type { OptionValue } from '../core/method.js';
import { matchedObjectMask } from '../evaluate/detect-region.js';
import { evaluateImage, type ImageEvaluation, METRICS, type MetricName } from '../evaluate/evaluate.js';
import type { ModelHints } from '../models/spec.js';
import {
  jobRegionMask,
  loadJobImage,
  type ModelCache,
  openModel,
  openReference,
  type ReferenceCache,
} from './inputs.js';
import { checkAuditJob, JOB_VERSION, type JobImage, type JobReference, malformedJob, shown } from './job.js';

/** What every image of an evaluation shares. */
export interface EvaluateSettings {
  readonly model: string;
  readonly hints: ModelHints;
  readonly methods: readonly string[];
  readonly metrics: readonly MetricName[];
  readonly options: Readonly<Record<string, Readonly<Record<string, OptionValue>>>>;
  readonly curveSteps: number | null;
  readonly sanityBlocks: number | null;
  readonly target?: string;
  /** Embedding models: the reference, as an audit job names it (job.ts JobReference). */
  readonly reference?: JobReference;
}

export interface EvaluateJob {
  readonly v: typeof JOB_VERSION;
  readonly kind: 'evaluate';
  readonly results: string;
  readonly attempts: number;
  readonly settings: EvaluateSettings;
  readonly image: JobImage;
}

/**
 * An image measured, or why it was skipped (the local evaluation's words for an image that failed). A
 * detector's image may be measured without region metrics, and `noRegion` then says why (as the local
 * evaluation prints it).
 */
export type EvaluateResult =
  | { readonly file: string; readonly evaluation: ImageEvaluation; readonly noRegion?: string }
  | { readonly file: string; readonly skipped: string };

export function isEvaluateJob(value: unknown): boolean {
  return (value as { kind?: unknown } | null)?.kind === 'evaluate';
}

const MAX_METHODS = 32;

/**
 * An evaluation job as a worker may use it. The audit job's checks serve the shared parts (results queue,
 * attempts, model and hints, image): the evaluation's settings are checked here, then handed over in the
 * audit job's shape.
 */
export function checkEvaluateJob(value: unknown): EvaluateJob {
  const o = value as Record<string, unknown>;
  const s = (o?.settings ?? {}) as Record<string, unknown>;
  const bad = (problem: string): never => {
    throw malformedJob(problem);
  };
  // Its parts go through checkAuditJob as version-1 jobs, which would hide the evaluate job's own version.
  if (o?.v !== JOB_VERSION)
    bad(`'v' is ${shown(o?.v)}, expected ${JOB_VERSION} (a worker of another version?)`);
  const methods = s.methods;
  if (!Array.isArray(methods) || methods.length < 1 || methods.length > MAX_METHODS)
    bad(`'settings.methods' is not a list of 1 to ${MAX_METHODS} method ids`);
  const metrics = s.metrics;
  if (!Array.isArray(metrics) || metrics.some((m) => !(METRICS as readonly string[]).includes(m)))
    bad(`'settings.metrics' is not a list of ${METRICS.join(', ')}`);
  const options = (s.options ?? {}) as Record<string, unknown>;
  if (typeof options !== 'object' || Array.isArray(options)) bad("'settings.options' is not an object");
  const perMethod: Record<string, Record<string, OptionValue>> = {};
  for (const id of methods as unknown[]) {
    // Each method's options through the audit job's own option checks.
    const shared = {
      v: JOB_VERSION,
      results: o.results,
      attempts: o.attempts,
      settings: {
        model: s.model,
        hints: s.hints,
        method: id,
        options: options[id as string] ?? {},
        topK: 1,
        tolerance: 0,
        faithfulness: false,
      },
      image: o.image,
    };
    const checked = checkAuditJob(shared);
    perMethod[checked.settings.method] = { ...checked.settings.options };
  }
  const count = (v: unknown, name: string, max: number): number | null => {
    if (v === null || v === undefined) return null;
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max)
      bad(`'settings.${name}' is not a whole number from 1 to ${max}`);
    return v as number;
  };
  const target = s.target;
  if (target !== undefined && (typeof target !== 'string' || target.length > 4096))
    bad("'settings.target' is not a text of at most 4096 characters");
  const base = checkAuditJob({
    v: JOB_VERSION,
    results: o.results,
    attempts: o.attempts,
    settings: {
      model: s.model,
      hints: s.hints,
      method: 'x',
      options: {},
      topK: 1,
      tolerance: 0,
      faithfulness: false,
      reference: s.reference,
    },
    image: o.image,
  });
  return {
    v: JOB_VERSION,
    kind: 'evaluate',
    results: base.results,
    attempts: base.attempts,
    settings: {
      model: base.settings.model,
      hints: base.settings.hints,
      methods: Object.keys(perMethod),
      metrics: metrics as MetricName[],
      options: perMethod,
      curveSteps: count(s.curveSteps, 'curveSteps', 100_000),
      sanityBlocks: count(s.sanityBlocks, 'sanityBlocks', 1000),
      ...(target !== undefined ? { target: target as string } : {}),
      ...(base.settings.reference ? { reference: base.settings.reference } : {}),
    },
    image: base.image,
  };
}

/**
 * One image measured as `sightline evaluate` measures it. Errors of the image (unreadable, a region that does
 * not fit, no method can explain it) make a skipped result; a model or reference that cannot be opened throws, so
 * the job is retried (on this worker or another) like an audit job.
 */
export async function evaluateJob(
  data: EvaluateJob,
  roots: readonly string[],
  models: ModelCache,
  references: ReferenceCache,
): Promise<EvaluateResult> {
  const { settings, image } = data;
  const model = await openModel(settings, roots, models);
  const reference = await openReference(settings.reference, roots, references);
  try {
    const rgb = await loadJobImage(image, roots);
    let regionMask: Uint8Array | undefined;
    let noRegion: string | undefined;
    if (image.objects && model.spec.task === 'detect') {
      // A detector's region is the object its explained detection found (evaluate/detect-region.ts).
      const found = await matchedObjectMask(model, rgb, settings.target ?? 'top', image.objects);
      if ('mask' in found) regionMask = found.mask;
      else noRegion = found.none;
    } else if (image.regions) regionMask = await jobRegionMask(image, roots, rgb.width, rgb.height);
    const evaluation = await evaluateImage({
      model,
      file: image.file,
      image: rgb,
      methods: settings.methods,
      metrics: settings.metrics,
      options: settings.options,
      regionMask,
      target: settings.target,
      reference,
      curveSteps: settings.curveSteps ?? undefined,
      sanityBlocks: settings.sanityBlocks ?? undefined,
    });
    return { file: image.file, evaluation, ...(noRegion !== undefined ? { noRegion } : {}) };
  } catch (error) {
    return { file: image.file, skipped: (error as Error).message };
  }
}
