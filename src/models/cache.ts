import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { SightlineError } from '../core/errors.js';
import type { GradientGraphCache } from '../engines/onnx/session.js';

/** Where converted models live: $SIGHTLINE_CACHE_DIR, else the platform's user cache directory. */
export function cacheDir(): string {
  return process.env.SIGHTLINE_CACHE_DIR || envPaths('sightline', { suffix: '' }).cache;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface CacheEntry {
  readonly dir: string;
  readonly files: Record<string, Uint8Array>;
  readonly hit: boolean;
}

/**
 * A cache entry is a folder of files made together. It is written under a temporary name and renamed into
 * place whole, so an interrupted conversion never leaves a half-written entry, and two processes racing to
 * make it both end up with a complete one.
 */
export async function cachedEntry(
  key: string,
  make: () => Record<string, Uint8Array> | Promise<Record<string, Uint8Array>>,
): Promise<CacheEntry> {
  const root = join(cacheDir(), 'models');
  const dir = join(root, key);
  try {
    const names = await readdir(dir);
    const files: Record<string, Uint8Array> = {};
    for (const name of names) files[name] = new Uint8Array(await readFile(join(dir, name)));
    return { dir, files, hit: true };
  } catch {
    // Not cached yet (or unreadable): make it.
  }
  const files = await make();
  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(tmp, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(tmp, name), bytes);
  try {
    await rename(tmp, dir);
  } catch {
    // Another process finished first; its entry is as good as ours.
    await rm(tmp, { recursive: true, force: true });
  }
  return { dir, files, hit: false };
}

/**
 * Gradient-augmented graphs of one model, stored under the model's identity (its content hash, or the
 * converted TFLite entry it came from), so the probe and transform run once per model, not once per process.
 * The shape probe (layer list, shapes and constants) is one more entry, with graph.json alone.
 */
export function gradientGraphCache(identity: () => string): GradientGraphCache {
  return {
    async load(key, make) {
      const entry = await cachedEntry(
        `${identity()}-grad-${sha256(new TextEncoder().encode(key)).slice(0, 16)}`,
        async () => {
          const made = await make();
          const meta = { 'graph.json': new TextEncoder().encode(made.meta) };
          // A model's shape probe is stored as a meta without a graph.
          return made.model.length > 0 ? { 'model.onnx': made.model, ...meta } : meta;
        },
      );
      const meta = entry.files['graph.json'];
      if (!meta)
        throw new SightlineError(
          'MODEL_LOAD',
          `The cached gradient graph '${entry.dir}' has no graph.json; delete that folder and run again.`,
          { dir: entry.dir },
        );
      return {
        model: entry.files['model.onnx'] ?? new Uint8Array(0),
        meta: new TextDecoder().decode(meta),
      };
    },
  };
}
