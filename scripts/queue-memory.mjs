// Redis memory per 1,000 queued images and per result waiting for the coordinator, as the docs' sizing quotes
// it (docs/queue.md). Starts its own redis-server (no persistence) on a free loopback port, enqueues jobs of the
// coordinator's own shape (dist/queue/job.js), reads INFO memory before and after, and stops it.
// Run after `npm run build`: node scripts/queue-memory.mjs [result-bytes]
// result-bytes: one image's overlay + thumbnail as PNG (default 493,000: the mean over the 10 sample photos).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JOB_VERSION, JOBS_QUEUE, jobId, resultsQueueName } from '../dist/queue/job.js';

const resultBytes = Number(process.argv[2] ?? 493_000);
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'sightline-queue-memory-'));
const server = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
const url = `redis://127.0.0.1:${port}/0`;
const redis = new Redis(url, { maxRetriesPerRequest: null });
// Refused connections while redis-server starts are expected; the ping loop below waits them out.
redis.on('error', () => {});
for (let i = 0; ; i++) {
  try {
    await redis.ping();
    break;
  } catch {
    if (i > 100) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);

const settings = {
  model: '/srv/models/catalogue-classifier.onnx',
  hints: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], labelsPath: '/srv/models/classes.txt' },
  method: 'grad-cam',
  options: {},
  topK: 5,
  tolerance: 15,
  faithfulness: false,
};
const results = resultsQueueName(settings, '/srv/audits/catalogue-2026-12', 'coordinator-1');
const jobs = new Queue(JOBS_QUEUE, { connection: redis });
const before = await used();
const COUNT = 1000;
for (let start = 0; start < COUNT; start += 100) {
  await jobs.addBulk(
    Array.from({ length: 100 }, (_, k) => {
      const n = String(start + k).padStart(7, '0');
      const image = {
        file: `shoes/${n}.jpg`,
        source: `/mnt/catalogue/photos/shoes/${n}.jpg`,
        label: 'running shoe',
        regions: {
          shapes: [{ type: 'box', x: 112, y: 80, width: 410, height: 300 }],
          source: '/mnt/catalogue/boxes.csv',
        },
      };
      return {
        name: 'audit',
        data: { v: JOB_VERSION, results, attempts: 3, settings, image },
        opts: {
          jobId: jobId(results, image),
          attempts: 3,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: true,
          removeOnFail: { count: 1000 },
        },
      };
    }),
  );
}
const queued = await used();
const rows = new Queue(results, { connection: redis });
const RESULTS = 50;
const payload = 'x'.repeat(Math.ceil((resultBytes * 4) / 3) + 12_000);
for (let i = 0; i < RESULTS; i++)
  await rows.add(
    'row',
    { file: `r${i}`, row: {}, overlay: payload },
    { jobId: `r${i}`, removeOnComplete: true },
  );
const withResults = await used();
console.log(`Redis memory per 1,000 queued images: ${((queued - before) / 1024 / 1024).toFixed(2)} MiB`);
console.log(
  `per result waiting for the coordinator (pictures of ${resultBytes} bytes, base64, plus its row): ${((withResults - queued) / RESULTS / 1024).toFixed(0)} KiB`,
);
await jobs.close();
await rows.close();
redis.disconnect();
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(dir, { recursive: true, force: true });
