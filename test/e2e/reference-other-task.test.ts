// evaluate and audit read --reference once for every image; given to a model that is not an embedding it was
// dropped (before prepare refused it) or, since, refused per image under a misleading "no method works" line.
// It is refused once, before any image, as explain refuses it (usage, exit 2).
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;
const at = (name: string) => join(dir, name);
const PHOTO = 'test/fixtures/tasks/astronaut64.png';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-reference-task-'));
  await mkdir(at('photos'));
  await copyFile(PHOTO, at('photos/a.png'));
});

describe('--reference given to a tagger', () => {
  it.each(['evaluate', 'audit'])('%s refuses it before any image, exit code 2', async (command) => {
    const r = await runCli([
      command,
      at('photos'),
      '--model',
      'test/fixtures/tasks/tagger.onnx',
      '--reference',
      PHOTO,
      command === 'audit' ? '--method' : '--methods',
      'gradient',
      '--out',
      at(`out-${command}`),
    ]);
    expect(r.stderr).toMatch(/A reference \(--reference\) .* this model's task is 'multilabel'/);
    expect(r.stderr).not.toMatch(/skipped/);
    expect(r.code).toBe(2);
  });
});
