// Reading and writing .npy files (Node); the format itself is in npy.ts, which the browser shares.
import { readFile, writeFile } from 'node:fs/promises';
import { messageOf, SightlineError } from '../core/errors.js';
import { decodeNpy, encodeNpy, type NpyArray } from './npy.js';

export async function writeNpy(path: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  const bytes = encodeNpy(data, shape);
  try {
    await writeFile(path, bytes);
  } catch (cause) {
    throw new SightlineError('IO', `Cannot write '${path}': ${messageOf(cause)}.`, { path }, { cause });
  }
}

export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new SightlineError(
      'IO',
      `Cannot read '${path}': ${messageOf(cause)}; expected a .npy file.`,
      { path },
      {
        cause,
      },
    );
  }
  return decodeNpy(bytes, path);
}
