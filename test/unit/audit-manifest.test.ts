// Manifests are untrusted files: each malformed one is refused with the line and what was expected.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isManifestFile, readManifest } from '../../src/audit/manifest.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-manifest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function manifest(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('readManifest', () => {
  it('reads paths from the manifest folder, absolute paths and URLs without their query values', async () => {
    const path = await manifest(
      'ok.csv',
      'url,label\na/1.png,dog\n/abs/2.png,\nhttps://u:p@h/x.png?sig=abc,cat\n',
    );
    expect(await readManifest(path)).toEqual([
      { file: 'a/1.png', source: join(dir, 'a/1.png'), label: 'dog' },
      { file: '/abs/2.png', source: '/abs/2.png' },
      { file: 'https://h/x.png?sig=…', source: 'https://u:p@h/x.png?sig=abc', label: 'cat' },
    ]);
    expect(await isManifestFile(path)).toBe(true);
    expect(await isManifestFile(dir)).toBe(false);
  });

  it.each([
    ['cols.csv', 'name,label\na.png,dog\n', "its header 'name,label' names no file, path or url column"],
    ['scheme.csv', 'file\nfile:///etc/passwd\n', 'line 2 names a URL that is not http(s)'],
    ['empty.jsonl', '{"file": ""}\n', 'line 1 names no image'],
    ['json.jsonl', '{"file": "a.png"}\nnot json\n', 'line 2 is not JSON'],
    ['type.jsonl', '{"file": 3}\n', "line 1 has no text 'file', 'path' or 'url'"],
    ['label.jsonl', '{"file": "a.png", "label": 7}\n', "line 1's 'label' is not text"],
    ['dup.jsonl', '{"file": "a.png"}\n{"path": "a.png"}\n', "line 2 names 'a.png' again (line 1)"],
  ])('refuses %s', async (name, text, words) => {
    await expect(readManifest(await manifest(name, text))).rejects.toThrow(words);
  });
});
