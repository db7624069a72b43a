// Reading an untrusted path (Node only): pictures, models, sidecars, labels and .npy inputs are read through
// here, so a FIFO cannot hang a run and /dev/zero or a huge file cannot exhaust memory.
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { type ErrorCode, fileErrorReason, SightlineError } from '../core/errors.js';

export const MIB = 1024 * 1024;

export interface ReadFileLimits {
  /** The largest file accepted, in bytes; a larger one is refused before (or as soon as) it is read. */
  readonly maxBytes: number;
  /** What the file should be, for messages: "an image file", "an ONNX or TFLite model". */
  readonly expected: string;
  /** What messages call the file before its path ("the labels file 'x.txt'"); default just the path. */
  readonly noun?: string;
  /** The code of every refusal (the caller's domain: IO for inputs, MODEL_LOAD for models). Default IO. */
  readonly code?: ErrorCode;
  /** The code when the file is over maxBytes (IMAGE_TOO_LARGE for a picture, say). Default `code`. */
  readonly tooLargeCode?: ErrorCode;
}

/**
 * The bytes of the regular file at `path` (a symbolic link to one is followed). Anything else — a FIFO, a
 * device such as /dev/zero, a socket, a folder — is refused without reading, as is a file over `maxBytes`.
 * The type and size come from fstat on the opened handle, so the file cannot be swapped between the check
 * and the read; the read stops at maxBytes + 1 bytes whatever the file does meanwhile (a file that grows).
 */
export async function readRegularFile(path: string, limits: ReadFileLimits): Promise<Uint8Array> {
  const code = limits.code ?? 'IO';
  const refuse = (reason: string, details: Record<string, unknown> = {}, cause?: unknown, as = code) =>
    new SightlineError(
      as,
      `Cannot read ${limits.noun ? `${limits.noun} ` : ''}'${path}': ${reason}; expected ${limits.expected}.`,
      { path, ...details },
      cause === undefined ? undefined : { cause },
    );
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It changes nothing
    // for regular files, which are the only ones read below.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (cause) {
    throw refuse(fileErrorReason(cause), { errno: (cause as NodeJS.ErrnoException).code }, cause);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw refuse(`it is ${fileKind(stats)}`, { kind: fileKind(stats) });
    const tooLarge = (size: string) =>
      refuse(
        `it is ${size}, over the limit of ${formatBytes(limits.maxBytes)}`,
        { maxBytes: limits.maxBytes },
        undefined,
        limits.tooLargeCode ?? code,
      );
    if (stats.size > limits.maxBytes) throw tooLarge(formatBytes(stats.size));
    // A file that grows after fstat (a log being written, a crafted FUSE file) is stopped at maxBytes + 1.
    return await readAtMost(handle, stats.size, limits.maxBytes, () =>
      tooLarge(`more than ${formatBytes(limits.maxBytes)}`),
    );
  } catch (cause) {
    if (cause instanceof SightlineError) throw cause;
    throw refuse(fileErrorReason(cause), { errno: (cause as NodeJS.ErrnoException).code }, cause);
  } finally {
    await handle.close();
  }
}

/**
 * Reads an opened file to the end, trusting the stat size only as a first guess: never more than maxBytes + 1
 * bytes, and `overLimit()` is thrown when the file holds more than maxBytes (one that grew after its check).
 */
export async function readAtMost(
  handle: FileHandle,
  statSize: number,
  maxBytes: number,
  overLimit: () => Error,
): Promise<Uint8Array> {
  // One byte past the stat size, so a file that has grown is noticed without a second read. Never from the
  // shared pool: the bytes may be handed whole (buffer, offset 0) to native code such as ONNX Runtime.
  let buffer = Buffer.allocUnsafeSlow(Math.min(statSize, maxBytes) + 1);
  let filled = 0;
  for (;;) {
    if (filled === buffer.length) {
      if (filled > maxBytes) throw overLimit();
      const grown = Buffer.allocUnsafeSlow(Math.min(buffer.length * 2, maxBytes + 1));
      buffer.copy(grown, 0, 0, filled);
      buffer = grown;
    }
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled > maxBytes) throw overLimit();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, filled);
}

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe), not a regular file';
  if (stats.isCharacterDevice()) return 'a character device, not a regular file';
  if (stats.isBlockDevice()) return 'a block device, not a regular file';
  if (stats.isSocket()) return 'a socket, not a regular file';
  return 'not a regular file';
}

/** Sizes in the unit a person would use: "300 MiB", "12 KiB", "17 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MIB) return `${round(bytes / (1024 * MIB))} GiB`;
  if (bytes >= MIB) return `${round(bytes / MIB)} MiB`;
  if (bytes >= 1024) return `${round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

function round(x: number): string {
  return String(Math.round(x * 10) / 10);
}
