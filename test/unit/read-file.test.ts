import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/core/errors.js';
import { formatBytes, type ReadFileLimits, readRegularFile } from '../../src/io/read-file.js';

let dir: string;
const limits: ReadFileLimits = { maxBytes: 1000, expected: 'a test file' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(path: string, options = limits): Promise<SightlineError> {
  const error = await readRegularFile(path, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SightlineError);
  return error as SightlineError;
}

describe('readRegularFile', () => {
  it('reads a regular file, up to and including the limit, directly or through a link', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
    await writeFile(join(dir, 'exact.bin'), bytes);
    await symlink(join(dir, 'exact.bin'), join(dir, 'link.bin'));
    expect(await readRegularFile(join(dir, 'exact.bin'), limits)).toEqual(bytes);
    expect(await readRegularFile(join(dir, 'link.bin'), limits)).toEqual(bytes);
    await writeFile(join(dir, 'empty.bin'), new Uint8Array(0));
    expect((await readRegularFile(join(dir, 'empty.bin'), limits)).length).toBe(0);
  });

  it('refuses a file one byte over the limit from its size, with the code the caller chose', async () => {
    const path = join(dir, 'over.bin');
    await writeFile(path, new Uint8Array(1001));
    const error = await refusal(path, { ...limits, tooLargeCode: 'IMAGE_TOO_LARGE' });
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.message).toBe(
      `Cannot read '${path}': it is 1001 bytes, over the limit of 1000 bytes; expected a test file.`,
    );
  });

  it('stops a file longer than its stat size at the limit (procfs reports 0 bytes)', async () => {
    const status = new TextDecoder().decode(
      await readRegularFile('/proc/self/status', { maxBytes: 1 << 20, expected: 'text' }),
    );
    expect(status).toMatch(/^Name:/);
    expect(status).toContain('VmHWM:');
    const error = await refusal('/proc/self/status', { maxBytes: 100, expected: 'text' });
    expect(error.message).toBe(
      "Cannot read '/proc/self/status': it is more than 100 bytes, over the limit of 100 bytes; expected text.",
    );
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const path = join(dir, 'pipe.png');
    execFileSync('mkfifo', [path]);
    const error = await refusal(path, { ...limits, code: 'MODEL_LOAD' });
    expect(error.code).toBe('MODEL_LOAD');
    expect(error.message).toBe(
      `Cannot read '${path}': it is a FIFO (named pipe), not a regular file; expected a test file.`,
    );
  });

  it('refuses /dev/zero, directly or through a link, and a folder', async () => {
    await symlink('/dev/zero', join(dir, 'zero.png'));
    for (const path of ['/dev/zero', join(dir, 'zero.png')]) {
      const error = await refusal(path);
      expect(error.code).toBe('IO');
      expect(error.message).toBe(
        `Cannot read '${path}': it is a character device, not a regular file; expected a test file.`,
      );
    }
    await mkdir(join(dir, 'folder.png'));
    expect((await refusal(join(dir, 'folder.png'))).message).toContain(': it is a folder; expected');
  });

  it('names a missing file and keeps its errno, with the noun the caller gives', async () => {
    const path = join(dir, 'missing.txt');
    const error = await refusal(path, { ...limits, noun: 'the labels file' });
    expect(error.message).toBe(
      `Cannot read the labels file '${path}': no such file or folder; expected a test file.`,
    );
    expect(error.details.errno).toBe('ENOENT');
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(17)).toBe('17 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(512 * 1024 * 1024)).toBe('512 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3 GiB');
  });
});
