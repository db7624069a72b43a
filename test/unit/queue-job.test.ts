// The queue's checks on what comes from outside: --queue URLs (their passwords redacted in every form) and job
// data (each field of its type; no secrets or unknown settings carried).
import { describe, expect, it } from 'vitest';
import { redisTarget } from '../../src/queue/connection.js';
import { checkEvaluateJob, isEvaluateJob } from '../../src/queue/evaluate-job.js';
import { checkAuditJob, jobId, resultsQueueName } from '../../src/queue/job.js';

const settings = {
  model: '/models/m.onnx',
  hints: { mean: [0], std: [1], width: 64, height: 64, labelsPath: '/models/classes.txt' },
  method: 'gradient',
  options: { seed: 1 },
  topK: 5,
  tolerance: 15,
  faithfulness: false,
};
const results = resultsQueueName(settings, '/out', 'host');
const HASH = 'a'.repeat(64);
const job = { v: 1, results, attempts: 3, settings, image: { file: 'a.png', source: '/data/a.png' } };

describe('redisTarget', () => {
  it('shows a URL with its password replaced and redacts it, raw or encoded, from any text', () => {
    const t = redisTarget('redis://user:p%40ss%2Fw0rd@db.example:6380/2');
    expect(t.shown).toBe('redis://user:***@db.example:6380/2');
    expect(t.redact('auth p@ss/w0rd failed for p%40ss%2Fw0rd')).toBe('auth *** failed for ***');
    expect(redisTarget('rediss://:s3cret@h:1/0').shown).toBe('rediss://:***@h:1/0');
    // A lone user part is sent as the password (the legacy AUTH form), so it is hidden too.
    expect(redisTarget('redis://s3cret@h:1').shown).toBe('redis://***@h:1');
    expect(redisTarget('redis://h:1').redact('nothing to hide')).toBe('nothing to hide');
  });

  it('refuses what is not a Redis URL without quoting its password', () => {
    for (const url of [
      'http://:s3cret@h:1/0',
      'redis://:s3cret@h:1/x',
      'redis://:s3cret@h:1/0?tls=1',
      'not a url s3cret@',
    ]) {
      expect(() => redisTarget(url)).toThrow(/is not a Redis URL; expected redis:\/\//);
      try {
        redisTarget(url);
      } catch (error) {
        expect((error as Error).message).not.toContain('s3cret');
      }
    }
  });
});

describe('checkAuditJob', () => {
  it('accepts a job as the coordinator writes it, and ids depend on the audit and the image', () => {
    expect(checkAuditJob(job)).toEqual(job);
    expect(jobId(results, job.image)).toBe(jobId(results, { ...job.image }));
    expect(jobId(results, job.image)).not.toBe(jobId(results, { ...job.image, source: '/data/b.png' }));
    expect(resultsQueueName({ ...settings, topK: 4 }, '/out', 'host')).not.toBe(results);
    expect(resultsQueueName(settings, '/other', 'host')).not.toBe(results);
  });

  it.each([
    [{ ...job, v: 2 }, "'v' is 2, expected 1"],
    [{ ...job, results: 'bull:other' }, "'results' is not a Sightline results queue name"],
    [{ ...job, attempts: 0 }, "'attempts' is not a whole number from 1 to 100"],
    [{ ...job, image: { file: 'a.png', source: 'a.png' } }, "'image.source' is not an absolute path"],
    [{ ...job, image: { file: '', source: '/a.png' } }, "'image.file' is not a text of 1 to 4096"],
    [{ ...job, settings: { ...settings, model: 'm.onnx' } }, "'settings.model' is not 'default'"],
    [{ ...job, settings: { ...settings, topK: 1e9 } }, "'settings.topK' is not a whole number"],
    [
      { ...job, settings: { ...settings, hints: { http: { headers: ['A: b'] } } } },
      'headers and keys stay on each worker',
    ],
    [
      { ...job, settings: { ...settings, hints: { http: { apiKeyEnv: 'HOME' } } } },
      'headers and keys stay on each worker',
    ],
    [
      { ...job, settings: { ...settings, hints: { labelsPath: 'rel.txt' } } },
      "'settings.hints.labelsPath' is not an absolute path",
    ],
    [
      { ...job, settings: { ...settings, hints: { evil: 1 } } },
      "'settings.hints.evil' is not a model setting",
    ],
    [
      { ...job, settings: { ...settings, options: { seed: Number.NaN } } },
      "'settings.options.seed' is not a number",
    ],
    [
      {
        ...job,
        image: {
          ...job.image,
          regions: { shapes: [{ type: 'box', x: 0, y: 0, width: -1, height: 1 }], source: 'r' },
        },
      },
      'width',
    ],
    [
      { ...job, image: { ...job.image, regions: { shapes: [{ type: 'circle' }], source: 'r' } } },
      "is not 'box' or 'polygon'",
    ],
    [
      { ...job, settings: { ...settings, detections: 101 } },
      "'settings.detections' is not a whole number from 1 to 100",
    ],
    [
      { ...job, image: { ...job.image, objects: [{ label: 'dog', box: [10, 0, 5, 8] }] } },
      "'image.objects[0].box' is not [x0, y0, x1, y1] with x1 > x0 and y1 > y0 (finite numbers)",
    ],
    [
      { ...job, image: { ...job.image, objects: [{ label: 'dog', box: [0, 0, 5, null] }] } },
      "'image.objects[0].box' is not [x0, y0, x1, y1]",
    ],
    [
      { ...job, image: { ...job.image, objects: [{ label: '', box: [0, 0, 5, 5] }] } },
      "'image.objects[0].label' is not a text of 1 to 4096 characters",
    ],
    [
      { ...job, image: { ...job.image, objects: Array(10_001).fill({ label: 'dog', box: [0, 0, 5, 5] }) } },
      "'image.objects' is not a list of at most 10000 objects",
    ],
    [
      { ...job, settings: { ...settings, reference: '/refs/b.npy' } },
      "'settings.reference' is not an object",
    ],
    [
      { ...job, settings: { ...settings, reference: { path: 'b.npy', sha256: HASH } } },
      "'settings.reference.path' is not an absolute path",
    ],
    [
      { ...job, settings: { ...settings, reference: { path: '/refs/b.npy', sha256: HASH.toUpperCase() } } },
      "'settings.reference.sha256' is not a SHA-256 (64 lowercase hex digits)",
    ],
    [
      { ...job, settings: { ...settings, reference: { path: '/refs/b.npy', sha256: HASH.slice(1) } } },
      "'settings.reference.sha256' is not a SHA-256",
    ],
  ])('refuses a malformed job (%#)', (value, words) => {
    expect(() => checkAuditJob(value)).toThrow(words);
  });

  it("carries an embedding model's reference as its path and hash, and the hash names the run", () => {
    const reference = { path: '/refs/b.npy', sha256: HASH };
    const withReference = { ...settings, reference };
    const checked = checkAuditJob({ ...job, settings: withReference });
    expect(checked.settings.reference).toEqual(reference);
    // Another file's bytes at the same path: another results queue, so no job of this run is shared.
    const named = resultsQueueName(withReference, '/out', 'host');
    expect(named).not.toBe(results);
    expect(
      resultsQueueName({ ...settings, reference: { ...reference, sha256: 'b'.repeat(64) } }, '/out', 'host'),
    ).not.toBe(named);
    expect(jobId(named, job.image)).not.toBe(jobId(results, job.image));
  });

  it("accepts a detector's job: --detections and the ground-truth objects, rebuilt from their fields", () => {
    const objects = [{ label: 'dog', box: [1.5, 2, 30, 40], extra: 'dropped' }];
    const detector = { ...job, settings: { ...settings, detections: 5 }, image: { ...job.image, objects } };
    const checked = checkAuditJob(detector);
    expect(checked.settings.detections).toBe(5);
    expect(checked.image.objects).toEqual([{ label: 'dog', box: [1.5, 2, 30, 40] }]);
    // An empty list is ground truth too: an image with no objects, where every detection is a false positive.
    expect(checkAuditJob({ ...job, image: { ...job.image, objects: [] } }).image.objects).toEqual([]);
  });
});

describe('checkAuditJob with shortcut tests', () => {
  const shortcuts = { background: 'mean', removal: 'blur', seed: 7, meanColour: [90.5, 100, 0] };
  const regions = {
    shapes: [{ type: 'box' as const, x: 1, y: 2, width: 3, height: 4 }],
    source: 'boxes.json',
  };
  const partner = (file: string) => ({ file, source: `/data/${file}`, regions });
  const withShortcuts = {
    ...job,
    v: 2,
    settings: { ...settings, shortcuts },
    image: { ...job.image, regions },
    partners: { random: partner('b.png'), same: partner('c.png') },
  };

  it('accepts a job as the coordinator writes it, its id and results queue covering the shortcut parts', () => {
    expect(checkAuditJob(withShortcuts)).toEqual(withShortcuts);
    // A partner's label plays no part (the coordinator chose the partners): it is not passed on.
    const labelled = { ...withShortcuts, partners: { random: { ...partner('b.png'), label: 'cat' } } };
    expect(checkAuditJob(labelled).partners).toEqual({ random: partner('b.png') });
    const passedOver = { ...partner('b.png'), unreadable: 'is a FIFO, not a regular file' };
    expect(checkAuditJob({ ...withShortcuts, partners: { same: passedOver } }).partners).toEqual({
      same: passedOver,
    });
    const { image, partners } = withShortcuts;
    expect(jobId(results, image, partners)).toBe(jobId(results, image, structuredClone(partners)));
    expect(jobId(results, image, partners)).not.toBe(jobId(results, image));
    expect(jobId(results, image, partners)).not.toBe(
      jobId(results, image, { ...partners, random: partner('d.png') }),
    );
    // Without partners the id is what it was before shortcut tests came to the queue.
    expect(jobId(results, image)).toBe(jobId(results, image, undefined));
    for (const change of [{ seed: 8 }, { removal: 'black' }, { meanColour: [90.5, 100, 1] }])
      expect(
        resultsQueueName({ ...settings, shortcuts: { ...shortcuts, ...change } }, '/out', 'host'),
      ).not.toBe(resultsQueueName({ ...settings, shortcuts }, '/out', 'host'));
  });

  const settingsWith = (change: Record<string, unknown>) => ({
    ...withShortcuts,
    settings: { ...settings, shortcuts: { ...shortcuts, ...change } },
  });
  it.each([
    [{ ...withShortcuts, v: 1 }, "'v' is 1, expected 2 for a job with 'settings.shortcuts'"],
    [{ ...job, partners: withShortcuts.partners }, "'partners' is given without 'settings.shortcuts'"],
    [{ ...withShortcuts, partners: undefined }, "'partners' is not an object"],
    [{ ...withShortcuts, partners: [partner('b.png')] }, "'partners' is not an object"],
    [
      {
        ...withShortcuts,
        partners: { random: partner('b.png'), same: partner('c.png'), more: partner('d.png') },
      },
      `'partners' has 3 entries (["more"] among them); expected at most 'random' and 'same'`,
    ],
    [{ ...withShortcuts, partners: { random: '/data/b.png' } }, "'partners.random' is not an object"],
    [
      { ...withShortcuts, partners: { same: { ...partner('b.png'), source: '../b.png' } } },
      "'partners.same.source' is not an absolute path or an http(s) URL",
    ],
    [
      {
        ...withShortcuts,
        partners: { same: { ...partner('b.png'), regions: { ...regions, maskPath: 'm.png' } } },
      },
      "'partners.same.regions.maskPath' is not an absolute path",
    ],
    [
      { ...withShortcuts, partners: { same: { file: 'b.png', source: '/data/b.png' } } },
      "'partners.same.regions' is missing",
    ],
    [
      { ...withShortcuts, partners: { same: { ...partner('b.png'), unreadable: 5 } } },
      "'partners.same.unreadable' is not a text of 1 to 4096 characters",
    ],
    [
      settingsWith({ background: 'plaid' }),
      "'settings.shortcuts.background' is not one of black, blur, mean",
    ],
    [settingsWith({ removal: 1 }), "'settings.shortcuts.removal' is not one of blur, black"],
    [settingsWith({ seed: -1 }), "'settings.shortcuts.seed' is not a whole number from 0 to 4294967295"],
    [settingsWith({ meanColour: undefined }), "'settings.shortcuts.meanColour' is missing"],
    [settingsWith({ meanColour: [1, 2, 300] }), "'settings.shortcuts.meanColour' is not three numbers"],
    [settingsWith({ meanColour: [1, 2] }), "'settings.shortcuts.meanColour' is not three numbers"],
    [settingsWith({ background: 'black' }), "'settings.shortcuts.meanColour' is given"],
  ])('refuses a malformed shortcut job (%#)', (value, words) => {
    expect(() => checkAuditJob(value)).toThrow(words);
  });
});

describe('redisTarget from the environment', () => {
  it('reads env:NAME, so the password is not on the command line', () => {
    process.env.SIGHTLINE_TEST_QUEUE = 'redis://:from-env-9@h:1/0';
    try {
      expect(redisTarget('env:SIGHTLINE_TEST_QUEUE').shown).toBe('redis://:***@h:1/0');
    } finally {
      delete process.env.SIGHTLINE_TEST_QUEUE;
    }
    expect(() => redisTarget('env:SIGHTLINE_TEST_QUEUE')).toThrow(
      '--queue env:SIGHTLINE_TEST_QUEUE: the environment variable SIGHTLINE_TEST_QUEUE is not set',
    );
  });
});

describe('checkEvaluateJob', () => {
  const evaluate = {
    v: 1,
    kind: 'evaluate',
    results,
    attempts: 2,
    settings: {
      model: '/models/m.onnx',
      hints: { mean: [0] },
      methods: ['gradient', 'rise'],
      metrics: ['deletion', 'insertion'],
      options: { rise: { masks: 100 } },
      curveSteps: null,
      sanityBlocks: 3,
    },
    image: { file: 'a.png', source: '/data/a.png' },
  };

  it('accepts an evaluation job as the coordinator writes it, each method with its options', () => {
    expect(isEvaluateJob(evaluate)).toBe(true);
    expect(isEvaluateJob(job)).toBe(false);
    expect(checkEvaluateJob(evaluate).settings).toEqual({
      ...evaluate.settings,
      options: { gradient: {}, rise: { masks: 100 } },
    });
    const reference = { path: '/refs/b.png', sha256: HASH };
    const withReference = { ...evaluate, settings: { ...evaluate.settings, reference } };
    expect(checkEvaluateJob(withReference).settings.reference).toEqual(reference);
  });

  it.each([
    [{ methods: [] }, "'settings.methods' is not a list of 1 to 32 method ids"],
    [{ metrics: ['deletion', 'rm -rf'] }, "'settings.metrics' is not a list of deletion"],
    [{ sanityBlocks: 0 }, "'settings.sanityBlocks' is not a whole number from 1 to 1000"],
    [
      { options: { rise: { masks: 'x'.repeat(5000) } } },
      "'settings.options.masks' is not a text of 1 to 4096",
    ],
    [{ model: 'relative.onnx' }, "'settings.model' is not 'default'"],
    [{ reference: { path: '/refs/b.npy', sha256: 'x' } }, "'settings.reference.sha256' is not a SHA-256"],
  ])('refuses a malformed evaluation job (%#)', (change, words) => {
    expect(() => checkEvaluateJob({ ...evaluate, settings: { ...evaluate.settings, ...change } })).toThrow(
      words,
    );
  });

  it('refuses an evaluation job of another version, as an audit job is refused', () => {
    for (const [v, quoted] of [
      [2, '2'],
      [undefined, 'undefined'],
      ['1', '"1"'],
    ])
      expect(() => checkEvaluateJob({ ...evaluate, v })).toThrow(
        `'v' is ${quoted}, expected 1 (a worker of another version?)`,
      );
    // A long value is quoted cut short, not whole.
    expect(() => checkEvaluateJob({ ...evaluate, v: 'x'.repeat(10_000) })).toThrow(/^.{0,300}$/);
  });
});
