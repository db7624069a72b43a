// `sightline audit --queue` with real `sightline worker` processes on a private redis-server: the same rows
// as a local audit, nothing left in Redis once written, and resumable.

import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { runCli, SHARED_IMAGES } from '../helpers/cli.js';
import { journalRows, type QueueFixture, queueFixture, resultsOf } from '../helpers/queue.js';
import type { TestRedis } from '../helpers/redis.js';

/** Generated photos; the 10 sample photos join them (60 in all), as in the acceptance run. */
const COUNT = 50;
let q: QueueFixture;
let dir: string;
let redis: TestRedis;
let data: QueueFixture['data'];

beforeAll(async () => {
  q = await queueFixture('queue', COUNT);
  ({ dir, redis, data } = q);
  for (const name of await readdir(SHARED_IMAGES))
    if (/\.(png|jpe?g)$/i.test(name)) await copyFile(join(SHARED_IMAGES, name), join(data.folder, name));
  for (let i = 0; i < 3; i++) q.worker();
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

const withoutTime = ({ seconds: _, ...row }: AuditRow) => row;

describe('sightline audit --queue', () => {
  it('gives the rows, pictures and summary of a local audit, and leaves no job or result in Redis', async () => {
    const args = [data.folder, ...data.modelArgs, '--method', 'gradient', '--regions', data.regions];
    const localOut = join(dir, 'local');
    const local = await runCli(['audit', ...args, '--out', localOut]);
    expect(local.code, local.stderr).toBe(0);

    const queuedOut = join(dir, 'queued');
    const queued = await runCli(['audit', ...args, '--out', queuedOut, '--queue', redis.url]);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout, queued.stderr).toBe(local.stdout.replaceAll(localOut, queuedOut));
    expect(queued.stderr).toMatch(/Queue: 60 of 60 written, 3 workers live/);

    const localRows = await resultsOf(localOut);
    const queuedRows = await resultsOf(queuedOut);
    expect(localRows).toHaveLength(60);
    expect(queuedRows.map(withoutTime)).toEqual(localRows.map(withoutTime));
    for (const row of queuedRows) {
      expect(row.status).toBe('ok');
      // Buffer.equals, not toEqual: a deep comparison of 120 pictures byte by byte took minutes on a busy machine.
      for (const picture of [row.overlay, row.thumbnail] as string[]) {
        const same = (await readFile(join(queuedOut, picture))).equals(
          await readFile(join(localOut, picture)),
        );
        expect(same, `${picture} differs from the local audit's`).toBe(true);
      }
    }
    const summary = async (out: string) =>
      JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')).summary;
    expect(await summary(queuedOut)).toEqual(await summary(localOut));
    expect((await readdir(queuedOut)).sort()).toEqual((await readdir(localOut)).sort());

    // Every job and result is gone once written: only BullMQ's bookkeeping keys remain, none holding a job.
    const client = redis.client();
    const keys = await client.keys('bull:*');
    client.disconnect();
    const jobKeys = keys.filter((k) => /:a[0-9a-f]{32}(:|$)/.test(k));
    expect(jobKeys).toEqual([]);

    // A rerun finds every image done and enqueues nothing.
    const rerun = await runCli(['audit', ...args, '--out', queuedOut, '--queue', redis.url]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('resuming: 60 already done, 0 to go');
    expect(await journalRows(queuedOut)).toHaveLength(60);
  }, 180_000);

  it('audits a manifest of paths and http(s) URLs, locally and on the queue, to the same rows', async () => {
    // One image over HTTP from a real server on loopback, the others by relative and absolute path.
    const server = createServer(async (request, response) => {
      const name = new URL(request.url ?? '/', 'http://x').pathname.slice(1);
      if (!/^img\d\d\.png$/.test(name)) return response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'image/png' }).end(await readFile(join(data.folder, name)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const csv = join(dir, 'manifest.csv');
      await writeFile(
        csv,
        [
          'path,label',
          'photos/img00.png,watermarked',
          `${join(data.folder, 'img01.png')},clean`,
          `http://127.0.0.1:${port}/img02.png?token=s3cret,watermarked`,
        ].join('\n'),
      );
      const jsonl = join(dir, 'manifest.jsonl');
      await writeFile(
        jsonl,
        [
          { file: 'photos/img00.png', label: 'watermarked' },
          { path: join(data.folder, 'img01.png'), label: 'clean' },
          { url: `http://127.0.0.1:${port}/img02.png?token=s3cret`, label: 'watermarked' },
        ]
          .map((o) => JSON.stringify(o))
          .join('\n'),
      );
      const args = (manifest: string, out: string) => [
        manifest,
        ...data.modelArgs,
        '--method',
        'gradient',
        '--out',
        out,
      ];
      const local = await runCli(['audit', ...args(csv, join(dir, 'm-local'))]);
      expect(local.code, local.stderr).toBe(0);
      expect(local.stdout, local.stderr).toContain('Audited 3 images (0 errors). Accuracy 66.7%.');
      const localRows = await resultsOf(join(dir, 'm-local'));
      const labelled = localRows.map((r) => [r.file, r.label?.text]).sort();
      // The URL's query values are hidden in the row's name: a signed URL's token stays out of the reports.
      expect(labelled).toEqual([
        [join(data.folder, 'img01.png'), 'clean'],
        [`http://127.0.0.1:${port}/img02.png?token=…`, 'watermarked'],
        ['photos/img00.png', 'watermarked'],
      ]);
      const queued = await runCli(['audit', ...args(jsonl, join(dir, 'm-queued')), '--queue', redis.url]);
      expect(queued.code, queued.stderr).toBe(0);
      expect((await resultsOf(join(dir, 'm-queued'))).map(withoutTime)).toEqual(localRows.map(withoutTime));
      for (const out of ['m-local', 'm-queued'])
        expect(await readFile(join(dir, out, 'report.html'), 'utf8')).not.toContain('s3cret');

      await writeFile(join(dir, 'twice.csv'), 'file\nphotos/img00.png\nphotos/img00.png\n');
      const twice = await runCli(['audit', ...args(join(dir, 'twice.csv'), join(dir, 'm-twice'))]);
      expect(twice.code).toBe(3);
      expect(twice.stderr).toContain("line 3 names 'photos/img00.png' again (line 2)");
    } finally {
      server.close();
    }
  }, 180_000);
});
