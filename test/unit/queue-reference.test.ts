// A worker's reading of an embedding model's reference (queue/inputs.ts openReference): by the hash the job
// names, checked on the bytes before they are decoded, kept per hash, and confined to the --root folders even
// when the hash is already kept.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy.js';
import { readReferenceFile } from '../../src/io/reference-file.js';
import { openReference, ReferenceCache } from '../../src/queue/inputs.js';

let dir = '';
let inside = '';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'sightline-queue-ref-')));
  inside = join(dir, 'refs');
  await mkdir(inside);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readReferenceFile', () => {
  it('gives the SHA-256 of the bytes read, and refuses bytes of another hash before decoding them', async () => {
    const path = join(dir, 'v.npy');
    const bytes = encodeNpy(Float32Array.of(1, 2, 3), [3]);
    await writeFile(path, bytes);
    const read = await readReferenceFile(path);
    expect(read.sha256).toBe(sha256(bytes));
    expect(Array.from(read.reference as Float32Array)).toEqual([1, 2, 3]);
    // Not a .npy at all: the hash is what is refused, as nothing of the file is used.
    const junk = join(dir, 'junk.npy');
    await writeFile(junk, 'not numpy');
    await expect(readReferenceFile(junk, read.sha256)).rejects.toThrow(
      `The reference '${junk}' has SHA-256 ${sha256(Buffer.from('not numpy'))}, not the ${read.sha256} its run was started with`,
    );
    await expect(readReferenceFile(junk, sha256(Buffer.from('not numpy')))).rejects.toThrow(
      'is not a usable .npy array',
    );
  });
});

describe('openReference', () => {
  it('reads a reference once per hash, refuses changed bytes in a new cache, and a path outside the roots always', async () => {
    const path = join(inside, 'b.npy');
    await writeFile(path, encodeNpy(Float32Array.of(0.5, -1), [1, 2]));
    const job = { path, sha256: sha256(await readFile(path)) };
    const kept = new ReferenceCache();
    expect(Array.from((await openReference(job, [inside], kept)) as Float32Array)).toEqual([0.5, -1]);
    expect(await openReference(undefined, [inside], kept)).toBeUndefined();

    // The bytes the job names are kept: a file changed since is not read again by this worker…
    await writeFile(path, encodeNpy(Float32Array.of(3, 4), [2]));
    expect(Array.from((await openReference(job, [inside], kept)) as Float32Array)).toEqual([0.5, -1]);
    // …and a worker that reads it afresh refuses it, then reads it again for the next job once it is right.
    const fresh = new ReferenceCache();
    await expect(openReference(job, [inside], fresh)).rejects.toThrow(/has SHA-256 [0-9a-f]{64}, not the/);
    await writeFile(path, encodeNpy(Float32Array.of(0.5, -1), [1, 2]));
    expect(Array.from((await openReference(job, [inside], fresh)) as Float32Array)).toEqual([0.5, -1]);

    // A job naming a file outside the roots with a hash already kept is refused all the same.
    const outside = join(dir, 'b.npy');
    await writeFile(outside, encodeNpy(Float32Array.of(0.5, -1), [1, 2]));
    await expect(openReference({ ...job, path: outside }, [inside], kept)).rejects.toThrow(
      `The reference '${outside}' is outside the folders this worker may read`,
    );
  });
});
