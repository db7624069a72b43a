import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sightline from '../../src/index.js';
import { readLabels } from '../../src/models/labels-file.js';

describe('readLabels reads a labels file from disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-labels-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('one label per line, or Keras-style JSON', async () => {
    const text = join(dir, 'labels.txt');
    await writeFile(text, 'cat\r\n dog \n\n');
    expect(await readLabels(text)).toEqual(['cat', 'dog']);
    const json = join(dir, 'index.json');
    await writeFile(json, '{"1": ["n02", "dog"], "0": ["n01", "cat"]}');
    expect(await readLabels(json)).toEqual(['cat', 'dog']);
  });

  it('names a file it cannot read', async () => {
    const missing = join(dir, 'missing.txt');
    await expect(readLabels(missing)).rejects.toMatchObject({
      name: 'SightlineError',
      code: 'IO',
      message: expect.stringContaining(`Cannot read the labels file '${missing}'`),
    });
  });

  it('is exported from the Node entry with loadHttpModel', () => {
    expect(sightline.readLabels).toBe(readLabels);
    expect(typeof sightline.loadHttpModel).toBe('function');
  });
});
