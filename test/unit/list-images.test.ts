import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listImageEntries, listImages } from '../../src/io/list-images.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-list-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('listImages', () => {
  it('lists regular image files only, and follows links only inside the folder', async () => {
    const root = join(dir, 'data');
    const outside = join(dir, 'outside');
    await mkdir(join(root, 'cats', 'deep'), { recursive: true });
    await mkdir(join(root, '.cache'));
    await mkdir(outside);
    for (const name of ['a.jpg', 'B.PNG', 'cats/c.webp', 'cats/deep/d.tiff', '.cache/e.png', 'notes.txt'])
      await writeFile(join(root, name), 'x');
    await writeFile(join(outside, 'private.jpg'), 'x');
    execFileSync('mkfifo', [join(root, 'fifo.png')]);
    await symlink('/dev/zero', join(root, 'zero.png'));
    await symlink(join(outside, 'private.jpg'), join(root, 'private.jpg'));
    await symlink(outside, join(root, 'outside-folder'));
    await symlink('nowhere.jpg', join(root, 'dangling.jpg'));
    await symlink('a.jpg', join(root, 'a-link.jpg'));
    await symlink('cats', join(root, 'felines'));
    expect(await listImages(root)).toEqual([
      'B.PNG',
      'a-link.jpg',
      'a.jpg',
      'cats/c.webp',
      'cats/deep/d.tiff',
    ]);
    // The entries with an image's name that are not read say what they are, so an audit can give them rows.
    expect((await listImageEntries(root)).passedOver).toEqual([
      { file: 'dangling.jpg', reason: 'is a link to nothing (dangling or looping)' },
      { file: 'fifo.png', reason: 'is a FIFO (named pipe), not a regular file' },
      { file: 'private.jpg', reason: 'is a link to a place outside the audited folder' },
      { file: 'zero.png', reason: 'is a link to a place outside the audited folder' },
    ]);
  });

  it('walks each folder once, so links that loop cannot multiply the walk', async () => {
    const root = join(dir, 'loops');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'sub', 'x.png'), 'x');
    await symlink('..', join(root, 'sub', 'up'));
    await symlink('..', join(root, 'sub', 'up-again'));
    await symlink('.', join(root, 'sub', 'here'));
    // A walk that follows links sees 2^40 paths before ELOOP stops it; this one sees the folder once.
    expect(await listImages(root)).toEqual(['sub/x.png']);
  });

  it('lists a linked folder inside the root under the link name when it comes first', async () => {
    const root = join(dir, 'linked');
    await mkdir(join(root, 'z-real'), { recursive: true });
    await writeFile(join(root, 'z-real', 'p.jpg'), 'x');
    await symlink('z-real', join(root, 'a-alias'));
    expect(await listImages(root)).toEqual(['a-alias/p.jpg']);
  });

  it('skips the output folder inside the one being read', async () => {
    const root = join(dir, 'with-out');
    await mkdir(join(root, 'out', 'overlays'), { recursive: true });
    await writeFile(join(root, 'in.png'), 'x');
    await writeFile(join(root, 'out', 'overlays', 'in.png'), 'x');
    expect(await listImages(root, join(root, 'out'))).toEqual(['in.png']);
    expect(await listImages(root)).toEqual(['in.png', 'out/overlays/in.png']);
  });

  it('names a folder with no images, or none at all', async () => {
    const root = join(dir, 'only-specials');
    await mkdir(root);
    execFileSync('mkfifo', [join(root, 'a.png')]);
    await expect(listImages(root)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: `Argument 'folder' must be a folder containing images (JPEG, PNG, WebP, …); got ${JSON.stringify(root)}.`,
    });
    await expect(listImages(join(dir, 'missing'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
