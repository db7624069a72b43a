// Reading a labels file from disk (Node only); the parsing itself is in labels.ts, shared with the browser.
import { readFile } from 'node:fs/promises';
import { SightlineError } from '../core/errors.js';
import { parseLabels } from './labels.js';

/**
 * Labels from a text file (one per line, index = line number) or JSON (an array, or an object mapping
 * indices to names, as Keras' imagenet_class_index.json and Teachable Machine's metadata do).
 */
export async function readLabels(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SightlineError(
      'IO',
      `Cannot read the labels file '${path}': ${(cause as Error).message}`,
      { path },
      { cause },
    );
  }
  return parseLabels(text, path);
}
