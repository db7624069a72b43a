// --reference is one embedding vector: a file far larger than any vector is refused from its size, before it is read.
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReference } from '../../src/cli/target-flags.js';
import { encodeNpy } from '../../src/io/npy.js';

describe('--reference size limit', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-ref-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a small vector', async () => {
    const path = join(dir, 'v.npy');
    await writeFile(path, encodeNpy(new Float32Array([1, 2, 3]), [1, 3]));
    expect(Array.from((await readReference(path)) as Float32Array)).toEqual([1, 2, 3]);
  });

  it('refuses a 65 MiB file without reading it', async () => {
    const path = join(dir, 'huge.npy');
    await writeFile(path, encodeNpy(new Float32Array([1]), [1]));
    await truncate(path, 65 * 1024 * 1024); // sparse: its size is all that is checked
    await expect(readReference(path)).rejects.toThrow(
      /65 MiB, over the limit of 64 MiB; expected a .npy vector \(one embedding\)/,
    );
  });
});
