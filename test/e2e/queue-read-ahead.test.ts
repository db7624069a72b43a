// A worker reads a job's image while the job waits for its model lane (queue/inputs.ts readJobImageAhead), so
// an image behind a slow URL is fetched beside the previous job's model passes instead of after them. Seen from
// the image server: the worker holds two jobs, and both images are asked for before either answer is sent.
// The rows are those of a local audit of the same URLs.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { runCli } from '../helpers/cli.js';
import { type QueueFixture, queueFixture, resultsOf } from '../helpers/queue.js';

const COUNT = 6;
let q: QueueFixture;

beforeAll(async () => {
  q = await queueFixture('queue-read-ahead', COUNT);
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

const withoutTime = ({ seconds: _, ...row }: AuditRow) => row;

describe('a worker reads the next image ahead', () => {
  it('asks for a waiting job’s image while the job before it is still at work', async () => {
    // Each answer waits until a second request is in flight, or 3 s: with the image read only once the lane
    // is free, every request would wait the 3 s alone.
    let inFlight = 0;
    let most = 0;
    const waiting: (() => void)[] = [];
    const server = createServer((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const answer = () => {
        readFile(join(q.data.folder, (req.url ?? '/').slice(1)))
          .then((bytes) => res.end(bytes))
          .catch(() => {
            res.statusCode = 404;
            res.end();
          })
          .finally(() => inFlight--);
      };
      if (inFlight >= 2) {
        for (const w of waiting.splice(0)) w();
        answer();
      } else {
        const release = () => {
          clearTimeout(timer);
          const at = waiting.indexOf(release);
          if (at >= 0) waiting.splice(at, 1);
          answer();
        };
        const timer = setTimeout(release, 3000);
        waiting.push(release);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const names = Array.from({ length: COUNT }, (_, i) => `img${String(i).padStart(2, '0')}.png`);
      const manifest = join(q.dir, 'urls.csv');
      await writeFile(manifest, `url\n${names.map((n) => `http://127.0.0.1:${port}/${n}`).join('\n')}\n`);
      const args = (out: string) => [manifest, ...q.data.modelArgs, '--method', 'gradient', '--out', out];
      const local = await runCli(['audit', ...args(join(q.dir, 'local'))]);
      expect(local.code, local.stderr).toBe(0);
      // A local audit reads ahead too (its lanes): what matters here is the worker's own count.
      most = 0;
      q.worker(['--threads', '1']);
      const queued = await runCli(['audit', ...args(join(q.dir, 'queued')), '--queue', q.redis.url]);
      expect(queued.code, queued.stderr).toBe(0);
      expect(most).toBeGreaterThanOrEqual(2);
      expect((await resultsOf(join(q.dir, 'queued'))).map(withoutTime)).toEqual(
        (await resultsOf(join(q.dir, 'local'))).map(withoutTime),
      );
    } finally {
      server.close();
    }
  }, 120_000);
});
