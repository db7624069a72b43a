// The audit, evaluate and HTTP metadata in the task's words (issue 13): rows carry the task's prediction, a
// multilabel label lists several tags counted one by one, a target the model barely believes in is said so,
// and the curves of a score model are not called probabilities. The models are analytic (helpers/task-models),
// so every number below is known by hand.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { summarize } from '../../src/audit/aggregate.js';
import { type AuditItem, auditImages } from '../../src/audit/audit.js';
import { CSV_COLUMNS, rowsToCsv } from '../../src/audit/report/index.js';
import { details, predictionWords } from '../../src/audit/report/row-view.js';
import { checkRow } from '../../src/audit/row-check.js';
import type { AuditRow } from '../../src/audit/types.js';
import {
  LOW_CLASS_PROBABILITY,
  LOW_TAG_PROBABILITY,
  lowConfidence,
  lowConfidenceWords,
} from '../../src/core/confidence.js';
import { SightlineError } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/image.js';
import type { Model } from '../../src/core/model.js';
import { preprocess } from '../../src/core/preprocess.js';
import { encodeModel } from '../../src/engines/onnx/proto.js';
import { renderEvaluationHtml } from '../../src/evaluate/summary.js';
import { deletionInsertion } from '../../src/metrics/deletion-insertion.js';
import { loadHttpModel } from '../../src/models/http.js';
import { openOnnxModel } from '../../src/models/open.js';
import { type ModelServer, startModelServer } from '../helpers/http-model-server.js';
import { scorerProto, sigmoid, taggerProto } from '../helpers/task-models.js';

const S = 32;
const P0 = { x0: 0, y0: 0, x1: 16, y1: 16 };
const P1 = { x0: 16, y0: 16, x1: 32, y1: 32 };
const PLAIN = { mean: [0], std: [1] };
const plain = (value: number): RgbImage => ({
  width: S,
  height: S,
  data: new Uint8Array(S * S * 3).fill(value),
});
const names = (i: number) => ['dog', 'leash'][i] ?? `tag ${i}`;

describe('lowConfidence: the note appears exactly under the threshold', () => {
  const classify = { task: 'classify', outputs: 'probabilities' } as const;
  const multilabel = { task: 'multilabel', outputs: 'probabilities' } as const;

  it('a class under 1% gets a note naming the top class; at 1% none', () => {
    const note = lowConfidence(classify, [0.9, 0.0999, 0.0001], 2, names);
    expect(note).toEqual({
      probability: 0.0001,
      threshold: LOW_CLASS_PROBABILITY,
      instead: { index: 0, label: 'dog', probability: 0.9 },
    });
    expect(lowConfidenceWords(note!, 'tag 2', 'class')).toBe(
      "'tag 2' has under 0.1% probability (under 1.0%): the map shows what little evidence there is for it; " +
        "the model mostly sees 'dog' (90.0%).",
    );
    expect(lowConfidence(classify, [0.98, 0.01, 0.01], 1, names)).toBeUndefined();
    expect(lowConfidence(classify, [0.9, 0.0999, 0.0001], 0, names)).toBeUndefined();
  });

  it('reads logits through the softmax: logits [5, 0] give class 1 softmax 0.67%', () => {
    const note = lowConfidence({ task: 'classify', outputs: 'logits' }, [5, 0], 1, names);
    expect(note?.probability).toBeCloseTo(1 / (1 + Math.exp(5)), 12);
    expect(note?.instead?.label).toBe('dog');
    // A 4.5 gap is 1.1%: no note.
    expect(lowConfidence({ task: 'classify', outputs: 'logits' }, [4.5, 0], 1, names)).toBeUndefined();
  });

  it('a tag under 10% of its own sigmoid gets a note; at 10% or 50% none, whatever the other tags', () => {
    expect(lowConfidence(multilabel, [0.5, 0.05], 1, names)).toEqual({
      probability: 0.05,
      threshold: LOW_TAG_PROBABILITY,
      instead: { index: 0, label: 'dog', probability: 0.5 },
    });
    expect(lowConfidence(multilabel, [0.99, 0.1], 1, names)).toBeUndefined();
    expect(lowConfidence(multilabel, [0.99, 0.5], 1, names)).toBeUndefined();
    // Logits read through each tag's own sigmoid: logit −3 is 4.7%.
    const fromLogits = lowConfidence({ task: 'multilabel', outputs: 'logits' }, [-4, -3], 1, names);
    expect(fromLogits?.probability).toBeCloseTo(sigmoid(-3), 12);
    // The target is the likeliest tag: nothing to name instead.
    expect(fromLogits?.instead).toBeUndefined();
    expect(lowConfidenceWords(fromLogits!, 'leash', 'tag')).toMatch(/; no tag is likely either\.$/);
  });

  it('a score has no probability to be low', () => {
    expect(lowConfidence({ task: 'score', outputs: 'logits' }, [0.0001, -5], 0, names)).toBeUndefined();
  });
});

/** Audits the images through the library, collecting rows by file. */
async function audit(model: Model, items: AuditItem[]): Promise<Map<string, AuditRow>> {
  const rows = new Map<string, AuditRow>();
  await auditImages(items, {
    model,
    method: 'occlusion',
    options: { window: 8, stride: 8 },
    concurrency: 1,
    async onRow(row) {
      rows.set(row.file, row);
    },
  });
  return rows;
}

describe('auditImages with a two-tag tagger and several labels per image', () => {
  // dog = sigmoid(2·m0 − 0.5), leash = sigmoid(3·m1 − 5), m the patch's mean of pixel/255.
  let model: Model;
  const dog = (m: number) => sigmoid(2 * m - 0.5);
  const leash = (m: number) => sigmoid(3 * m - 5);
  let rows: Map<string, AuditRow>;

  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(taggerProto([P0, P1], { scale: [2, 3], bias: [-0.5, -5] }, S)), {
      ...PLAIN,
      labels: ['dog', 'leash'],
    });
    expect(model.spec.task).toBe('multilabel');
    const item = (file: string, value: number, label: string): AuditItem => ({
      file,
      label,
      load: async () => plain(value),
    });
    rows = await audit(model, [
      item('white.png', 255, 'dog|leash'),
      item('black.png', 0, 'leash'),
      item('grey.png', 128, ' dog |'),
      item('white-leash.png', 255, 'leash|leash'),
    ]);
  });
  afterAll(() => model.dispose());

  it('checks every labelled tag on its own sigmoid and explains the first', () => {
    const white = rows.get('white.png')!;
    expect(white.task).toBe('multilabel');
    expect(white.target).toEqual({ index: 0, label: 'dog' });
    expect(white.tags?.map((t) => [t.label, t.present])).toEqual([
      ['dog', true],
      ['leash', false],
    ]);
    expect(white.tags?.[0].probability).toBeCloseTo(dog(1), 5);
    expect(white.tags?.[1].probability).toBeCloseTo(leash(1), 5);
    expect(white.correct).toBe(false);
    expect(rows.get('grey.png')?.correct).toBe(true);
    expect(rows.get('grey.png')?.tags?.[0].probability).toBeCloseTo(dog(128 / 255), 5);
    // A tag named twice counts once.
    expect(rows.get('white-leash.png')?.tags).toHaveLength(1);
    expect(predictionWords(white)).toBe(`tags: dog ${(dog(1) * 100).toFixed(1)}%`);
    expect(predictionWords(rows.get('black.png')!)).toBe(
      `no tag over 50% (highest: dog ${(dog(0) * 100).toFixed(1)}%)`,
    );
  });

  it('notes a tag under 10% (black: leash 0.7%) and not one at 11.9% (white: leash)', () => {
    expect(leash(0)).toBeLessThan(0.1);
    expect(leash(1)).toBeGreaterThan(0.1);
    const black = rows.get('black.png')!;
    expect(black.lowConfidence?.probability).toBeCloseTo(leash(0), 5);
    expect(black.lowConfidence?.instead?.label).toBe('dog');
    expect(rows.get('white-leash.png')?.lowConfidence).toBeUndefined();
    expect(rows.get('white.png')?.lowConfidence).toBeUndefined();
    const facts = new Map(details(black));
    expect(facts.get('Low probability')).toBe(
      `'leash' has 0.7% probability (under 10.0%): the map shows what little evidence there is for it; ` +
        `the model mostly sees 'dog' (${(dog(0) * 100).toFixed(1)}%).`,
    );
  });

  it('counts each tag over the labelled images, by hand: dog 2 of 2, leash 0 of 3; all present in 1 of 4', () => {
    const summary = summarize([...rows.values()]);
    expect(summary.task).toBe('multilabel');
    expect(summary.tags).toEqual([
      { index: 0, label: 'dog', images: 2, present: 2 },
      { index: 1, label: 'leash', images: 3, present: 0 },
    ]);
    expect(summary.accuracy).toBe(0.25);
  });

  it('writes the tags and the note to the CSV, and the rows survive the journal check', () => {
    const csv = rowsToCsv([...rows.values()]).split('\r\n');
    const col = (line: string, name: (typeof CSV_COLUMNS)[number]) =>
      line.split(',')[CSV_COLUMNS.indexOf(name)];
    const white = csv.find((l) => l.startsWith('white.png,'))!;
    expect(col(white, 'task')).toBe('multilabel');
    expect(col(white, 'tags_present')).toBe('dog');
    expect(col(white, 'tags_absent')).toBe('leash');
    expect(col(white, 'target_low_probability')).toBe('');
    const black = csv.find((l) => l.startsWith('black.png,'))!;
    expect(Number(col(black, 'target_low_probability'))).toBeCloseTo(leash(0), 5);
    for (const row of rows.values()) expect(checkRow(JSON.parse(JSON.stringify(row)))).toEqual({ row });
  });

  it('refuses a label that names no tag, and an unknown tag, as error rows', async () => {
    const bad = await audit(model, [
      { file: 'a.png', label: '|', load: async () => plain(0) },
      { file: 'b.png', label: 'dog|cat', load: async () => plain(0) },
    ]);
    expect(bad.get('a.png')?.error?.message).toContain(
      "names no tag; expected one or more tags separated by '|'",
    );
    expect(bad.get('b.png')?.status).toBe('error');
    expect(bad.get('b.png')?.error?.message).toContain('cat');
  });
});

describe('auditImages with a scorer', () => {
  let model: Model;
  beforeAll(async () => {
    model = await openOnnxModel(encodeModel(scorerProto(P0, S, true)), PLAIN);
  });
  afterAll(() => model.dispose());

  it('rows say "score 0.7311", with no percent anywhere in the row\'s words', async () => {
    const rows = await audit(model, [{ file: 'white.png', load: async () => plain(255) }]);
    const row = rows.get('white.png')!;
    expect(row.task).toBe('score');
    expect(row.predictions?.[0].score).toBeCloseTo(sigmoid(1), 6);
    expect(predictionWords(row)).toBe(`score ${sigmoid(1).toPrecision(4)}`);
    expect(row.lowConfidence).toBeUndefined();
    const facts = new Map(details(row));
    expect(facts.get('Task')).toBe('score');
    expect(facts.get('Prediction')).toBe(`score ${sigmoid(1).toPrecision(4)}`);
    expect(facts.get('Outputs')).toBe(`score 0 ${sigmoid(1).toPrecision(4)}`);
    expect(facts.has('Top predictions')).toBe(false);
  });

  it('refuses labels up front: a score has no label to be right about', async () => {
    const error = await audit(model, [{ file: 'a.png', label: 'good', load: async () => plain(0) }]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('INVALID_ARGUMENT');
    expect((error as SightlineError).message).toContain('score model');
  });
});

describe('checkRow: the new fields of a journal row are untrusted too', () => {
  const base = { file: 'a.png', status: 'ok' };
  it.each([
    [{ task: 'regression' }, "'task' is not one of classify, multilabel, score"],
    [{ tags: [{ index: 0, label: 'dog', probability: 1.5, present: true }] }, "'tags[0].probability'"],
    [{ tags: [{ index: 0, label: 'dog', probability: 0.5, present: 'yes' }] }, "'tags[0].present'"],
    [{ lowConfidence: { probability: 0.001 } }, "'lowConfidence.threshold'"],
    [{ lowConfidence: { probability: 0.001, threshold: 0.01, instead: { index: -1 } } }, 'instead.index'],
  ])('%j is refused', (extra, problem) => {
    const result = checkRow({ ...base, ...extra });
    expect('problem' in result && result.problem).toContain(problem);
  });
});

describe('evaluate: the curves in the task’s words', () => {
  const table = {
    methods: ['occlusion'],
    metrics: ['deletion', 'insertion'] as const,
    cells: { occlusion: { deletion: { mean: 2.5, sd: 0, n: 1, undefinedOn: 0 } } },
    curves: { occlusion: { deletion: [3, 2, 1], insertion: [1, 2, 3] } },
    constantMaps: {},
  };
  it('says probability for classify and multilabel, score for a score model', () => {
    const classify = renderEvaluationHtml(
      { ...table, metrics: [...table.metrics] },
      { model: 'm', images: 1 },
    );
    expect(classify).toContain('probability of the class');
    const tags = renderEvaluationHtml(
      { ...table, metrics: [...table.metrics] },
      { model: 'm', images: 1, task: 'multilabel' },
    );
    expect(tags).toContain('probability of the tag');
    const score = renderEvaluationHtml(
      { ...table, metrics: [...table.metrics] },
      { model: 'm', images: 1, task: 'score' },
    );
    expect(score).not.toContain('probability');
    expect(score).toContain('score (raw value)');
    // Raw values 1..3 are plotted over their own range, not clipped to [0, 1]: the top point is at the top.
    expect(score).toMatch(/points="36\.0,36\.0 /);
  });
});

describe('deletion and insertion run on the target’s own scalar', () => {
  it('a tag’s curve is its own sigmoid (not a softmax over the tags); a score’s is its raw value', async () => {
    // The tagger's head without its Sigmoid, read as multilabel logits: white gives logits [1.5, −2].
    const tagger = await openOnnxModel(
      encodeModel(taggerProto([P0, P1], { scale: [2, 3], bias: [-0.5, -5] }, S, false)),
      { ...PLAIN, task: 'multilabel', outputs: 'logits' },
    );
    const scorer = await openOnnxModel(encodeModel(scorerProto(P0, S, false)), PLAIN);
    const map = { width: S, height: S, data: new Float32Array(S * S).fill(1), signed: false };
    try {
      const tag = await deletionInsertion(
        { model: tagger, input: preprocess(plain(255), tagger.spec).tensor, map, target: 1 },
        { steps: 4 },
      );
      // sigmoid(−2) = 11.9%; a softmax over [1.5, −2] would give 2.9%. All deleted: sigmoid(−5).
      expect(tag.deletion.scores[0]).toBeCloseTo(sigmoid(-2), 6);
      expect(tag.deletion.scores.at(-1)).toBeCloseTo(sigmoid(-5), 6);
      const score = await deletionInsertion(
        { model: scorer, input: preprocess(plain(255), scorer.spec).tensor, map, target: 0 },
        { steps: 4 },
      );
      // The raw mean of the patch: 1 on white, 0 once deleted to the baseline 0.
      expect(score.deletion.scores[0]).toBeCloseTo(1, 6);
      expect(score.deletion.scores.at(-1)).toBeCloseTo(0, 6);
    } finally {
      await tagger.dispose();
      await scorer.dispose();
    }
  });
});

describe('HTTP metadata declares the task', () => {
  let servers: ModelServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  const serve = async (metadata: Record<string, unknown>) => {
    const server = await startModelServer({ metadata: { width: 8, height: 8, ...metadata } });
    servers.push(server);
    return server.url;
  };

  it('reads the task from the metadata; --task wins; none means classify', async () => {
    const scored = await loadHttpModel(await serve({ task: 'score' }), { http: { retries: 0 } });
    expect(scored.spec.task).toBe('score');
    await scored.dispose();
    const url = await serve({ task: 'multilabel' });
    const overridden = await loadHttpModel(url, { task: 'classify', http: { retries: 0 } });
    expect(overridden.spec.task).toBe('classify');
    await overridden.dispose();
    const plainModel = await loadHttpModel(await serve({}), { http: { retries: 0 } });
    expect(plainModel.spec.task).toBe('classify');
    await plainModel.dispose();
  });

  it.each([['regression'], [3], [['score']]])('refuses task %j, naming the field', async (task) => {
    const error = await loadHttpModel(await serve({ task }), { http: { retries: 0 } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SightlineError);
    expect((error as SightlineError).code).toBe('MODEL_LOAD');
    expect((error as SightlineError).message).toContain("has 'task'");
    expect((error as SightlineError).message).toContain('expected one of classify, multilabel, score');
  });
});
