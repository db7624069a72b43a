// An embedding model's reference (--reference): a photo the model embeds, or a .npy vector. Its bytes are read
// once and hashed before they are decoded, so a queued run can name the exact file its workers must use and a
// worker can refuse a file that differs from it (queue/inputs.ts) before anything is made of its contents.
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { SightlineError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { DEFAULT_MAX_IMAGE_BYTES, decodeImage } from './decode.js';
import { decodeNpy } from './npy.js';
import { MIB, readRegularFile } from './read-file.js';

/** A reference photo (embedded by the model) or vector (compared as it is). */
export type Reference = RgbImage | Float32Array;

/** A reference is one embedding vector; 64 MiB is 8M float64 values, far past any model's width, and a larger
 * file is refused before it is read rather than after a gigabyte has been loaded to find its shape wrong. */
const MAX_REFERENCE_BYTES = 64 * MIB;

export interface ReferenceFile {
  readonly reference: Reference;
  /** SHA-256 of the file's bytes, 64 lowercase hex digits. */
  readonly sha256: string;
}

/**
 * Reads `path` as a reference: a .npy vector ([D] or [1, D]) by its extension, else a photo. With `sha256`,
 * bytes of another hash are refused before they are decoded.
 */
export async function readReferenceFile(path: string, sha256?: string): Promise<ReferenceFile> {
  const npy = extname(path).toLowerCase() === '.npy';
  const bytes = npy
    ? await readRegularFile(path, {
        maxBytes: MAX_REFERENCE_BYTES,
        expected: 'a .npy vector (one embedding)',
      })
    : await readRegularFile(path, {
        maxBytes: DEFAULT_MAX_IMAGE_BYTES,
        expected: 'a readable image file',
        tooLargeCode: 'IMAGE_TOO_LARGE',
      });
  const got = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== undefined && got !== sha256)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The reference '${path}' has SHA-256 ${got}, not the ${sha256} its run was started with (the file changed since, or the job was altered); expected the same, unchanged file on every machine.`,
      { path, sha256: got, expected: sha256 },
    );
  return { reference: npy ? vectorOf(bytes, path) : await decodeImage(bytes, { name: path }), sha256: got };
}

function vectorOf(bytes: Uint8Array, path: string): Float32Array {
  const array = decodeNpy(bytes, path);
  if (array.shape.filter((d) => d !== 1).length > 1)
    throw new SightlineError(
      'INVALID_ARGUMENT',
      `The reference '${path}' is an array of shape [${array.shape.join(', ')}]; expected one vector ([D] or [1, D]).`,
    );
  return array.data;
}
