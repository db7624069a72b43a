// `sightline audit`, `explain` and `evaluate` on a scorer and a tagger as a user runs them (issue 13): rows in
// the task's words, several labels per image counted per tag, a target under its threshold said so, and an
// HTTP model whose metadata declares its task. Every number is known by hand from the analytic models
// (helpers/task-models.ts): with mean 0 and std 1 a white patch's mean is 1, a black one's 0.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { runCli } from '../helpers/cli.js';
import { type ModelServer, startModelServer } from '../helpers/http-model-server.js';
import { scorerProto, sigmoid, taggerProto } from '../helpers/task-models.js';

const S = 32;
const P0 = { x0: 0, y0: 0, x1: 16, y1: 16 };
const P1 = { x0: 16, y0: 16, x1: 32, y1: 32 };
const PLAIN = ['--mean', '0', '--std', '1', '--method', 'occlusion'];
/** dog = sigmoid(2·m0 − 0.5), leash = sigmoid(3·m1 − 5), m a patch's mean of pixel/255. */
const HEAD = { scale: [2, 3], bias: [-0.5, -5] } as const;
const dog = (m: number) => sigmoid(2 * m - 0.5);
const leash = (m: number) => sigmoid(3 * m - 5);

let dir: string;
const at = (...parts: string[]) => join(dir, ...parts);

async function plain(path: string, value: number): Promise<void> {
  await sharp({ create: { width: S, height: S, channels: 3, background: { r: value, g: value, b: value } } })
    .png()
    .toFile(path);
}

/** results.csv as records keyed by column (no field here holds a comma or a quote). */
async function csvRows(out: string): Promise<Record<string, string>[]> {
  const [header, ...lines] = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\r\n');
  const columns = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i], v])));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sightline-audit-tasks-'));
  await writeFile(at('scorer.onnx'), encodeModel(scorerProto(P0, S, true)));
  await writeFile(at('tagger.onnx'), encodeModel(taggerProto([P0, P1], HEAD, S)));
  await writeFile(at('tags.txt'), 'dog\nleash\n');
  // The same head without its Sigmoid, read as a classifier's logits: white gives [1.5, −2] (leash 2.9%),
  // and a logit gap of 5.5 is needed for under 1%; with bias −8.5 white gives [1.5, −5.5]: leash 0.09%.
  await writeFile(
    at('classifier.onnx'),
    encodeModel(taggerProto([P0, P1], { scale: [2, 3], bias: [-0.5, -8.5] }, S, false)),
  );
  for (const folder of ['scores', 'tags']) await mkdir(at(folder));
  await plain(at('scores', 'white.png'), 255);
  await plain(at('scores', 'black.png'), 0);
  await plain(at('tags', 'white.png'), 255);
  await plain(at('tags', 'black.png'), 0);
  await plain(at('tags', 'grey.png'), 128);
  await plain(at('tags', 'white-leash.png'), 255);
  await writeFile(
    at('tags.csv'),
    'file,label\nwhite.png,dog|leash\nblack.png,leash\ngrey.png,dog\nwhite-leash.png,leash\n',
  );
});

describe('sightline audit of a scorer', () => {
  it('rows say "score 0.7311", not a percent; the summary has no accuracy', async () => {
    const out = at('out-scores');
    const result = await runCli([
      'audit',
      at('scores'),
      '--model',
      at('scorer.onnx'),
      ...PLAIN,
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`white.png: score ${sigmoid(1).toPrecision(4)}`);
    expect(result.stderr).toContain(`black.png: score ${sigmoid(0).toPrecision(4)}`);
    expect(result.stdout).not.toContain('Accuracy');
    const rows = await csvRows(out);
    const white = rows.find((r) => r.file === 'white.png')!;
    expect(white.task).toBe('score');
    expect(white.prediction).toBe(`score ${sigmoid(1).toPrecision(4)}`);
    expect(Number(white.top1_score)).toBeCloseTo(sigmoid(1), 6);
    for (const r of rows) expect(`${r.prediction}${r.top1_score}`).not.toContain('%');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('The model gives a score, not a class, so there is no label to be right about');
    expect(html).toContain(`<td class="num">${sigmoid(1).toPrecision(4)}</td>`);
    const jsonl = (await readFile(join(out, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(jsonl.map((r) => r.task)).toEqual(['score', 'score']);
  });

  it('refuses to resume into results of another task', async () => {
    const result = await runCli([
      'audit',
      at('scores'),
      '--model',
      at('scorer.onnx'),
      ...PLAIN,
      '--task',
      'multilabel',
      '--out',
      at('out-scores'),
    ]);
    expect(result.code).toBe(2);
    // Either row may be the first read back: the two images are audited concurrently.
    expect(result.stderr).toMatch(
      /holds results of a score model \('(black|white)\.png'\); this run's model is read as multilabel/,
    );
  });

  it('refuses --labels with a usage error, saying why', async () => {
    await writeFile(at('score-labels.csv'), 'file,label\nwhite.png,good\n');
    const result = await runCli([
      'audit',
      at('scores'),
      '--model',
      at('scorer.onnx'),
      ...PLAIN,
      '--labels',
      at('score-labels.csv'),
      '--out',
      at('out-score-labels'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a score has no label to be right about');
  });
});

describe('sightline audit of a tagger with several labels per image', () => {
  let result: Awaited<ReturnType<typeof runCli>>;
  const out = () => at('out-tags');
  beforeAll(async () => {
    result = await runCli([
      'audit',
      at('tags'),
      '--model',
      at('tagger.onnx'),
      '--class-names',
      at('tags.txt'),
      ...PLAIN,
      '--labels',
      at('tags.csv'),
      '--out',
      out(),
    ]);
  });

  it('counts each labelled tag by hand: dog present in 2 of 2, leash in 0 of 3; all present in 1 of 4', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'Every labelled tag present in 25.0% of labelled images; per tag: dog 2 of 2, leash 0 of 3.',
    );
  });

  it('rows carry the tags, their presence and the note for a tag under 10%', async () => {
    const rows = new Map((await csvRows(out())).map((r) => [r.file, r]));
    const white = rows.get('white.png')!;
    expect(white.task).toBe('multilabel');
    expect(white.prediction).toBe(`tags: dog ${(dog(1) * 100).toFixed(1)}%`);
    expect([white.tags_present, white.tags_absent, white.correct, white.target]).toEqual([
      'dog',
      'leash',
      'false',
      'dog',
    ]);
    expect(rows.get('grey.png')?.correct).toBe('true');
    // Leash at 0.7% (black) is noted; at 11.9% (white, explained as the only label) it is not.
    expect(Number(rows.get('black.png')?.target_low_probability)).toBeCloseTo(leash(0), 5);
    expect(rows.get('white-leash.png')?.target).toBe('leash');
    expect(rows.get('white-leash.png')?.target_low_probability).toBe('');
    const black = result.stderr.split('\n').find((l) => l.includes('black.png'));
    expect(black).toContain('black.png: no tag over 50% (highest: dog 37.8%)');
    expect(black).toContain("note: 'leash' has 0.7% probability (under 10.0%)");
    expect(black).toContain("the model mostly sees 'dog' (37.8%)");
    const summary = JSON.parse(await readFile(join(out(), 'summary.json'), 'utf8')).summary;
    expect(summary.tags).toEqual([
      { index: 0, label: 'dog', images: 2, present: 2 },
      { index: 1, label: 'leash', images: 3, present: 0 },
    ]);
    const html = await readFile(join(out(), 'report.html'), 'utf8');
    expect(html).toContain('<caption>Labelled tags</caption>');
    expect(html).toContain('1 image explains a tag under 10% probability');
  });
});

describe('sightline explain says when the target is unlikely', () => {
  const explain = (model: string, image: string, ...args: string[]) =>
    runCli(['explain', image, '--model', at(model), ...PLAIN, '--out', at(`${model}.png`), ...args]);

  it('a tag at 4.7% gets the note in text and JSON; the same tag at 11.9% does not', async () => {
    expect(leash(1)).toBeCloseTo(0.1192, 4);
    const high = await explain('tagger.onnx', at('tags', 'white.png'), '--target', '1');
    expect(high.code, high.stderr).toBe(0);
    expect(high.stdout).not.toContain('Note:');
    expect(leash(128 / 255)).toBeLessThan(0.1);
    const low = await explain(
      'tagger.onnx',
      at('tags', 'grey.png'),
      '--target',
      '1',
      '--labels',
      at('tags.txt'),
    );
    expect(low.stdout).toContain(
      `Note: 'leash' has ${(leash(128 / 255) * 100).toFixed(1)}% probability (under 10.0%): the map shows what ` +
        `little evidence there is for it; the model mostly sees 'dog' (${(dog(128 / 255) * 100).toFixed(1)}%).`,
    );
    const json = JSON.parse(
      (await explain('tagger.onnx', at('tags', 'grey.png'), '--target', '1', '--json')).stdout,
    );
    expect(json.lowConfidence.probability).toBeCloseTo(leash(128 / 255), 5);
    expect(json.lowConfidence.instead).toMatchObject({ index: 0 });
    const none = JSON.parse(
      (await explain('tagger.onnx', at('tags', 'white.png'), '--target', '0', '--json')).stdout,
    );
    expect(none.lowConfidence).toBeUndefined();
  });

  it('a class under 1% of the softmax gets the note, naming the class the model sees instead', async () => {
    const p = 1 / (1 + Math.exp(7)); // logits [1.5, −5.5]: 0.09%
    const low = await explain(
      'classifier.onnx',
      at('tags', 'white.png'),
      '--task',
      'classify',
      '--outputs',
      'logits',
      '--target',
      '1',
      '--json',
    );
    expect(low.code, low.stderr).toBe(0);
    const json = JSON.parse(low.stdout);
    expect(json.lowConfidence.probability).toBeCloseTo(p, 6);
    expect(json.lowConfidence.threshold).toBe(0.01);
    expect(json.lowConfidence.note).toContain("the model mostly sees 'class 0' (99.9%)");
    // Black: logits [−0.5, −8.5], a gap of 8 still; grey: [0.504, −6.994], 0.06%. Target 0 at 99.9%: none.
    const top = JSON.parse(
      (
        await explain(
          'classifier.onnx',
          at('tags', 'white.png'),
          '--task',
          'classify',
          '--outputs',
          'logits',
          '--json',
        )
      ).stdout,
    );
    expect(top.lowConfidence).toBeUndefined();
  });
});

describe('sightline evaluate in the task’s words', () => {
  it('a scorer’s curves are a score, not a probability', async () => {
    const out = at('eval-scores');
    const result = await runCli([
      'evaluate',
      at('scores'),
      '--model',
      at('scorer.onnx'),
      '--mean',
      '0',
      '--std',
      '1',
      '--methods',
      'occlusion',
      '--metrics',
      'deletion,insertion',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
    expect(json.task).toBe('score');
    // Deletion on white starts at the raw score sigmoid(1) (the scorer's own output, not a softmax of it = 1).
    const white = json.images.find((i: { file: string }) => i.file === 'white.png');
    expect(white.methods[0].curves.deletion[0]).toBeCloseTo(sigmoid(1), 5);
    const html = await readFile(join(out, 'evaluation.html'), 'utf8');
    expect(html).toContain('score (raw value)');
    expect(html).not.toContain('probability');
  });
});

describe('an HTTP model whose metadata declares its task', () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startModelServer({
      metadata: { width: 16, height: 16, task: 'score', labels: ['bright', 'dark'] },
    });
  });
  afterAll(() => server.close());

  it('explain prints scores, not percentages; --task classify wins over the metadata', async () => {
    const scored = await runCli([
      'explain',
      at('scores', 'white.png'),
      '--model',
      server.url,
      '--method',
      'occlusion',
      '--out',
      at('http.png'),
      '--json',
    ]);
    expect(scored.code, scored.stderr).toBe(0);
    const json = JSON.parse(scored.stdout);
    expect(json.task).toBe('score');
    // White is pixel 255, c = 127: bright = sigmoid(127 / 32), dark = 1 − that, read raw (no softmax).
    expect(json.predictions[0].score).toBeCloseTo(sigmoid(127 / 32), 5);
    expect(json.predictions[1].score).toBeCloseTo(1 - sigmoid(127 / 32), 5);
    const overridden = await runCli([
      'explain',
      at('scores', 'white.png'),
      '--model',
      server.url,
      '--method',
      'occlusion',
      '--out',
      at('http.png'),
      '--task',
      'classify',
      '--json',
    ]);
    expect(JSON.parse(overridden.stdout).task).toBe('classify');
  });
});
