// The images under a folder, as the audit and evaluate commands walk it.
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative } from 'node:path';
import { invalidArgument } from '../core/errors.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/**
 * Every image file under `root` (recursively), as '/'-separated paths relative to it, sorted. Only regular files
 * are listed: a FIFO or device with an image's name is not an image (reading a FIFO would wait forever).
 * Symbolic links are followed only when their target lies inside `root` (a downloaded dataset cannot pull a
 * private file into a report), and each folder is walked once, so links that loop end the walk instead of
 * multiplying it. Hidden files and folders are skipped, and so is `skip` (an output folder inside the one
 * being read). An empty result is an error naming the folder.
 */
export async function listImages(root: string, skip?: string): Promise<string[]> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    if (!(await stat(realRoot)).isDirectory()) throw new Error('not a folder');
  } catch (cause) {
    throw invalidArgument('folder', 'an existing, readable folder', `${root} (${(cause as Error).message})`);
  }
  const skipped = skip === undefined ? undefined : await realpath(skip).catch(() => undefined);
  const walked = new Set<string>();
  const files: string[] = [];

  const walk = async (dir: string, parts: readonly string[]): Promise<void> => {
    if (dir === skipped || walked.has(dir)) return;
    walked.add(dir);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (cause) {
      throw invalidArgument(
        'folder',
        'a folder whose subfolders are readable',
        `${dir} (${(cause as Error).message})`,
      );
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const kind = await kindOf(entry, path, realRoot);
      if (kind?.type === 'folder') await walk(kind.real, [...parts, entry.name]);
      else if (kind?.type === 'file' && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
        files.push([...parts, entry.name].join('/'));
    }
  };
  await walk(realRoot, []);
  files.sort();
  if (files.length === 0)
    throw invalidArgument('folder', 'a folder containing images (JPEG, PNG, WebP, …)', root);
  return files;
}

/** A regular file or a folder, seen through a link when it stays inside the root; anything else is undefined. */
async function kindOf(
  entry: Dirent,
  path: string,
  realRoot: string,
): Promise<{ type: 'file' | 'folder'; real: string } | undefined> {
  if (entry.isFile()) return { type: 'file', real: path };
  if (entry.isDirectory()) return { type: 'folder', real: path };
  if (!entry.isSymbolicLink()) return undefined;
  try {
    const real = await realpath(path);
    const inside = relative(realRoot, real);
    if (inside === '' || inside.split(/[\\/]/)[0] === '..' || isAbsolute(inside)) return undefined;
    const target = await stat(real);
    if (target.isFile()) return { type: 'file', real };
    if (target.isDirectory()) return { type: 'folder', real };
  } catch {
    // A dangling or looping link names nothing to read.
  }
  return undefined;
}
