import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { runCli } from '../helpers/cli.js';
import { scorerProto, sigmoid, taggerProto } from '../helpers/task-models.js';

const S = 32;
const P0 = { x0: 0, y0: 0, x1: 16, y1: 16 };
const P1 = { x0: 16, y0: 16, x1: 32, y1: 32 };

/**
 * Models the user brings with no flag about what their outputs mean: a scorer with one sigmoid output, one
 * with a raw float, and a two-tag sigmoid tagger. On a white photo with mean 0 and std 1 each patch's mean
 * is 1, so every output is known here: sigmoid(1), 1, and the tags sigmoid(2 − 0.5) and sigmoid(1.5 − 1).
 */
describe('sightline explain in the task’s words', () => {
  let dir: string;
  const model = (name: string) => join(dir, name);
  const explain = (name: string, ...args: string[]) =>
    runCli([
      'explain',
      join(dir, 'white.png'),
      '--model',
      model(name),
      '--mean',
      '0',
      '--std',
      '1',
      '--method',
      'occlusion',
      '--out',
      join(dir, `${name}.png`),
      ...args,
    ]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sightline-tasks-'));
    const head = { scale: [2, 1.5], bias: [-0.5, -1] } as const;
    await writeFile(model('scorer.onnx'), encodeModel(scorerProto(P0, S, true)));
    await writeFile(model('raw.onnx'), encodeModel(scorerProto(P0, S, false)));
    await writeFile(model('tagger.onnx'), encodeModel(taggerProto([P0, P1], head, S)));
    // The same tagger with a sidecar that names the tags and says it is to be read as scores.
    await writeFile(model('named.onnx'), encodeModel(taggerProto([P0, P1], head, S)));
    await writeFile(model('named.json'), JSON.stringify({ task: 'score', labels: ['sunny', 'grassy'] }));
    await writeFile(model('bad.onnx'), encodeModel(taggerProto([P0, P1], head, S)));
    await writeFile(model('bad.json'), JSON.stringify({ task: 'regression' }));
    await sharp({ create: { width: S, height: S, channels: 3, background: '#ffffff' } })
      .png()
      .toFile(join(dir, 'white.png'));
  });

  it('a one-output sigmoid scorer prints its score, not a softmax over one value', async () => {
    const result = await explain('scorer.onnx');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`score ${sigmoid(1).toPrecision(4)} for `);
    expect(result.stdout).not.toMatch(/100\.0%/);
    const json = JSON.parse((await explain('scorer.onnx', '--json')).stdout);
    expect(json.task).toBe('score');
    expect(json.predictions).toHaveLength(1);
    expect(json.predictions[0].score).toBeCloseTo(sigmoid(1), 6);
  });

  it('a raw-float scorer prints its raw value', async () => {
    const result = await explain('raw.onnx', '--json');
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.task).toBe('score');
    expect(json.predictions[0].score).toBeCloseTo(1, 6);
    expect((await explain('raw.onnx')).stdout).toContain('score 1.000 for ');
  });

  it('a sigmoid tagger prints each tag’s own probability', async () => {
    const [t0, t1] = [sigmoid(1.5), sigmoid(0.5)];
    const result = await explain('tagger.onnx');
    expect(result.code, result.stderr).toBe(0);
    const pct = (p: number) => `${(p * 100).toFixed(1)}%`;
    expect(result.stdout).toContain(
      `tags over 50% for ${join(dir, 'white.png')}: tag 0 (0) ${pct(t0)}, tag 1 (1) ${pct(t1)}\n`,
    );
    const json = JSON.parse((await explain('tagger.onnx', '--json')).stdout);
    expect(json.task).toBe('multilabel');
    expect(json.predictions.map((p: { score: number }) => p.score)).toEqual([
      expect.closeTo(t0, 6),
      expect.closeTo(t1, 6),
    ]);
  });

  it('--task and the sidecar override what the graph says', async () => {
    const [t0, t1] = [sigmoid(1.5), sigmoid(0.5)];
    const classify = await explain('tagger.onnx', '--task', 'classify', '--json');
    expect(classify.code, classify.stderr).toBe(0);
    const json = JSON.parse(classify.stdout);
    expect(json.task).toBe('classify');
    // As before tasks: a softmax over the two outputs.
    expect(json.predictions[0].score).toBeCloseTo(Math.exp(t0) / (Math.exp(t0) + Math.exp(t1)), 6);

    const score = await explain('tagger.onnx', '--task', 'score');
    expect(score.code, score.stderr).toBe(0);
    expect(score.stdout).toContain(`score (0) ${t0.toPrecision(4)} for ${join(dir, 'white.png')}\n`);
    expect(score.stdout).toContain(`score (1) ${t1.toPrecision(4)} for ${join(dir, 'white.png')}\n`);

    const named = await explain('named.onnx');
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toContain(`score 'sunny' (0) ${t0.toPrecision(4)} for ${join(dir, 'white.png')}\n`);
    // A flag wins over the sidecar.
    const flagged = await explain('named.onnx', '--task', 'multilabel');
    expect(flagged.stdout).toContain(`tags over 50% for ${join(dir, 'white.png')}: sunny (0) `);
  });

  it('an unknown task is a usage error naming the choices, from a flag or a sidecar', async () => {
    const flag = await explain('tagger.onnx', '--task', 'regression');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/'regression' is invalid.*classify, multilabel, score, segment, embed/);
    const sidecar = await explain('bad.onnx');
    expect(sidecar.code).toBe(2);
    expect(sidecar.stderr).toContain(
      `Argument 'task' must be one of classify, multilabel, score, segment, embed; got "regression".`,
    );
  });

  it('audit: a scorer’s row carries its score, and the progress line prints it as a number', async () => {
    const folder = join(dir, 'photos');
    await mkdir(folder);
    await copyFile(join(dir, 'white.png'), join(folder, 'white.png'));
    const out = join(dir, 'audit');
    const result = await runCli([
      'audit',
      folder,
      '--model',
      model('scorer.onnx'),
      '--mean',
      '0',
      '--std',
      '1',
      '--method',
      'occlusion',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`white.png: score ${sigmoid(1).toPrecision(4)}`);
    const row = JSON.parse((await readFile(join(out, 'results.jsonl'), 'utf8')).split('\n')[0]);
    expect(row.predictions).toEqual([{ index: 0, label: 'score 0', score: expect.closeTo(sigmoid(1), 6) }]);
  });

  it('explain --help shows --task', async () => {
    const help = await runCli(['explain', '--help']);
    expect(help.stdout).toMatch(/--task <task>\s+what the outputs mean/);
  });
});
