// A detector's photo in the page's terms: its detections (after NMS for raw layouts), each a prediction with
// its class and its box in photo pixels, timed like a classifier's forward pass for the menus' estimates.
import {
  decodeOnnxModel,
  detectPhoto,
  type Model,
  type Prediction,
  type RgbImage,
} from '../../src/browser.js';

/**
 * Whether an ONNX graph's outputs say "detector" as the library reads them (models/spec.ts looksLikeDetector):
 * outputs named boxes and scores (post-NMS exports), or a first output of rank 3. It only decides what the
 * model form offers; the library decides the task when the model opens.
 */
export function looksLikeDetector(onnx: Uint8Array): boolean {
  const outputs = decodeOnnxModel(onnx).graph?.output ?? [];
  const names = outputs.map((o) => (o.name ?? '').toLowerCase().replace(/:\d+$/, '').split('/').pop());
  if (names.some((n) => n === 'boxes' || n === 'detection_boxes') && names.some((n) => n?.includes('scores')))
    return true;
  return outputs[0]?.type?.tensorType?.shape?.dim?.length === 3;
}

export async function detectView(
  model: Model,
  image: RgbImage,
  signal: AbortSignal,
  warm: boolean,
): Promise<{ predictions: Prediction[]; forwardMs: number }> {
  let started = performance.now();
  let found = await detectPhoto(model, image, signal);
  if (!warm) {
    // A session's first run includes one-off set-up; time estimates need a warm pass.
    started = performance.now();
    found = await detectPhoto(model, image, signal);
  }
  const forwardMs = performance.now() - started;
  const predictions = found.detections.map((d) => ({
    index: d.index,
    label: d.label,
    score: d.score,
    classIndex: d.classIndex,
    box: d.box,
    ...(d.mask ? { mask: d.mask } : {}),
  }));
  return { predictions, forwardMs };
}
