// A queued audit's secrets and untrusted jobs: a password-protected Redis over TLS (rediss://) whose password
// appears in no output or file, a wrong password or a dead port that fails in bounded time, and jobs written
// into Redis by someone else (malformed, or naming files outside the worker's --root) that become error rows
// without stopping the worker.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startModelServer } from '../helpers/http-model-server.js';
import {
  type QueueFixture,
  queueFixture,
  startWorker,
  stopWorker,
  until,
  untrustedJobs,
  type WorkerProcess,
} from '../helpers/queue.js';
import { selfSignedCert, type TestRedis } from '../helpers/redis.js';

// Characters a URL must encode, so both the raw and the encoded password are checked for.
const PASSWORD = 'Hunter2+s3cr/et:Zq9';
let q: QueueFixture;
let dir: string;
let redis: TestRedis;
let ca: string;
let data: QueueFixture['data'];
let workers: WorkerProcess[];

beforeAll(async () => {
  q = await queueFixture('queue-security', 4, async (folder) => {
    const tls = await selfSignedCert(folder);
    ca = tls.cert;
    return { password: PASSWORD, tls };
  });
  ({ dir, redis, data, workers } = q);
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

async function allFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const secrets = [PASSWORD, encodeURIComponent(PASSWORD)];

describe('a queued audit on a password-protected Redis over TLS', () => {
  it('runs through rediss:// and prints or writes its password nowhere', async () => {
    expect(redis.url.startsWith('rediss://')).toBe(true);
    const env = { NODE_EXTRA_CA_CERTS: ca };
    const worker = startWorker(redis.url, ['--root', dir], env);
    workers.push(worker);
    const out = join(dir, 'out');
    const args = ['audit', data.folder, ...data.modelArgs, '--method', 'gradient', '--out', out];
    const result = await runCli([...args, '--queue', redis.url], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`rediss://:***@127.0.0.1:${redis.port}/0`);
    expect(result.stdout).toContain('Audited 4 images (0 errors).');
    await stopWorker(worker);
    const outputs = [result.stdout, result.stderr, worker.output().stdout, worker.output().stderr];
    for (const file of await allFiles(out)) outputs.push((await readFile(file)).toString('latin1'));
    expect(outputs.length).toBeGreaterThan(6);
    for (const text of outputs) for (const secret of secrets) expect(text).not.toContain(secret);
  }, 120_000);

  it("sends an HTTP model's headers and key given to the worker, and refuses them on the coordinator", async () => {
    const server = await startModelServer();
    const TOKEN = 'X-token-value-4417';
    const KEY = 'api-key-value-8830';
    const env = { NODE_EXTRA_CA_CERTS: ca };
    try {
      const args = (out: string) => [
        'audit',
        data.folder,
        '--model',
        server.url,
        '--input-size',
        '16',
        '--method',
        'occlusion',
        '--out',
        join(dir, out),
        '--queue',
        redis.url,
      ];
      const refused = await runCli([...args('http-refused'), '--header', `X-Token: ${TOKEN}`], { env });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        "--queue does not carry HTTP headers or API keys: they would be stored in Redis, where every client of it could read them. Give them to each worker instead (sightline worker --header 'Name: value', --api-key-env VAR, --api-key-header NAME)",
      );
      expect(refused.stderr).not.toContain(TOKEN);
      // evaluate --queue too: it once passed its model hints where the check looked for headers, and enqueued.
      const evaluation = await runCli(
        [
          'evaluate',
          data.folder,
          '--model',
          server.url,
          '--input-size',
          '16',
          '--methods',
          'occlusion',
          '--metrics',
          'deletion',
          '--out',
          join(dir, 'http-evaluate-refused'),
          '--queue',
          redis.url,
          '--api-key-env',
          'QUEUE_TEST_KEY',
        ],
        { env: { ...env, QUEUE_TEST_KEY: KEY } },
      );
      expect(evaluation.code, evaluation.stderr).toBe(2);
      expect(evaluation.stderr).toContain('--queue does not carry HTTP headers or API keys');
      expect(evaluation.stderr).not.toContain(KEY);

      const before = server.requests.length;
      const worker = startWorker(
        redis.url,
        ['--root', dir, '--header', `X-Token: ${TOKEN}`, '--api-key-env', 'QUEUE_TEST_KEY'],
        { ...env, QUEUE_TEST_KEY: KEY },
      );
      workers.push(worker);
      const result = await runCli(args('http'), { env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('Audited 4 images (0 errors).');
      await stopWorker(worker);
      // The coordinator reads the model's metadata itself, with neither; the worker's requests carry both.
      const seen = server.requests
        .slice(before)
        .map((r) => `${r.method} ${r.headers['x-token'] ?? '-'} ${r.headers.authorization ?? '-'}`);
      const both = `${TOKEN} Bearer ${KEY}`;
      expect(seen.filter((line) => line.startsWith('POST')).length).toBeGreaterThan(4);
      expect(seen.filter((line) => !line.endsWith(both))).toEqual(['GET - -']);
      const outputs = [result.stdout, result.stderr, worker.output().stdout, worker.output().stderr];
      for (const file of await allFiles(join(dir, 'http')))
        outputs.push((await readFile(file)).toString('latin1'));
      for (const text of outputs) for (const secret of [TOKEN, KEY]) expect(text).not.toContain(secret);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('refuses a wrong password within seconds, quoting neither password', async () => {
    const wrong = redis.url.replace(encodeURIComponent(PASSWORD), 'Wrong-Passw0rd');
    const started = Date.now();
    const result = await runCli(
      ['audit', data.folder, ...data.modelArgs, '--out', join(dir, 'wrong'), '--queue', wrong],
      { env: { NODE_EXTRA_CA_CERTS: ca } },
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 did not answer/);
    for (const secret of [...secrets, 'Wrong-Passw0rd']) expect(result.stderr).not.toContain(secret);
  }, 60_000);

  it('fails a worker in bounded time when nothing listens on the port', async () => {
    const worker = startWorker('redis://:Another-Secret9@127.0.0.1:9/0');
    const result = await worker.exit;
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('Redis at redis://:***@127.0.0.1:9/0 did not answer');
    expect(result.stderr).not.toContain('Another-Secret9');
  }, 30_000);
});

describe('a worker given untrusted jobs', () => {
  it('turns malformed jobs and paths outside --root into error rows and keeps working', async () => {
    const env = { NODE_EXTRA_CA_CERTS: ca };
    const model = data.modelArgs[1];
    // The photos and the model only: regions.json, beside the photos, is outside.
    const worker = startWorker(redis.url, ['--root', data.folder, '--root', model], env);
    workers.push(worker);
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null, tls: { ca: await readFile(ca) } });
    const results = 'sightline-results-0123456789abcdef';
    const { jobs, rows, close } = untrustedJobs(connection, results);
    const settings = {
      model,
      hints: { mean: [0], std: [1] },
      method: 'gradient',
      options: {},
      topK: 5,
      tolerance: 15,
      faithfulness: false,
    };
    const job = (file: string, source: string, extra: Record<string, unknown> = {}) => ({
      v: 1,
      results,
      attempts: 1,
      settings,
      image: { file, source },
      ...extra,
    });
    await jobs.add('junk', { hello: 'world' }, { jobId: 'junk' });
    await jobs.add('outside', job('outside.png', '/etc/hostname'), { jobId: 'outside' });
    await jobs.add('dotdot', job('dotdot.png', join(data.folder, '..', 'regions.json')), { jobId: 'dotdot' });
    await jobs.add('relative', job('relative.png', 'img00.png'), { jobId: 'relative' });
    await jobs.add(
      'model-outside',
      job('model.png', join(data.folder, 'img00.png'), { settings: { ...settings, model: '/etc/hostname' } }),
      { jobId: 'model-outside' },
    );
    await jobs.add('fine', job('img01.png', join(data.folder, 'img01.png')), { jobId: 'fine' });
    try {
      await until(async () => (await rows()).length === 5, 60_000, 'five result rows');
      const byFile = new Map((await rows()).map((r) => [r.file, r]));
      expect(byFile.get('outside.png')?.error?.code).toBe('IO');
      expect(byFile.get('outside.png')?.error?.message).toContain(
        'is outside the folders this worker may read',
      );
      expect(byFile.get('dotdot.png')?.error?.message).toContain(
        'is outside the folders this worker may read',
      );
      expect(byFile.get('relative.png')?.error?.message).toContain(
        "A malformed queue job: 'image.source' is not an absolute path or an http(s) URL.",
      );
      expect(byFile.get('model.png')?.error?.message).toContain("The model '/etc/hostname' is outside");
      expect(byFile.get('img01.png')?.status).toBe('ok');
      expect(worker.child.exitCode).toBe(null);
      expect(worker.output().stderr).toContain(
        "job junk refused: A malformed queue job: 'v' is undefined, expected 1",
      );
    } finally {
      await close();
    }
  }, 120_000);
});
