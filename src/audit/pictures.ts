// The pictures a row names (its overlay and thumbnail, relative to the output folder), found and read as
// untrusted paths: the row may come from an edited journal, and the files may have been deleted since.
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileErrorReason } from '../core/errors.js';
import { readAtMost } from '../io/read-file.js';
import type { AuditRow } from './types.js';

export { pictureType } from './picture-type.js';

/** The largest picture read (bytes): an overlay of OVERLAY_SIDE pixels is well under 2 MB. */
export const MAX_PICTURE_BYTES = 16 * 1024 * 1024;

export interface RowPictures {
  readonly thumbnail: Uint8Array;
  readonly overlay: Uint8Array;
}

/**
 * Reads a row's thumbnail and overlay from `out`, or says why they cannot be used: a path that leads outside
 * `out` (once links are resolved), a file that is missing, not a regular file, or over MAX_PICTURE_BYTES. A
 * row that names no pictures gives `{ problem: undefined }`: nothing to read, nothing wrong.
 */
export async function readRowPictures(
  out: string,
  row: AuditRow,
): Promise<{ pictures: RowPictures } | { problem: string | undefined }> {
  if (row.overlay === undefined && row.thumbnail === undefined) return { problem: undefined };
  if (row.overlay === undefined || row.thumbnail === undefined) {
    return { problem: 'the row names only one of its two pictures' };
  }
  const outReal = await realpath(out).catch(() => resolve(out));
  try {
    const thumbnail = await readConfined(outReal, row.thumbnail, true);
    const overlay = await readConfined(outReal, row.overlay, true);
    return { pictures: { thumbnail: thumbnail!, overlay: overlay! } };
  } catch (error) {
    if (error instanceof PictureProblem) return { problem: error.message };
    throw error;
  }
}

/** Why a row's pictures cannot be used (as readRowPictures, without reading them), or undefined when they can. */
export async function rowPicturesProblem(out: string, row: AuditRow): Promise<string | undefined> {
  if (row.overlay === undefined && row.thumbnail === undefined) return undefined;
  if (row.overlay === undefined || row.thumbnail === undefined)
    return 'the row names only one of its two pictures';
  const outReal = await realpath(out).catch(() => resolve(out));
  try {
    await readConfined(outReal, row.thumbnail, false);
    await readConfined(outReal, row.overlay, false);
    return undefined;
  } catch (error) {
    if (error instanceof PictureProblem) return error.message;
    throw error;
  }
}

class PictureProblem extends Error {}

/** Whether `path` (already resolved) is `dir` itself or lies inside it. */
function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

async function readConfined(outReal: string, name: string, read: boolean): Promise<Uint8Array | undefined> {
  const shown = JSON.stringify(name);
  if (typeof name !== 'string' || isAbsolute(name) || !inside(outReal, resolve(outReal, name))) {
    throw new PictureProblem(`${shown} is outside the output folder`);
  }
  let real: string;
  try {
    real = await realpath(resolve(outReal, name));
  } catch (cause) {
    throw new PictureProblem(`${shown}: ${fileErrorReason(cause)}`);
  }
  if (!inside(outReal, real)) throw new PictureProblem(`${shown} leads outside the output folder`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    // Opened once and checked through the same handle, so the file read is the file checked.
    // Non-blocking, so a FIFO planted there cannot hang the open (it is then refused as not a regular file).
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = await handle.stat();
    if (!stat.isFile()) throw new PictureProblem(`${shown} is not a regular file`);
    const tooLarge = (size: string) =>
      new PictureProblem(`${shown} holds ${size} bytes, over ${MAX_PICTURE_BYTES}`);
    if (stat.size > MAX_PICTURE_BYTES) throw tooLarge(String(stat.size));
    // Bounded even if the file grows after its check.
    return read
      ? await readAtMost(handle, stat.size, MAX_PICTURE_BYTES, () =>
          tooLarge(`more than ${MAX_PICTURE_BYTES}`),
        )
      : undefined;
  } catch (cause) {
    if (cause instanceof PictureProblem) throw cause;
    throw new PictureProblem(`${shown}: ${fileErrorReason(cause)}`);
  } finally {
    await handle?.close();
  }
}
