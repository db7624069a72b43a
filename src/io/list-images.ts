// The images under a folder, as the audit and evaluate commands walk it.
import { readdir } from 'node:fs/promises';
import { extname, isAbsolute, relative, sep } from 'node:path';
import { invalidArgument } from '../core/errors.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/**
 * Every image file under `root` (recursively), as '/'-separated paths relative to it, sorted. Hidden files and
 * folders are skipped, and so is `skip` (an output folder inside the one being read). An empty result is an
 * error naming the folder.
 */
export async function listImages(root: string, skip?: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(root, { recursive: true });
  } catch (cause) {
    throw invalidArgument('folder', 'an existing, readable folder', `${root} (${(cause as Error).message})`);
  }
  const skipped = skip === undefined ? '' : relative(root, skip);
  const skipInside = skipped !== '' && !skipped.startsWith('..') && !isAbsolute(skipped);
  const files = entries
    .filter((e) => IMAGE_EXTENSIONS.has(extname(e).toLowerCase()))
    .filter((e) => !e.split(sep).some((part) => part.startsWith('.')))
    .filter((e) => !(skipInside && e.startsWith(`${skipped}${sep}`)))
    .map((e) => e.split(sep).join('/'))
    .sort();
  if (files.length === 0)
    throw invalidArgument('folder', 'a folder containing images (JPEG, PNG, WebP, …)', root);
  return files;
}
