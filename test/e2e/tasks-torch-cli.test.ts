import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/io/npy-file.js';
import { runCli } from '../helpers/cli.js';
import { massInside } from '../helpers/task-models.js';

const DIR = join(import.meta.dirname, '../fixtures/tasks');
const PHOTO = join(DIR, 'astronaut64.png');

/**
 * The torch exports of scripts/golden/task_models.py as a new user runs them: no flag about what the outputs
 * mean, only the mean and std their inputs were made with (0 and 1: the photo's values / 255). What torch
 * printed for the same photo is in tasks.json.
 */
describe('sightline explain on torch scorers and taggers, with no --task', () => {
  let dir: string;
  let meta: { patch: number[]; models: Record<string, { outputs: Record<string, number[]> }> };
  const explain = (name: string, ...args: string[]) =>
    runCli([
      'explain',
      PHOTO,
      '--model',
      join(DIR, `${name}.onnx`),
      '--mean',
      '0',
      '--std',
      '1',
      '--out',
      join(dir, `${name}.png`),
      ...args,
    ]);
  const torch = (name: string) => meta.models[name].outputs['astronaut64.png'];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-torch-tasks-'));
    meta = JSON.parse(await readFile(join(DIR, 'tasks.json'), 'utf8'));
  });

  it.each([['scorer_sigmoid'], ['scorer_raw']])(
    '%s prints torch’s score, not "100.0% class 0"',
    async (name) => {
      const [score] = torch(name);
      const text = await explain(name, '--method', 'occlusion');
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(`score ${score.toPrecision(4)} for ${PHOTO}`);
      expect(text.stdout).not.toMatch(/%/);
      const json = await explain(name, '--method', 'occlusion', '--json');
      const out = JSON.parse(json.stdout);
      expect(out.task).toBe('score');
      expect(out.predictions).toHaveLength(1);
      expect(Math.abs(out.predictions[0].score - score)).toBeLessThanOrEqual(1e-6);
    },
  );

  it('the sigmoid tagger prints each label’s own probability, torch’s', async () => {
    const [t0, t1] = torch('tagger');
    const json = JSON.parse((await explain('tagger', '--method', 'occlusion', '--json')).stdout);
    expect(json.task).toBe('multilabel');
    const scores = [...json.predictions].sort((a, b) => a.index - b.index).map((p) => p.score);
    expect(Math.abs(scores[0] - t0)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(scores[1] - t1)).toBeLessThanOrEqual(1e-6);
  });

  it.each([['occlusion'], ['gradient']])(
    '%s: the saved map of the sigmoid scorer holds ≥ 80% of its mass in the patch',
    async (method) => {
      const file = join(dir, `${method}.npy`);
      const result = await explain('scorer_sigmoid', '--method', method, '--save-map', file);
      expect(result.code, result.stderr).toBe(0);
      const map = await readNpy(file);
      expect(map.shape).toEqual([64, 64]);
      const [x0, y0, x1, y1] = meta.patch;
      expect(massInside(map.data, 64, { x0, y0, x1, y1 })).toBeGreaterThanOrEqual(0.8);
    },
  );
  it('RISE explains the scorer signed and puts most of the map in the patch', async () => {
    const file = join(dir, 'rise.npy');
    const result = await explain('scorer_sigmoid', '--method', 'rise', '--save-map', file, '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).method).toBe('rise');
    const map = await readNpy(file);
    const [x0, y0, x1, y1] = meta.patch;
    // Not issue 13's 0.8: see the RISE note in test/unit/tasks-torch.test.ts. Pure mask noise keeps 0.25.
    expect(massInside(map.data, 64, { x0, y0, x1, y1 })).toBeGreaterThanOrEqual(0.55);
    expect(Math.min(...map.data)).toBeLessThan(0);
  });

  it.each([['occlusion'], ['gradient'], ['rise']])(
    '%s: label 0’s saved map is the same when label 1’s head changes',
    async (method) => {
      const maps = [];
      for (const name of ['tagger', 'tagger_changed']) {
        const file = join(dir, `${name}-${method}.npy`);
        const result = await explain(name, '--method', method, '--target', '0', '--save-map', file);
        expect(result.code, result.stderr).toBe(0);
        maps.push((await readNpy(file)).data);
      }
      const max = Math.max(...maps[0].map(Math.abs));
      expect(max).toBeGreaterThan(0);
      for (let i = 0; i < maps[0].length; i++)
        expect(Math.abs(maps[0][i] - maps[1][i])).toBeLessThanOrEqual(1e-6 * max);
    },
  );
});
