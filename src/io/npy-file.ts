// Reading and writing .npy files (Node); the format itself is in npy.ts, which the browser shares.
import { writeFile } from 'node:fs/promises';
import { messageOf, SightlineError } from '../core/errors.js';
import { decodeNpy, encodeNpy, type NpyArray } from './npy.js';
import { MIB, readRegularFile } from './read-file.js';

/** The largest .npy read: a batch of 64 float32 images of 3 × 1024 × 1024 is 768 MiB. */
export const MAX_NPY_BYTES = 1024 * MIB;

export async function writeNpy(path: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  const bytes = encodeNpy(data, shape);
  try {
    await writeFile(path, bytes);
  } catch (cause) {
    throw new SightlineError('IO', `Cannot write '${path}': ${messageOf(cause)}.`, { path }, { cause });
  }
}

/** A float32 or float64 .npy file (regular files only, at most `maxBytes`, MAX_NPY_BYTES by default). */
export async function readNpy(
  path: string,
  maxBytes = MAX_NPY_BYTES,
  expected = 'a .npy file',
): Promise<NpyArray> {
  const bytes = await readRegularFile(path, { maxBytes, expected });
  return decodeNpy(bytes, path);
}
