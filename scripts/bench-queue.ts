// Queue throughput (issue 16): the same audit (RISE with 1000 masks on the watermark model, about half a second
// an image, so the model's work dominates) run locally with --concurrency 1, then through the queue with one
// worker and with two, on a private redis-server. Prints wall times (best of the rounds, alternating) and the
// two ratios the issue asks for: 2 workers ÷ 1 worker, and the queue's overhead against the local run.
// Run after `npm run build`, on a quiet machine:  npx tsx scripts/bench-queue.ts [images] [rounds]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../test/helpers/cli.js';
import { startWorker, stopWorker, until, watermarkAudit } from '../test/helpers/queue.js';
import { startRedis } from '../test/helpers/redis.js';

const images = Number(process.argv[2] ?? 24);
const rounds = Number(process.argv[3] ?? 2);
const dir = await mkdtemp(join(tmpdir(), 'sightline-bench-queue-'));
const redis = await startRedis();
try {
  const data = await watermarkAudit(dir, images);
  const args = (out: string) => [
    'audit',
    data.folder,
    ...data.modelArgs,
    '--method',
    'rise',
    '--masks',
    '1000',
    '--seed',
    '1',
    '--out',
    out,
    '--restart',
  ];
  const client = redis.client();
  const liveWorkers = async () =>
    String(await client.client('LIST'))
      .split('\n')
      .filter((line: string) => /name=bull:[^ ]*:w:sightline-/.test(line)).length;
  const timed = async (extra: string[], label: string, env: NodeJS.ProcessEnv = {}) => {
    const started = performance.now();
    const result = await runCli([...args(join(dir, label)), ...extra], { env });
    if (result.code !== 0) throw new Error(`${label} failed: ${result.stderr.slice(-500)}`);
    return (performance.now() - started) / 1000;
  };
  const best: Record<string, number> = { local: Infinity, '1 worker': Infinity, '2 workers': Infinity };
  for (let round = 0; round < rounds; round++) {
    // The setting: the model pinned to one thread per worker, and the local run with the same count.
    best.local = Math.min(
      best.local,
      await timed(['--concurrency', '1'], 'local', { SIGHTLINE_THREADS: '1' }),
    );
    for (const n of [1, 2]) {
      const workers = Array.from({ length: n }, () =>
        startWorker(redis.url, ['--root', dir, '--threads', '1']),
      );
      await until(async () => (await liveWorkers()) >= n, 30_000, `${n} live workers`);
      const key = n === 1 ? '1 worker' : '2 workers';
      best[key] = Math.min(best[key], await timed(['--queue', redis.url], key.replace(' ', '-')));
      await Promise.all(workers.map(stopWorker));
    }
  }
  client.disconnect();
  for (const [label, seconds] of Object.entries(best))
    console.log(`${label.padEnd(10)} ${seconds.toFixed(2)} s  (${(images / seconds).toFixed(2)} images/s)`);
  console.log(
    `2 workers ÷ 1 worker throughput: ${(best['1 worker'] / best['2 workers']).toFixed(2)}× (issue: ≥ 1.6×)`,
  );
  console.log(
    `queue overhead, 1 worker against local: ${((best['1 worker'] / best.local - 1) * 100).toFixed(1)}% (issue: ≤ 5%)`,
  );
} finally {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}
