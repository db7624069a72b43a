// The images under a folder, as the audit and evaluate commands walk it.
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative } from 'node:path';
import { invalidArgument, SightlineError } from '../core/errors.js';

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
  const { files } = await listImageEntries(root, skip);
  if (files.length === 0) throw noImages(root);
  return files;
}

/** The refusal of a folder with nothing to read, for every caller that needs at least one image. */
export function noImages(folder: string): SightlineError {
  return invalidArgument('folder', 'a folder containing images (JPEG, PNG, WebP, …)', folder);
}

/** An entry with an image's name that is not read: what it is instead, in words. */
export interface PassedOver {
  readonly file: string;
  readonly reason: string;
}

/** The error of an entry passed over, wherever it is asked to be read (as an image, or as another's partner). */
export function passedOverError(file: string, reason: string): SightlineError {
  return new SightlineError('IO', `'${file}' ${reason}; expected a regular image file.`, { file });
}

/**
 * As listImages, and also the entries with an image's name that are not read (a FIFO, a device, a link out of
 * the folder or to nothing), so an audit can give each an error row instead of leaving it out unsaid. Never
 * throws for an empty folder.
 */
export async function listImageEntries(
  root: string,
  skip?: string,
): Promise<{ files: string[]; passedOver: PassedOver[] }> {
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
  const passedOver: PassedOver[] = [];

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
      const named = IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase());
      const file = [...parts, entry.name].join('/');
      if (kind.type === 'folder') await walk(kind.real, [...parts, entry.name]);
      else if (kind.type === 'file' && named) files.push(file);
      else if (kind.type === 'other' && named) passedOver.push({ file, reason: kind.reason });
    }
  };
  await walk(realRoot, []);
  files.sort();
  passedOver.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { files, passedOver };
}

type Kind = { type: 'file' | 'folder'; real: string } | { type: 'other'; reason: string };

/** A regular file or a folder, seen through a link when it stays inside the root; anything else says what it is. */
async function kindOf(entry: Dirent, path: string, realRoot: string): Promise<Kind> {
  if (entry.isFile()) return { type: 'file', real: path };
  if (entry.isDirectory()) return { type: 'folder', real: path };
  if (!entry.isSymbolicLink()) return { type: 'other', reason: `is ${special(entry)}, not a regular file` };
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return { type: 'other', reason: 'is a link to nothing (dangling or looping)' };
  }
  const inside = relative(realRoot, real);
  // A link back to the root is a loop: walking it again is refused by the walked set.
  if (inside === '') return { type: 'folder', real };
  if (inside.split(/[\\/]/)[0] === '..' || isAbsolute(inside))
    return { type: 'other', reason: 'is a link to a place outside the audited folder' };
  try {
    const target = await stat(real);
    if (target.isFile()) return { type: 'file', real };
    if (target.isDirectory()) return { type: 'folder', real };
    return { type: 'other', reason: `is a link to ${special(target)}, not to a regular file` };
  } catch {
    return { type: 'other', reason: 'is a link that cannot be followed' };
  }
}

function special(entry: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean }): string {
  if (entry.isFIFO()) return 'a FIFO (named pipe)';
  if (entry.isSocket()) return 'a socket';
  return entry.isCharacterDevice() ? 'a character device' : 'a block device';
}
