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
});
