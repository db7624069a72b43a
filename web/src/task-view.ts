// What the worker tells the page about a photo, in the model's task's terms: classes and tags with their
// probabilities, scores as numbers, a segmenter's mask and pixel shares, an embedding's similarity to the
// reference photo; and the low-probability note beside a map.
import {
  classShares,
  type Explanation,
  evaluateTarget,
  type Geometry,
  labelOf,
  lowConfidence,
  lowConfidenceWords,
  type Model,
  type Prediction,
  pixelClasses,
  preprocess,
  type RgbImage,
  rankPredictions,
  segmentShape,
  similarityTarget,
  type Tensor,
} from '../../src/browser.js';
import type { Segmentation } from './protocol.js';

/** Classes listed for a segmenter: those that own pixels, at most this many. */
const MAX_SEGMENT_CLASSES = 50;
export const SIMILARITY_LABEL = 'similarity to the reference';

export interface TaskView {
  readonly predictions: readonly Prediction[];
  readonly segmentation?: Segmentation;
  readonly embedding?: { readonly dimensions: number; readonly cosine?: number };
}

/** The photo's predictions in the task's terms; `scores` are the model's outputs for it. */
export async function taskView(
  model: Model,
  scores: Tensor,
  geometry: Geometry,
  reference: RgbImage | undefined,
  signal: AbortSignal,
): Promise<TaskView> {
  const { task } = model.spec;
  if (task === 'segment') {
    const shape = segmentShape(model.spec.outputShape);
    const [c, h, w] = shape;
    const classes = pixelClasses(scores.data.subarray(0, c * h * w), shape);
    const shares = classShares(classes, c);
    const predictions = Array.from(shares, (score, index) => ({ index, label: labelOf(model, index), score }))
      .filter((p) => p.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, MAX_SEGMENT_CLASSES);
    const crop = {
      x: geometry.cropX,
      y: geometry.cropY,
      width: geometry.cropWidth,
      height: geometry.cropHeight,
    };
    return { predictions, segmentation: { width: w, height: h, classes, crop } };
  }
  if (task === 'embed') {
    const dimensions = scores.dims[1];
    if (!reference) return { predictions: [], embedding: { dimensions } };
    const other = await model.predict(preprocess(reference, model.spec).tensor, { signal });
    const cosine = evaluateTarget(similarityTarget(other.data, dimensions), scores).data[0];
    return {
      predictions: [{ index: 0, label: SIMILARITY_LABEL, score: cosine }],
      embedding: { dimensions, cosine },
    };
  }
  return { predictions: rankPredictions(model, scores, 5) };
}

/**
 * The note for a map of a class under 1% or a tag under 10% (core/confidence.ts decides, as for the CLI). A
 * segment or similarity target is a score of its own, which has no probability to be low.
 */
export function mapNote(model: Model, result: Explanation): string | undefined {
  const { task } = model.spec;
  if (task !== 'classify' && task !== 'multilabel') return undefined;
  const k = result.scores.dims[1];
  const low = lowConfidence(model.spec, result.scores.data.subarray(0, k), result.target.index, (i) =>
    labelOf(model, i),
  );
  return low && lowConfidenceWords(low, result.target.label, task === 'multilabel' ? 'tag' : 'class');
}
