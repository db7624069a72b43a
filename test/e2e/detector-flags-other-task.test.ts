// Detector-only flags given for a model of another task were silently ignored (issue 13 review): the user
// believed a threshold or a box convention shaped the result. explain, audit and evaluate refuse them in
// words naming the model's task (usage, exit 2), as they refuse --region and --reference; the defaults
// (--detections 5) never trigger it.
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;
const at = (name: string) => join(dir, name);
const PHOTO = 'test/fixtures/tasks/astronaut64.png';
const TAGGER = 'test/fixtures/tasks/tagger.onnx';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-detector-flags-'));
  await mkdir(at('photos'));
  await copyFile(PHOTO, at('photos/a.png'));
});

describe('detector flags given for a tagger', () => {
  it('explain refuses --score-threshold, naming the task, exit 2', async () => {
    const r = await runCli([
      'explain',
      PHOTO,
      '-m',
      TAGGER,
      '--method',
      'gradient',
      '--score-threshold',
      '0.5',
      '-o',
      at('a.png'),
    ]);
    expect(r.stderr).toContain(
      "--score-threshold is read only for object detectors; this model's task is 'multilabel', which gives no boxes or detections. Leave it out",
    );
    expect(r.code).toBe(2);
  });

  it('audit refuses --iou-threshold and --detections, both named', async () => {
    const r = await runCli([
      'audit',
      at('photos'),
      '-m',
      TAGGER,
      '--method',
      'gradient',
      '--iou-threshold',
      '0.5',
      '--detections',
      '3',
      '--out',
      at('audit'),
    ]);
    expect(r.stderr).toContain(
      "--iou-threshold, --detections are read only for object detectors; this model's task is 'multilabel'",
    );
    expect(r.code).toBe(2);
  });

  it('evaluate refuses --box-format', async () => {
    const r = await runCli([
      'evaluate',
      at('photos'),
      '-m',
      TAGGER,
      '--methods',
      'gradient',
      '--box-format',
      'xyxy',
      '--out',
      at('evaluate'),
    ]);
    expect(r.stderr).toContain(
      "--box-format is read only for object detectors; this model's task is 'multilabel'",
    );
    expect(r.stderr).not.toMatch(/skipped/);
    expect(r.code).toBe(2);
  });

  it('without them (the default --detections 5 included) explain runs', async () => {
    const r = await runCli(['explain', PHOTO, '-m', TAGGER, '--method', 'gradient', '-o', at('b.png')]);
    expect(r.stderr).not.toContain('object detectors');
    expect(r.code, r.stderr).toBe(0);
  });
});
