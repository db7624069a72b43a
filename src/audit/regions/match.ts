// How an audited file finds its regions: by its path relative to the audited folder, or by a shorter or longer
// path that ends the same way at a folder boundary.
import type { ImageRegions } from '../types.js';
import { quoteList, regionsError } from './common.js';

/**
 * The regions for `file` (a path relative to the audited folder, '/' separators), or undefined when the index
 * has none. An exact key wins; otherwise a key matches when one of the two paths ends with the other at a
 * folder boundary, so a COCO `dog.jpg` matches `animals/dog.jpg` and `val2017/dog.jpg` matches `dog.jpg`,
 * but `cats/dog.jpg` never matches `animals/dog.jpg`. Mask entries match on the path without its extension.
 * More than one matching key is an error, and so is a key that matches more than one of `files` (the audited
 * folder's files; pass them to catch `dog.jpg` in the regions when the folder holds `a/dog.jpg` and
 * `b/dog.jpg`) — errors the audit records for the image before going on.
 */
export function regionsFor(
  index: ReadonlyMap<string, ImageRegions>,
  file: string,
  files?: readonly string[],
): ImageRegions | undefined {
  const exact = index.get(file);
  if (exact) return exact;
  const keys: string[] = [];
  for (const [key, regions] of index) if (sameImage(key, regions, file)) keys.push(key);
  if (keys.length === 0) return undefined;
  const regions = index.get(keys[0])!;
  if (keys.length > 1) {
    throw regionsError(
      `'${file}' matches ${keys.length} images named in '${regions.source}' (${quoteList(keys)}); expected ` +
        'one. Name the images there by their path relative to the audited folder.',
      { file, keys },
    );
  }
  if (files) {
    const claimants = files.filter((f) => !index.has(f) && sameImage(keys[0], regions, f));
    if (claimants.length > 1) {
      throw regionsError(
        `The regions for '${keys[0]}' in '${regions.source}' could belong to ${claimants.length} images of ` +
          `the folder (${quoteList(claimants)}); name the image there by its path relative to the audited ` +
          'folder.',
        { file, key: keys[0], files: claimants },
      );
    }
  }
  return regions;
}

/** Whether a regions key names `file`: one path ends with the other at a folder boundary (masks: no extension). */
function sameImage(key: string, regions: ImageRegions, file: string): boolean {
  const a = regions.maskPath === undefined ? key : withoutExtension(key);
  const b = regions.maskPath === undefined ? file : withoutExtension(file);
  return a === b || endsWithPath(a, b) || endsWithPath(b, a);
}

/** Whether `path` ends with `tail` and a '/' just before it. */
function endsWithPath(path: string, tail: string): boolean {
  return path.length > tail.length && path.endsWith(tail) && path[path.length - tail.length - 1] === '/';
}

function withoutExtension(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? path.slice(0, dot) : path;
}

/** A file name from a regions or labels file as a key: trimmed, '/' separators, no leading './' or '/'. */
export function normalizeFileName(name: string): string {
  return name
    .trim()
    .replaceAll('\\', '/')
    .replace(/^(\.?\/)+/, '');
}
