// `sightline evaluate`'s core: several methods on one image, each map measured by the chosen metrics. Portable
// (no files); the CLI feeds images and regions and writes the table, JSON and HTML.
import type { AttributionMap } from '../core/attribution.js';
import { invalidArgument } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { MethodOptions } from '../core/method.js';
import type { Model } from '../core/model.js';
import { seedOf } from '../core/random.js';
import type { RegionBox, RegionMask } from '../core/targets.js';
import { allEqual } from '../core/values.js';
import {
  disposePrepared,
  type ExplainedTarget,
  explainPrepared,
  type PreparedImage,
  type PrepareRequest,
  prepare,
} from '../explain.js';
import { checkCapabilities, getMethod } from '../methods/registry.js';
import { compareMaps } from '../metrics/agreement.js';
import { deletionInsertion } from '../metrics/deletion-insertion.js';
import { maskAttention, topRegionIoU } from '../metrics/region.js';
import {
  labelRandomization,
  type MethodUnderTest,
  modelRandomizations,
  type RandomizationStep,
} from '../metrics/sanity.js';
import { maxSensitivity, seedStability } from '../metrics/stability.js';

export const METRICS = [
  'deletion',
  'insertion',
  'energy',
  'pointing',
  'iou',
  'seeds',
  'sensitivity',
  'randomization',
  'labels',
  'agreement',
] as const;
export type MetricName = (typeof METRICS)[number];
/** Names that stand for several metrics on the command line. */
export const METRIC_GROUPS: Readonly<Record<string, readonly MetricName[]>> = {
  sanity: ['randomization', 'labels'],
};
/** What runs when --metrics is not given: the faithfulness curves and, with regions, the region metrics. */
export const DEFAULT_METRICS: readonly MetricName[] = [
  'deletion',
  'insertion',
  'energy',
  'pointing',
  'iou',
  'agreement',
];

/** A failure of the image's preparation, carried past the per-method catch (which records method errors). */
class ImagePreparationError extends Error {
  constructor(override readonly cause: unknown) {
    super('preparation failed');
  }
}

export interface MethodResult {
  readonly method: string;
  /** Metric name → value; absent when the metric does not apply (no region, deterministic method …). */
  readonly values: Partial<Record<MetricName, number>>;
  /** Deletion and insertion curves (target probability per step), for the plots. */
  readonly curves?: { readonly deletion: readonly number[]; readonly insertion: readonly number[] };
  readonly seconds: number;
  readonly error?: string;
  /**
   * The method's map was the same value everywhere (Grad-CAM with no positive evidence for the class, a model
   * whose score does not move): it ranks no pixel above another, so no metric is measured (a deletion curve
   * would follow the pixels' row order, a rank correlation is undefined) and `values` is empty.
   */
  readonly constantMap?: true;
}

export interface ImageEvaluation {
  readonly file: string;
  /**
   * The explained target. For a segment or similarity target `description` says what it is, and the curves and
   * AUCs follow its scalar (the class's scores summed over the region, or the cosine to the reference).
   */
  readonly target: {
    readonly index: number;
    readonly label: string;
    readonly description?: ExplainedTarget['description'];
  };
  readonly methods: readonly MethodResult[];
  /** Cascading model randomization per method: the similarity to the original map after each block. */
  readonly randomization?: Readonly<Record<string, readonly RandomizationStep[]>>;
  /** Why model randomization could not run (e.g. the model gives no access to its weights); the other metrics stand. */
  readonly randomizationError?: string;
  /** Spearman's ρ between each pair of methods' maps (64 × 64 grid, see metrics/agreement.ts). */
  readonly agreement?: readonly { a: string; b: string; rankCorrelation: number; topOverlap: number }[];
}

export interface EvaluateRequest {
  readonly model: Model;
  readonly file: string;
  readonly image: RgbImage;
  readonly methods: readonly string[];
  readonly metrics: readonly MetricName[];
  /** Per-method options (e.g. fewer RISE masks). */
  readonly options?: Readonly<Record<string, MethodOptions>>;
  /** Where the model should look, at the image's size. */
  readonly regionMask?: Uint8Array;
  /** The class or tag to explain, as explain.ts prepare reads it (default 'top'). */
  readonly target?: PrepareRequest['target'];
  /** Segmenters: the region whose class scores are summed (explain.ts PrepareRequest.region). */
  readonly region?: RegionBox | RegionMask;
  /** Embedding models: the photo or vector the similarity is to (explain.ts PrepareRequest.reference). */
  readonly reference?: PrepareRequest['reference'];
  /** Steps of the deletion/insertion curves (default: one row of the input per step, as the reference does). */
  readonly curveSteps?: number;
  /** How many of the network's blocks (metrics/sanity.ts byBlocks) the randomization metric steps through, from the top (default 3). */
  readonly sanityBlocks?: number;
  /**
   * Seeds the sanity metrics' draws: the weight noise (randomization) and the other class (labels). Default:
   * from the file name (seedOf), so each image draws its own and a mean over images is a mean over draws too
   * (one draw decides a CAM map's ρ by up to ±0.5 on the default model; README, sanity checks), while the same
   * file gets the same numbers in every run, resumed or on a queue worker.
   */
  readonly sanitySeed?: number;
  readonly signal?: AbortSignal;
  readonly onMethod?: (method: string, done: number, total: number) => void;
}

/**
 * Every method on one image, measured; a method that fails records its error and the others go on. When the
 * image cannot be prepared (its target has no pixels in it, a region outside it) the image fails with that reason.
 */
export async function evaluateImage(request: EvaluateRequest): Promise<ImageEvaluation> {
  const { metrics } = request;
  for (const m of metrics)
    if (!METRICS.includes(m)) throw invalidArgument('metrics', `names from ${METRICS.join(', ')}`, m);
  // One preparation (preprocess, predict, target) serves every method; made by the first method that can run.
  // A segment or similarity target's prepare makes a model of its own (the target as its one output), which
  // every metric then reads, and which is released however the evaluation ends.
  const held: { prepared?: PreparedImage } = {};
  try {
    return await evaluatePrepared(request, (p) => {
      held.prepared = p;
    });
  } finally {
    if (held.prepared) await disposePrepared(held.prepared);
  }
}

async function evaluatePrepared(
  request: EvaluateRequest,
  keep: (prepared: PreparedImage) => void,
): Promise<ImageEvaluation> {
  const { image, metrics } = request;
  const sanitySeed = request.sanitySeed ?? seedOf(request.file);
  const results: MethodResult[] = [];
  const maps: Record<string, AttributionMap> = {};
  let target: ImageEvaluation['target'] | undefined;
  let prepared: PreparedImage | undefined;
  // The model the metrics measure: the request's, or the one prepare made for a segment or similarity target.
  let model = request.model;
  // Sanity checks run after every method's map, so one randomized model serves them all.
  const sane: { values: Partial<Record<MetricName, number>>; test: MethodUnderTest & { method: string } }[] =
    [];
  for (const [i, id] of request.methods.entries()) {
    request.onMethod?.(id, i, request.methods.length);
    const started = performance.now();
    const method = getMethod(id);
    const options = request.options?.[id] ?? {};
    try {
      checkCapabilities(method, request.model);
      if (!prepared) {
        // The preparation is the image's, not the method's: when it fails (a segmenter's class with no pixels
        // in this photo, a region outside it) every method would fail alike, so the image fails with its
        // reason, and the caller skips it as it skips an unreadable one.
        try {
          prepared = await prepare({
            model: request.model,
            image,
            target: request.target,
            region: request.region,
            reference: request.reference,
            forMethod: { method },
            signal: request.signal,
          });
        } catch (error) {
          throw new ImagePreparationError(error);
        }
        keep(prepared);
        model = prepared.model ?? request.model;
      }
      const explained = await explainPrepared(request.model, prepared, {
        method,
        options,
        signal: request.signal,
      });
      target = explained.target;
      if (allEqual(explained.inputMap.data)) {
        results.push({
          method: id,
          values: {},
          constantMap: true,
          seconds: (performance.now() - started) / 1000,
        });
        continue;
      }
      maps[method.title] = explained.map;
      const values: Partial<Record<MetricName, number>> = {};
      let curves: MethodResult['curves'];
      const { input } = explained;
      if (metrics.includes('deletion') || metrics.includes('insertion')) {
        const curve = await deletionInsertion(
          { model, input, map: explained.inputMap, target: explained.target.index },
          { signal: request.signal, ...(request.curveSteps ? { steps: request.curveSteps } : {}) },
        );
        if (metrics.includes('deletion')) values.deletion = curve.deletion.auc;
        if (metrics.includes('insertion')) values.insertion = curve.insertion.auc;
        curves = { deletion: curve.deletion.scores, insertion: curve.insertion.scores };
      }
      if (request.regionMask) {
        const a = maskAttention(explained.map, request.regionMask, { tolerance: 15 });
        if (metrics.includes('energy')) values.energy = a.share;
        if (metrics.includes('pointing')) values.pointing = a.peakInside ? 1 : 0;
        if (metrics.includes('iou')) values.iou = topRegionIoU(explained.map, request.regionMask);
      }
      const methodInput = {
        model,
        input,
        target: explained.target.index,
        classes: explained.classes,
        signal: request.signal,
      };
      if (metrics.includes('seeds') && method.random) {
        values.seeds = (await seedStability(method, methodInput, options)).mean;
      }
      if (metrics.includes('sensitivity')) {
        values.sensitivity = (await maxSensitivity(method, methodInput, options)).maxSensitivity;
      }
      // A map of another class needs another class: a target with one output (a score, a segment's sum, a
      // cosine) has none, so the metric does not apply there (and must not fail the method's other metrics).
      if (metrics.includes('labels') && explained.classes >= 2) {
        values.labels = (
          await labelRandomization({
            model,
            input,
            method,
            options,
            original: explained.inputMap,
            target: explained.target.index,
            classes: explained.classes,
            seed: sanitySeed,
            signal: request.signal,
          })
        ).spearmanAbs;
      }
      sane.push({ values, test: { method: id, options, original: explained.inputMap } });
      results.push({ method: id, values, curves, seconds: (performance.now() - started) / 1000 });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      if (error instanceof ImagePreparationError) throw error.cause;
      results.push({
        method: id,
        values: {},
        seconds: (performance.now() - started) / 1000,
        error: (error as Error).message,
      });
    }
  }
  let randomization: Record<string, readonly RandomizationStep[]> | undefined;
  let randomizationError: string | undefined;
  if (metrics.includes('randomization') && target && prepared && sane.length > 0) {
    request.onMethod?.('model randomization', request.methods.length, request.methods.length + 1);
    try {
      const checked = await modelRandomizations({
        model,
        input: prepared.input,
        target: target.index,
        classes: prepared.classes,
        methods: sane.map((s) => s.test),
        group: 'block',
        layers: request.sanityBlocks ?? 3,
        clampLayers: true,
        seed: sanitySeed,
        signal: request.signal,
      });
      randomization = {};
      for (const [i, { values, test }] of sane.entries()) {
        const steps = checked[i].steps;
        randomization[test.method] = steps;
        if (steps.length > 0) values.randomization = steps[steps.length - 1].spearmanAbs;
      }
    } catch (error) {
      if (request.signal?.aborted) throw error;
      randomizationError = (error as Error).message;
    }
  }
  const agreement =
    metrics.includes('agreement') && Object.keys(maps).length >= 2
      ? compareMaps(maps).map((p) => ({
          a: p.a,
          b: p.b,
          rankCorrelation: p.rankCorrelation,
          topOverlap: p.topOverlap,
        }))
      : undefined;
  if (!target)
    throw invalidArgument('methods', 'at least one method that works with this model', request.methods);
  return {
    file: request.file,
    target,
    methods: results,
    ...(randomization ? { randomization } : {}),
    ...(randomizationError ? { randomizationError } : {}),
    ...(agreement ? { agreement } : {}),
  };
}
