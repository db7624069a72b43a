// Reading a labels file from disk (Node only); the parsing itself is in labels.ts, shared with the browser.
import { MIB, readRegularFile } from '../io/read-file.js';
import { parseLabels } from './labels.js';

/** ImageNet-21k's 21,843 class names take under 1 MiB; a labels file of more is not one. */
const MAX_LABELS_BYTES = 16 * MIB;

/**
 * Labels from a text file (one per line, index = line number) or JSON (an array, or an object mapping
 * indices to names, as Keras' imagenet_class_index.json and Teachable Machine's metadata do).
 */
export async function readLabels(path: string): Promise<string[]> {
  const bytes = await readRegularFile(path, {
    maxBytes: MAX_LABELS_BYTES,
    noun: 'the labels file',
    expected: 'a labels file (one class name per line, or JSON)',
  });
  return parseLabels(new TextDecoder().decode(bytes), path);
}
