// The audit of a detector (task 'detect'): per image, the detections after NMS matched to the ground-truth boxes
// (IoU ≥ 0.5, same class, greedy by score as COCO does); each explained detection's map measured inside its own
// box and its matched object; false positives and missed objects listed with their maps. One row per image, so
// the journal resumes by image as for every other task.
import type { AttributionMap } from '../core/attribution.js';
import { type Box, iou } from '../core/detection/boxes.js';
import { matchDetections } from '../core/detection/match.js';
import { throwIfAborted } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { MethodOptions } from '../core/method.js';
import type { Model } from '../core/model.js';
import { boxToImage, boxToInput, preprocess } from '../core/preprocess.js';
import type { ProgressCallback } from '../core/progress.js';
import { shapesMask } from '../core/regions/mask.js';
import { detectionRegionShare } from '../explain/detect.js';
import { dRiseDetections } from '../explain/drise-detections.js';
import { explainPrepared, type PreparedImage, photoMap } from '../explain.js';
import type { RiseOptions } from '../methods/perturbation/rise.js';
import { type AnyMethod, getMethod, resolveOptions } from '../methods/registry.js';
import { maskAttention } from '../metrics/region.js';
import { regionVerdict } from '../metrics/verdict.js';
import { type Detection, decodeDetections } from '../models/detect-decode.js';
import { type PhotoMask, photoMask } from '../models/detect-mask.js';
import {
  decodeOptions,
  detectionModel,
  detectorOutputs,
  driseSimilarities,
} from '../models/detect-target.js';
import { resolveLabel } from '../models/label-match.js';
import { attentionIn, errorRow, inLanes } from './audit.js';
import { boxWindow, MAX_ROW_WINDOWS } from './detect-window.js';

const VERDICT_OF_LEVEL = { inside: 'object', partly: 'partly', outside: 'background' } as const;

import { type AuditRow, type DetectObject, type DetectRowPart, MAX_ROW_DETECTIONS } from './types.js';

/** The class ids a post-NMS detector without labels may give (COCO's 91 and far beyond). */
const MAX_CLASS_IDS = 100_000;

export { MATCH_IOU, matchDetections } from '../core/detection/match.js';

/** One image of a detector's audit. */
export interface DetectAuditItem {
  readonly file: string;
  load(): Promise<RgbImage>;
  /** The image's ground-truth objects, boxes x0, y0, x1, y1 in photo pixels; may throw (an error row). */
  objects?(width: number, height: number): Promise<readonly DetectObject[]>;
}

/** A map made for the row, with the box drawn on its overlay and where the row names its file. */
export interface DetectMap {
  /** 'det<i>' or 'miss<j>': the row entry the map belongs to. */
  readonly key: string;
  readonly map: AttributionMap;
  readonly box: Box;
  /** A seg detector's instance mask over the photo, outlined on the overlay. */
  readonly mask?: PhotoMask;
  readonly caption: string;
}

export interface DetectAuditRequest {
  readonly model: Model;
  readonly method: string | AnyMethod;
  readonly options?: MethodOptions;
  /** Detections explained per image (highest score first; default 5). */
  readonly detections?: number;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
  /** Each finished row; `maps` holds one map per explained detection and missed object. */
  onRow(row: AuditRow, result?: { image: RgbImage; maps: readonly DetectMap[] }): Promise<void>;
}

/** Audits a detector over `items`, in order, up to `concurrency` at once, one row each (errors become rows). */
export async function auditDetections(
  items: readonly DetectAuditItem[],
  request: DetectAuditRequest,
): Promise<void> {
  await inLanes(items, request, (item) => auditDetectOne(item, request));
}

async function auditDetectOne(item: DetectAuditItem, request: DetectAuditRequest): Promise<void> {
  const { model } = request;
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  let partial: Partial<AuditRow> = {};
  try {
    const image = await item.load();
    const { width, height } = image;
    partial = { width, height, task: 'detect' };
    const given = item.objects ? await item.objects(width, height) : [];
    const { tensor: input, geometry } = preprocess(image, model.spec);
    const outputs = await detectorOutputs(model, input, { signal: request.signal });
    const decoded = decodeDetections(outputs, decodeOptions(model.spec));
    // A class name, or an index where the model names none: a raw layout says its class count, a post-NMS
    // export does not (its class ids are whatever it was trained with).
    const layoutClasses = decoded.layout.kind === 'raw' ? decoded.layout.classes : MAX_CLASS_IDS;
    const classes = Math.max(1, model.spec.labels.length || layoutClasses);
    const objects = given.map((o) => ({
      ...o,
      classIndex: resolveLabel(o.label, model.spec.labels, { classes, noun: 'Label' }).index,
    }));
    const raw = (decoded.images[0] ?? []).slice(0, MAX_ROW_DETECTIONS);
    const found = raw.map((d) => ({
      classIndex: d.classIndex,
      score: d.score,
      box: boxToImage(d.box, geometry, model.spec.width, model.spec.height),
    }));
    const matches = matchDetections(found, objects);
    const labelOf = (c: number) => model.spec.labels[c] ?? `class ${c}`;
    const explained = Math.min(request.detections ?? 5, raw.length);
    const maps: DetectMap[] = [];
    const boxMask = (b: Box) =>
      shapesMask([{ type: 'box', x: b[0], y: b[1], width: b[2] - b[0], height: b[3] - b[1] }], width, height);
    const shareIn = (map: AttributionMap, b: Box) => maskAttention(map, boxMask(b)).share;
    // The classifier audit's verdict (metrics/verdict.ts), asked of the map against the entry's own box.
    const inBox = (map: AttributionMap, b: Box) => {
      const a = maskAttention(map, boxMask(b));
      return { boxShare: a.share, verdict: VERDICT_OF_LEVEL[regionVerdict(a).level] };
    };

    // One detection's (or missed object's) map: D-RISE (or the asked method) on its similarity.
    const explainOne = async (d: Detection, label: string) => {
      const target = detectionModel(model, outputs, decoded.layout, d, label, input);
      try {
        const scores = await target.predict(input, { signal: request.signal });
        const prepared: PreparedImage = {
          input,
          geometry,
          scores,
          classes: 1,
          predictions: [],
          target: { index: 0, label },
          model: target,
        };
        const result = await explainPrepared(model, prepared, {
          method: request.method,
          options: request.options,
          signal: request.signal,
        });
        return { map: result.map, similarity: scores.data[0] };
      } finally {
        await target.dispose();
      }
    };

    // What the row explains, in its order: the first `explained` detections, then each object none found,
    // as a detection whose box is the object's (D-RISE's similarity then asks what, in the photo, would make
    // the model propose this class here; a map with no evidence says nothing in the photo does).
    const matched = new Set(matches.map((m) => m.object).filter((j) => j >= 0));
    const missed = objects.flatMap((_, j) => (matched.has(j) ? [] : [j]));
    const captionOf = (i: number) =>
      `${labelOf(found[i].classIndex)} #${i} (${matches[i].object >= 0 ? 'found' : 'false positive'})`;
    const targets = [
      ...raw.slice(0, explained).map((d, i) => ({ detection: d, caption: captionOf(i) })),
      ...missed.map((j) => {
        const o = objects[j];
        const detection: Detection = {
          box: boxToInput(o.box, geometry, model.spec.width, model.spec.height),
          score: 0,
          classIndex: o.classIndex,
          index: -1,
        };
        return { detection, caption: `missed ${labelOf(o.classIndex)} (object ${j})` };
      }),
    ];

    // The registered D-RISE explains every target from one set of N masked passes, where explaining them one
    // by one runs the detector N times each; its maps and the similarities (read from the photo's outputs,
    // which a target's own pass would repeat) are the same numbers. Any other method, or a D-RISE object the
    // caller made, goes target by target through explainPrepared. Its capability check has nothing to refuse
    // here: D-RISE needs only predictions, which a detection target's model always gives.
    const explainAll = async () => {
      if (targets.length === 0) return undefined;
      const method = typeof request.method === 'string' ? getMethod(request.method) : request.method;
      if (method !== getMethod('d-rise')) return undefined;
      const options = resolveOptions(method, request.options) as RiseOptions;
      const all = targets.map((t) => t.detection);
      const format = { ...decodeOptions(model.spec), format: decoded.layout.format };
      const similarities = driseSimilarities(outputs, decoded.layout, format, all);
      const maps = await dRiseDetections(model, input, outputs, decoded.layout, all, options, {
        signal: request.signal,
      });
      return maps.map((m, t) => ({ map: photoMap(m, geometry), similarity: similarities[t][0] }));
    };
    const together = await explainAll();
    const mapOf = async (t: number) =>
      together?.[t] ?? (await explainOne(targets[t].detection, targets[t].caption));

    const detections: DetectRowPart['detections'][number][] = [];
    for (let i = 0; i < found.length; i++) {
      const f = found[i];
      const m = matches[i];
      const entry = {
        index: i,
        label: labelOf(f.classIndex),
        classIndex: f.classIndex,
        score: f.score,
        box: roundBox(f.box),
        ...(m.object >= 0 ? { object: m.object, iou: m.iou } : {}),
      };
      if (i >= explained) {
        detections.push(entry);
        continue;
      }
      throwIfAborted(request.signal);
      const { caption } = targets[i];
      const { map, similarity } = await mapOf(i);
      const key = `det${i}`;
      const seg = raw[i].mask;
      const mask = seg && photoMask(seg, model.spec.width, model.spec.height, geometry);
      maps.push({ key, map, box: f.box, ...(mask ? { mask } : {}), caption });
      if (attentionIn(map) === 'none') {
        detections.push({ ...entry, similarity, noEvidence: true, map: key });
        continue;
      }
      const window = i < MAX_ROW_WINDOWS ? boxWindow(map, f.box) : undefined;
      // A seg detector's mask is the detection's region where it holds pixels: its verdict reads the mask.
      const onMask = mask ? detectionRegionShare(map, { box: f.box, mask }) : undefined;
      detections.push({
        ...entry,
        similarity,
        ...inBox(map, f.box),
        ...(onMask?.region === 'mask'
          ? { maskShare: onMask.share, verdict: VERDICT_OF_LEVEL[onMask.level], region: 'mask' as const }
          : {}),
        ...(m.object >= 0 ? { objectShare: shareIn(map, objects[m.object].box) } : {}),
        ...(window ? { window } : {}),
        map: key,
      });
    }

    const misses: DetectRowPart['misses'][number][] = [];
    for (const [n, j] of missed.entries()) {
      throwIfAborted(request.signal);
      const o = objects[j];
      const best = found.reduce(
        (v, f) => (f.classIndex === o.classIndex ? Math.max(v, iou(f.box, o.box)) : v),
        0,
      );
      const { caption } = targets[explained + n];
      const { map, similarity } = await mapOf(explained + n);
      const key = `miss${j}`;
      maps.push({ key, map, box: o.box, caption });
      const none = attentionIn(map) === 'none';
      misses.push({
        object: j,
        label: labelOf(o.classIndex),
        classIndex: o.classIndex,
        box: roundBox(o.box),
        bestIou: best,
        similarity,
        ...(none ? { noEvidence: true } : inBox(map, o.box)),
        map: key,
      });
    }
    const row: AuditRow = {
      file: item.file,
      status: 'ok',
      ...partial,
      predictions: detections.map((d) => ({ index: d.index, label: d.label, score: d.score })),
      detect: {
        objects: objects.length,
        ...(item.objects ? {} : { noGroundTruth: true as const }),
        explained,
        detections,
        misses,
      },
      seconds: seconds(),
    };
    await request.onRow(row, { image, maps });
  } catch (error) {
    if (request.signal?.aborted) throw error;
    await request.onRow(errorRow(item.file, error, partial, seconds()));
  }
}

function roundBox(b: Box): [number, number, number, number] {
  return b.map((v) => Math.round(v * 100) / 100) as [number, number, number, number];
}
