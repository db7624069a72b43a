// The audit's core: every image through the same explanation, measured against its regions, one row each.
// Portable (no files): the CLI (cli/audit.ts) supplies images, regions and where rows go; the web app can too.
import type { AttributionMap } from '../core/attribution.js';
import { lowConfidence, TAG_PRESENT } from '../core/confidence.js';
import { SightlineError, throwIfAborted } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { MethodOptions } from '../core/method.js';
import type { Model, ModelTask } from '../core/model.js';
import type { ProgressCallback } from '../core/progress.js';
import { outputValues } from '../core/scores.js';
import { capText } from '../core/text.js';
import {
  disposePrepared,
  explainPrepared,
  labelOf,
  type PreparedImage,
  type PrepareRequest,
  prepare,
} from '../explain.js';
import type { AnyMethod } from '../methods/registry.js';
import { deletionInsertion } from '../metrics/deletion-insertion.js';
import { maskAttention } from '../metrics/region.js';
import { regionVerdict } from '../metrics/verdict.js';
import { resolveLabel } from '../models/label-match.js';
import { borderShare, summaryGrid } from './aggregate.js';
import type { ShortcutRowPart } from './shortcut-types.js';
import type { ShortcutInput } from './shortcuts.js';
import type { AuditRow, AuditVerdict } from './types.js';

/** The pointing game's tolerance (Zhang et al. 2016): a peak this close to the region counts as a hit. */
export const POINTING_TOLERANCE = 15;

/** One image to audit. */
export interface AuditItem {
  /** Its identity in the results: the path relative to the audited folder, '/'-separated. */
  readonly file: string;
  load(): Promise<RgbImage>;
  /**
   * The expected label (a label text or class index as text), when the dataset gives one. For a multilabel
   * model, every tag the image should have, separated by TAG_SEPARATOR ('dog|leash'); the map explains the
   * first. A 'score' model takes no labels (auditImages refuses them).
   */
  readonly label?: string;
  /** Where the model should look, as a mask at the image's size; may throw (recorded as the row's error). */
  readonly regionMask?: (width: number, height: number) => Promise<Uint8Array>;
}

export interface AuditRequest {
  readonly model: Model;
  readonly method: string | AnyMethod;
  readonly options?: MethodOptions;
  /** Predictions kept per image (default 5). */
  readonly topK?: number;
  /** Pointing-game tolerance in pixels (default POINTING_TOLERANCE). */
  readonly tolerance?: number;
  /** Also measure each map's deletion and insertion AUC (2 × (input height + 1) more model passes per image). */
  readonly faithfulness?: boolean;
  /**
   * Embedding models (required there): the photo or vector every image's embedding is compared with; the
   * map explains the cosine similarity to it (explain.ts PrepareRequest.reference).
   */
  readonly reference?: PrepareRequest['reference'];
  /**
   * Images being read and run through the model at once (default 2); as many more are drawn and written beside
   * them (inLanes), so that reading and drawing overlap the model's work.
   */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
  /**
   * audit --shortcuts (shortcuts.ts ShortcutTester.test): run on every image with regions, its result kept as
   * the row's `shortcuts`.
   */
  readonly shortcuts?: (input: ShortcutInput) => Promise<ShortcutRowPart>;
  /** Receives each finished row (and, for rows with a map, the image and map) as soon as it is done. */
  onRow(row: AuditRow, result?: { image: RgbImage; map: AttributionMap }): Promise<void>;
}

/** The most characters of an error row's message kept (a message quoting a huge list stays readable). */
export const MAX_ROW_MESSAGE = 2000;

/** The row of an image that failed: the error's code and message (capped), with what was known before it. */
export function errorRow(
  file: string,
  error: unknown,
  partial: Partial<AuditRow>,
  seconds: number,
): AuditRow {
  const known = error instanceof SightlineError;
  return {
    file,
    status: 'error',
    error: {
      code: known ? error.code : 'INTERNAL',
      message: capText(
        known ? error.message : `Unexpected error: ${(error as Error)?.message ?? String(error)}`,
        MAX_ROW_MESSAGE,
      ),
    },
    ...partial,
    seconds,
  };
}

/** Separates the tags of a multilabel image's label ('dog|leash'); a classifier's label is read whole. */
export const TAG_SEPARATOR = '|';

const VERDICT_OF_LEVEL: Record<'inside' | 'partly' | 'outside', AuditVerdict> = {
  inside: 'object',
  partly: 'partly',
  outside: 'background',
};

/**
 * Audits `items` in order (up to `concurrency` at once), calling `onRow` once per item. An image that cannot be
 * read, a label the model does not know, or a region that does not fit the image becomes an error row and the
 * audit goes on; cancelling (the signal) stops it between images.
 */
export async function auditImages(items: readonly AuditItem[], request: AuditRequest): Promise<void> {
  refuseScoreLabels(items, request.model);
  refuseMissingReference(request.model.spec.task, request.reference !== undefined);
  await inLanes(items, request, (item, modelDone) => auditOne(item, request, modelDone));
}

/** An embedding model's audit without a reference, refused before any image. */
export function refuseMissingReference(task: ModelTask | undefined, reference: boolean): void {
  if (task === 'embed' && !reference)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      'An embedding model is audited against a reference: --reference other.jpg (a photo, embedded by the same model) or --reference vector.npy; each map then explains the cosine similarity of an image to it.',
    );
}

/**
 * Runs `each` over `items` in order, reporting images done; the classifier and detector audits share it. Up to
 * `concurrency` (default 2) items hold a lane at once. An item that calls `modelDone` (its model passes are over;
 * what is left is rendering and writing) gives its lane to the next item and finishes beside it, up to
 * `concurrency` items finishing so: while the model's thread (engines/onnx/session-thread.ts) runs one image, the
 * next is decoded and preprocessed and the last one's pictures are drawn. `modelDone` resolves once the items
 * before have ended, so rows that wait on it are written in the items' order. A failure or cancelling stops new
 * items; those in flight end before it is thrown, so nothing is written after the caller moves on.
 */
export async function inLanes<T>(
  items: readonly T[],
  request: { concurrency?: number; signal?: AbortSignal; onProgress?: ProgressCallback },
  each: (item: T, modelDone: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const total = items.length;
  const lanes = Math.max(1, Math.min(request.concurrency ?? 2, total));
  let finished = 0;
  let modelBusy = 0;
  let failure: { error: unknown } | undefined;
  const inFlight = new Set<Promise<void>>();
  let previous = Promise.resolve();
  let wake = () => {};
  request.onProgress?.({ done: 0, total, unit: 'images' });
  for (const item of items) {
    while (!failure && (modelBusy >= lanes || inFlight.size >= 2 * lanes))
      await new Promise<void>((resolve) => (wake = resolve));
    if (failure) break;
    try {
      throwIfAborted(request.signal);
    } catch (error) {
      failure = { error };
      break;
    }
    modelBusy++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      modelBusy--;
      wake();
    };
    const before = previous;
    const run: Promise<void> = each(item, () => {
      release();
      return before;
    })
      .then(
        () => {
          finished++;
          request.onProgress?.({ done: finished, total, unit: 'images' });
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => {
        release();
        inFlight.delete(run);
        wake();
      });
    inFlight.add(run);
    previous = run;
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
}

async function auditOne(
  item: AuditItem,
  request: AuditRequest,
  modelDone: () => Promise<void>,
): Promise<void> {
  const { model } = request;
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  let partial: Partial<AuditRow> = {};
  let prepared: PreparedImage | undefined;
  try {
    const image = await item.load();
    partial = { width: image.width, height: image.height };
    const task = model.spec.task ?? 'classify';
    const expected = item.label !== undefined ? expectedIndices(item.label, model) : undefined;
    const label = expected ? { text: item.label as string, index: expected[0] } : undefined;
    // Prepared here rather than through explain, so a segment or similarity target's own model (the target
    // as its one output) serves the faithfulness curves too; released however the row ends.
    prepared = await prepare({
      model,
      image,
      target: label?.index ?? 'top',
      reference: request.reference,
      topK: request.topK ?? 5,
      // Grad-CAM's own pass gives the scores: one model pass per image, not a forward pass before it.
      forMethod: { method: request.method },
      signal: request.signal,
    }).catch((error: unknown) => {
      // A segmenter that gives the labelled class no pixels got the label wrong: the row is an error (no
      // region to explain) that still counts, as wrong, in the accuracy, which would otherwise be 100%.
      const noPixels = error instanceof SightlineError && error.details.channel === label?.index;
      if (task === 'segment' && label && noPixels) partial = { ...partial, task, label, correct: false };
      throw error;
    });
    const result = await explainPrepared(model, prepared, {
      method: request.method,
      options: request.options,
      signal: request.signal,
    });
    const { map, predictions } = result;
    const scores = result.scores.data.subarray(0, result.classes);
    let tags: AuditRow['tags'];
    if (expected && task === 'multilabel') {
      const values = outputValues(scores, model.spec);
      tags = expected.map((index) => ({
        index,
        label: labelOf(model, index),
        probability: values[index],
        present: values[index] >= TAG_PRESENT,
      }));
    }
    const description = result.target.description;
    // A segment's sum or a cosine is not a probability that can be low (core/confidence.ts).
    const low = description
      ? undefined
      : lowConfidence(model.spec, scores, result.target.index, (i) => labelOf(model, i));
    partial = {
      ...partial,
      task,
      predictions,
      ...(label ? { label, correct: correctness(task, predictions, label.index, tags) } : {}),
      ...(tags ? { tags } : {}),
      target: rowTarget(result.target),
      ...(low ? { lowConfidence: low } : {}),
    };
    // Read even when there is nothing to measure: a region that does not fit the image is still reported.
    const mask = item.regionMask ? await item.regionMask(image.width, image.height) : undefined;
    const shortcuts =
      mask && request.shortcuts
        ? await request.shortcuts({
            file: item.file,
            image,
            mask,
            target: result.target.index,
            expected: label?.index,
            signal: request.signal,
          })
        : undefined;
    if (shortcuts) partial = { ...partial, shortcuts };
    if (attentionIn(map) === 'none') {
      // An answer, not a failure: nothing in the image raised the score (a Grad-CAM with no positive
      // evidence, a model whose score does not move), so there is no share, peak or spread to measure.
      const row: AuditRow = {
        file: item.file,
        status: 'ok',
        ...partial,
        noEvidence: true,
        ...(mask ? { regionGiven: true } : {}),
        seconds: seconds(),
      };
      await modelDone();
      await request.onRow(row, { image, map });
      return;
    }
    let region: AuditRow['region'];
    if (mask) {
      const tolerance = request.tolerance ?? POINTING_TOLERANCE;
      const a = maskAttention(map, mask, { tolerance });
      region = {
        share: a.share,
        areaShare: a.areaShare,
        concentration: a.concentration,
        peakInside: a.peakInside,
        tolerance,
        verdict: VERDICT_OF_LEVEL[regionVerdict(a).level],
      };
    }
    let faithfulness: AuditRow['faithfulness'];
    if (request.faithfulness) {
      const curves = await deletionInsertion(
        {
          model: prepared.model ?? model,
          input: result.input,
          map: result.inputMap,
          target: result.target.index,
        },
        { signal: request.signal },
      );
      faithfulness = { deletion: curves.deletion.auc, insertion: curves.insertion.auc };
    }
    const row: AuditRow = {
      file: item.file,
      status: 'ok',
      ...partial,
      ...(region ? { region } : {}),
      ...(faithfulness ? { faithfulness } : {}),
      borderShare: borderShare(map, map.signed),
      summary: summaryGrid(map, map.signed).map((v) => Number(v.toPrecision(4))),
      seconds: seconds(),
    };
    await modelDone();
    await request.onRow(row, { image, map });
  } catch (error) {
    if (request.signal?.aborted) throw error;
    await modelDone();
    await request.onRow(errorRow(item.file, error, partial, seconds()));
  } finally {
    if (prepared) await disposePrepared(prepared);
  }
}

/**
 * Whether the model got the label right: the top class for a classifier, every labelled tag present for a
 * multilabel model. A segmenter is right when it gives the labelled class pixels of its own, which every row
 * that reaches here has (one where it gives none cannot be explained over the class's pixels, and is an
 * error row saying so).
 */
function correctness(
  task: string,
  predictions: AuditRow['predictions'],
  index: number,
  tags: AuditRow['tags'],
): boolean {
  if (tags) return tags.every((t) => t.present);
  if (task === 'segment') return true;
  return predictions?.[0]?.index === index;
}

/**
 * The row's target: a segment target is named by its class (the map explains index 0 of its own model, which
 * means nothing in a row); its description and a similarity's say what the map explains.
 */
function rowTarget(target: Awaited<ReturnType<typeof explainPrepared>>['target']): AuditRow['target'] {
  const d = target.description;
  if (!d) return { index: target.index, label: target.label };
  return { index: d.kind === 'segment' ? d.class : target.index, label: target.label, description: d };
}

/**
 * The output indices a label names: one class for a classifier; for a multilabel model each tag of the label
 * split at TAG_SEPARATOR, in the order given, once each (a label of only separators names none and is refused).
 */
function expectedIndices(text: string, model: Model): number[] {
  if (model.spec.task !== 'multilabel') return [resolveLabel(text, model.spec.labels).index];
  const parts = text
    .split(TAG_SEPARATOR)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (parts.length === 0)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The label '${capText(text, 200)}' names no tag; expected one or more tags separated by '${TAG_SEPARATOR}', e.g. 'dog${TAG_SEPARATOR}leash'.`,
      { label: text },
    );
  return [...new Set(parts.map((t) => resolveLabel(t, model.spec.labels).index))];
}

/**
 * A score model's output is a number, not a class, so a label has nothing to be right or wrong about: labels
 * are refused up front rather than turned into an accuracy that means nothing.
 */
function refuseScoreLabels(items: readonly AuditItem[], model: Model): void {
  if (model.spec.task === 'embed') {
    const labelled = items.filter((item) => item.label !== undefined).length;
    if (labelled > 0)
      throw new SightlineError(
        'INVALID_ARGUMENT',
        `The model is an embedding model (its output is a vector, not a class), but ${labelled} image${labelled === 1 ? ' has a label' : 's have labels'}; an embedding has no label to be right about. Audit it without --labels, against --reference.`,
        { labelled },
      );
    return;
  }
  if (model.spec.task !== 'score') return;
  const labelled = items.filter((item) => item.label !== undefined).length;
  if (labelled === 0) return;
  throw new SightlineError(
    'INVALID_ARGUMENT',
    `The model is a score model (its output is a number, not a class), but ${labelled} image${labelled === 1 ? ' has a label' : 's have labels'}; ` +
      'a score has no label to be right about. Audit it without --labels, or pass --task classify or --task multilabel if its outputs are classes or tags.',
    { labelled },
  );
}

/**
 * Whether a map holds attention to measure, as the region measures count it (values above zero for a signed
 * map, non-zero ones otherwise): 'none' for a map that is zero everywhere (or, signed, nowhere above zero);
 * 'some' otherwise, non-finite values included, which the measures then refuse with their own message.
 */
export function attentionIn(map: AttributionMap): 'some' | 'none' {
  const { data, signed } = map;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v) || (signed ? v > 0 : v !== 0)) return 'some';
  }
  return 'none';
}
