import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultModelFiles } from '../../src/models/default-model.js';
import { parseLabels } from '../../src/models/labels.js';
import { convertTfliteCached } from '../../src/models/tflite.js';

describe('converted-model cache', () => {
  const saved = process.env.SIGHTLINE_CACHE_DIR;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-cache-'));
    process.env.SIGHTLINE_CACHE_DIR = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SIGHTLINE_CACHE_DIR;
    else process.env.SIGHTLINE_CACHE_DIR = saved;
  });

  it('converts the default model once, keyed by its hash, then reuses the stored entry', async () => {
    const tflite = new Uint8Array(await readFile(defaultModelFiles().model));
    const first = await convertTfliteCached(tflite);
    expect(first.fromCache).toBe(false);
    expect(first.quantizedInput).toEqual({ scale: 1 / 128, zeroPoint: 128 });
    expect(first.outputs).toBe('logits');
    const entries = await readdir(join(dir, 'models'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^[0-9a-f]{24}-v\d+$/);
    const second = await convertTfliteCached(tflite);
    expect(second.fromCache).toBe(true);
    expect(second.path).toBe(first.path);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(second.quantizedInput).toEqual(first.quantizedInput);
  });
});

describe('labels', () => {
  it('reads text, JSON lists, index maps and Keras [wnid, name] pairs', () => {
    expect(parseLabels('cat\ndog\n\n')).toEqual(['cat', 'dog']);
    expect(parseLabels('["cat", "dog"]')).toEqual(['cat', 'dog']);
    expect(parseLabels('{"1": "dog", "0": "cat"}')).toEqual(['cat', 'dog']);
    expect(parseLabels('{"0": ["n02123045", "tabby"]}')).toEqual(['tabby']);
    expect(parseLabels('{"labels": ["a", "b"]}')).toEqual(['a', 'b']);
    expect(() => parseLabels('{"x": "cat"}', 'l.json')).toThrow(
      /'l\.json' maps 'x', which is not a class index/,
    );
    expect(() => parseLabels('[oops', 'l.json')).toThrow(/looks like JSON but does not parse/);
  });
});
