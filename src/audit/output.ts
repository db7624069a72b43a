// Writing into the audit's output folder, which an earlier run (or anyone since) may have filled with links:
// files are replaced, never written through, and sub-folders must stay inside it.
import { mkdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SightlineError } from '../core/errors.js';

/**
 * Writes a file of the output folder whole or not at all: into a fresh file beside it, renamed over it, so
 * readers never see half a file, and a link planted at either name is replaced rather than written through.
 */
export async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const partial = `${path}.partial`;
  await rm(partial, { force: true });
  await writeFile(partial, data, { flag: 'wx' });
  await rename(partial, path);
}

/**
 * Makes the sub-folder `name` of the output folder `out`, refusing one that leads elsewhere (a link planted
 * in an earlier run's folder): the audit writes only inside `out`.
 */
export async function outputFolder(out: string, name: string): Promise<string> {
  const path = join(out, name);
  await mkdir(path, { recursive: true });
  const [outReal, real] = await Promise.all([realpath(out), realpath(path)]);
  if (relative(outReal, real) !== name) {
    throw new SightlineError(
      'IO',
      `The output folder's '${name}' leads to '${real}', outside '${outReal}'; remove it or pass --restart.`,
      { path },
    );
  }
  return path;
}
