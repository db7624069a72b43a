// A worker's early read of a job's image (queue/inputs.ts readJobImageAhead): the bytes of a readable image
// inside the --root folders, nothing for anything else (so loadJobImage reads it itself, with the words a local
// audit gives), and the same pixels and the same errors either way.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJobImage, readJobImageAhead } from '../../src/queue/inputs.js';

let dir = '';
let roots: string[] = [];
const image = (file: string, source = join(dir, 'in', file)) => ({ file, source });

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'sightline-read-ahead-')));
  roots = [join(dir, 'in')];
  await mkdir(roots[0]);
  const pixels = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256);
  await sharp(pixels, { raw: { width: 5, height: 4, channels: 3 } })
    .png()
    .toFile(join(dir, 'in', 'a.png'));
  await writeFile(join(dir, 'in', 'notes.png'), 'not a picture');
  await writeFile(join(dir, 'outside.png'), await readFile(join(dir, 'in', 'a.png')));
  execFileSync('mkfifo', [join(dir, 'in', 'fifo.png')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readJobImageAhead', () => {
  it('reads an image inside the roots, and the pixels are those read without it', async () => {
    const job = image('a.png');
    const ahead = await readJobImageAhead(job, roots);
    expect(ahead?.name).toBe(join(dir, 'in', 'a.png'));
    expect(Buffer.from(ahead?.bytes ?? []).equals(await readFile(join(dir, 'in', 'a.png')))).toBe(true);
    const early = await loadJobImage(job, roots, Promise.resolve(ahead));
    const late = await loadJobImage(job, roots);
    expect([early.width, early.height]).toEqual([5, 4]);
    expect(Buffer.from(early.data).equals(Buffer.from(late.data))).toBe(true);
  });

  it('gives nothing for a file outside the roots, a FIFO or a missing file; the load then fails as before', async () => {
    for (const job of [
      image('outside.png', join(dir, 'outside.png')),
      image('fifo.png'),
      image('gone.png'),
    ]) {
      const ahead = readJobImageAhead(job, roots);
      expect(await ahead, job.file).toBeUndefined();
      const without = await loadJobImage(job, roots).catch((e: Error) => e.message);
      expect(typeof without, job.file).toBe('string');
      await expect(loadJobImage(job, roots, ahead), job.file).rejects.toThrow(without as string);
    }
  });

  it('reads a file that is no picture, and decoding it fails with the words of a read from the path', async () => {
    const job = image('notes.png');
    const ahead = readJobImageAhead(job, roots);
    expect((await ahead)?.bytes.length).toBe('not a picture'.length);
    const without = await loadJobImage(job, roots).catch((e: Error) => e.message);
    expect(without).toContain(join(dir, 'in', 'notes.png'));
    await expect(loadJobImage(job, roots, ahead)).rejects.toThrow(without as string);
  });
});
