// `sightline evaluate --queue` with a real worker process on a private redis-server: the same evaluation.json
// as a local run (timings aside), and a skipped image skipped alike.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type QueueFixture, queueFixture } from '../helpers/queue.js';
import type { TestRedis } from '../helpers/redis.js';

let q: QueueFixture;
let dir: string;
let redis: TestRedis;
let data: QueueFixture['data'];

beforeAll(async () => {
  q = await queueFixture('queue-evaluate', 4);
  ({ dir, redis, data } = q);
  // Not an image: both runs must skip it with the same reason.
  await writeFile(join(data.folder, 'broken.png'), 'not a png');
  q.worker();
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

/** evaluation.json without the timings, which differ from run to run. */
async function evaluation(out: string): Promise<unknown> {
  const json = JSON.parse(await readFile(join(out, 'evaluation.json'), 'utf8'));
  for (const image of json.images) for (const m of image.methods) delete m.seconds;
  return json;
}

describe('sightline evaluate --queue', () => {
  it('writes the evaluation of a local run', async () => {
    const args = (out: string) => [
      'evaluate',
      data.folder,
      ...data.modelArgs,
      '--methods',
      'gradient,occlusion',
      '--regions',
      data.regions,
      '--out',
      out,
    ];
    const local = await runCli(args(join(dir, 'local')));
    expect(local.code, local.stderr).toBe(0);
    const queued = await runCli([...args(join(dir, 'queued')), '--queue', redis.url]);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toBe(local.stdout.replaceAll(join(dir, 'local'), join(dir, 'queued')));
    const expected = (await evaluation(join(dir, 'local'))) as { images: unknown[]; skipped: unknown[] };
    expect(expected.images).toHaveLength(4);
    expect(expected.skipped).toHaveLength(1);
    const got = (await evaluation(join(dir, 'queued'))) as typeof expected;
    // Images arrive in the order workers finish them; the local run measures them in folder order.
    const byFile = (list: unknown[]) =>
      [...(list as { file: string }[])].sort((a, b) => a.file.localeCompare(b.file));
    expect(byFile(got.images)).toEqual(byFile(expected.images));
    expect(got.skipped).toEqual(expected.skipped);
    expect({ ...got, images: [], skipped: [] }).toEqual({ ...expected, images: [], skipped: [] });

    // A rerun resumes: every image is done, nothing is enqueued.
    const rerun = await runCli([...args(join(dir, 'queued')), '--queue', redis.url]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('resuming: 4 already done, 1 to go');
  }, 180_000);
});
