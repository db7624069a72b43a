import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { METHODS } from '../../src/methods/registry.js';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-cli-'));
});

describe('sightline explain refuses bad photos with a clear message and a non-zero exit', () => {
  it.each([
    [
      'a truncated JPEG',
      'truncated.jpg',
      async (p: string) => {
        const jpeg = await readFile(join(SHARED_IMAGES, 'dog.jpg'));
        await writeFile(p, jpeg.subarray(0, jpeg.length >> 1));
      },
      /truncated\.jpg/,
    ],
    ['a 0-byte file', 'empty.png', async (p: string) => writeFile(p, ''), /empty\.png/],
    [
      'a text file',
      'notes.jpg',
      async (p: string) => writeFile(p, 'this is not a photo\n'),
      /notes\.jpg.*not an image|not an image.*notes\.jpg/s,
    ],
    [
      'a 20000×20000 PNG',
      'huge.png',
      async (p: string) => {
        await sharp({
          create: { width: 20000, height: 20000, channels: 3, background: '#808080' },
          limitInputPixels: false,
        })
          .png({ compressionLevel: 9 })
          .toFile(p);
      },
      /20000×20000.*megapixels/,
    ],
  ])(
    '%s',
    async (_, name, make, message) => {
      const path = join(dir, name);
      await make(path);
      const result = await runCli(['explain', path, '--method', 'occlusion', '--out', join(dir, 'x.png')]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/unexpected error|at .*\.js:\d+/);
    },
    120_000,
  );

  it('a missing file', async () => {
    const result = await runCli(['explain', join(dir, 'nope.jpg')]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/nope\.jpg/);
  });
});

describe('sightline explain arguments', () => {
  it('rejects an unknown method listing the choices', async () => {
    const result = await runCli(['explain', join(SHARED_IMAGES, 'dog.jpg'), '--method', 'magic']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/magic.*occlusion.*rise/s);
  });

  it('rejects a label the model does not know', async () => {
    const result = await runCli(['explain', join(SHARED_IMAGES, 'dog.jpg'), '--target', 'spaceship']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Target 'spaceship' is not a label/);
  });

  it('lists the methods from the registry', async () => {
    const result = await runCli(['explain', '--list-methods', '--json']);
    expect(result.code).toBe(0);
    const ids = JSON.parse(result.stdout).map((m: { id: string }) => m.id);
    expect(ids).toEqual(METHODS.map((m) => m.id));
    expect(ids).toEqual(
      expect.arrayContaining(['gradient', 'integrated-gradients', 'grad-cam', 'occlusion', 'rise']),
    );
  });

  it('explains a chosen label with occlusion and prints it', async () => {
    const out = join(dir, 'cat.png');
    const result = await runCli([
      'explain',
      join(SHARED_IMAGES, 'chelsea.png'),
      '--method',
      'occlusion',
      '--target',
      'tiger cat',
      '--out',
      out,
      '--window',
      '60',
      '--stride',
      '30',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Occlusion map for 'tiger cat' written to/);
    const meta = await sharp(out).metadata();
    expect(meta.width).toBe(451);
  }, 120_000);

  it('stops cleanly on Ctrl-C with exit code 130 and writes nothing', async () => {
    const out = join(dir, 'never.png');
    // 4000 masks take minutes; the interrupt lands while batches are running.
    const result = await runCli(
      ['explain', join(SHARED_IMAGES, 'dog.jpg'), '--method', 'rise', '--masks', '4000', '--out', out],
      {
        interruptAfterMs: 8000,
      },
    );
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/stopping after the current batch/);
    expect(result.stderr).toMatch(/cancelled/i);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  }, 300_000);
});
