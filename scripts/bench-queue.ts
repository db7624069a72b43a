// Queue throughput (issue 16): the same audit (RISE on the watermark model, 4000 masks: about 90 ms an image on
// one thread, the order of a real model's pass, so the model's work dominates) run locally with --concurrency 1,
// then through the queue with one worker and with two, on a private redis-server, the model pinned to one ONNX
// Runtime thread everywhere. Prints wall times (best of the rounds, alternating) and the two ratios the issue
// asks for: 2 workers ÷ 1 worker, and the queue's overhead against the local run. Workers are warm (one image
// each first), as a fleet serving audit after audit is: a worker loads a model once in its life, not once per
// audit, while the local run and the coordinator each load it as any audit does. Use ≥ 150 images: the fixed
// costs (process start, the coordinator's model load, the report) are the same both ways but weigh on short
// runs. With fewer masks an image costs less and the coordinator's ≈ 9 ms of CPU an image (on the same 2 cores
// as the workers) weighs more: at 1000 masks (≈ 23 ms an image on this machine) two
// workers added 1.24× and one cost 10% over the local run; the third argument sets the count.
// Beside each best time, the CPU seconds of the CLI run, of each worker and of everything else on the machine
// meanwhile (from /proc): what one worker takes of the cores bounds what two can add on a 2-core machine.
// Each round runs twice: with the processes free to use every core, and with each one pinned to a core of its
// own (taskset: the local audit and the one worker on core 0, the two workers on cores 0 and 1; the coordinator
// stays free, at ≈ 5 ms an image), the deployment of one worker per core, where one worker cannot borrow the
// second core for its pictures and uploads while its model runs.
// Run after `npm run build`, on a quiet machine:
//   npx tsx scripts/bench-queue.ts [images] [rounds] [masks] [--json out.json]
// scripts/bench.mjs runs it as its `queue` section (with --json); without redis-server it says so and stops.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../test/helpers/cli.js';
import { queueFixture, riseAuditArgs, stopWorker, until } from '../test/helpers/queue.js';
import { REDIS_SERVER } from '../test/helpers/redis.js';

const argv = process.argv.slice(2);
const jsonAt = argv.indexOf('--json');
const json = jsonAt >= 0 ? argv.splice(jsonAt, 2)[1] : undefined;
const images = Number(argv[0] ?? 150);
const rounds = Number(argv[1] ?? 2);
const masks = Number(argv[2] ?? 4000);
// CPU seconds from /proc (Linux's 100 ticks a second): a process's own (utime + stime), the children this one
// has waited for (cutime + cstime: the CLI runs), and the whole machine's busy time, so each figure can say how
// much of the 2 cores the audit used and how much others on the machine took meanwhile.
const TICK = 0.01;
const procStat = (pid: number | 'self' | `${number}/task/${number}`) =>
  readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ')
    .map(Number);
const ownCpu = (pid: number) => {
  const f = procStat(pid);
  return (f[11] + f[12]) * TICK;
};
// A worker's JavaScript thread alone (its thread id is the process id): its share of the worker's CPU says how
// many cores one worker can keep busy (the rest runs beside it: sharp's and ONNX Runtime's threads).
const mainThreadCpu = (pid: number) => {
  const f = procStat(`${pid}/task/${pid}`);
  return (f[11] + f[12]) * TICK;
};
const childrenCpu = () => {
  const f = procStat('self');
  return (f[13] + f[14]) * TICK;
};
const machineBusy = () => {
  const [, ...t] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return (t.reduce((a, b) => a + b, 0) - t[3] - t[4]) * TICK;
};
/** Pins every thread of `pid` to `cores` ('0', '0-1'); its later threads and children inherit it. */
const pin = (pid: number, cores: string) =>
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
const ALL_CORES = `0-${availableParallelism() - 1}`;
const canPin = availableParallelism() >= 2 && existsSync('/usr/bin/taskset');
const write = (result: object) => {
  if (json) writeFileSync(json, JSON.stringify(result));
};

if (!existsSync(REDIS_SERVER)) {
  const note = `not measured (no redis-server at ${REDIS_SERVER}: apt-get install redis-server, or set REDIS_SERVER)`;
  console.log(`queue: ${note}`);
  write({ note });
  process.exit(0);
}

const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
const q = await queueFixture('bench-queue', images);
try {
  const { data, redis, dir } = q;
  const client = redis.client();
  const liveWorkers = async () =>
    String(await client.client('LIST'))
      .split('\n')
      .filter((line: string) => /name=bull:[^ ]*:w:sightline-/.test(line)).length;
  const audit = async (
    label: string,
    extra: string[],
    env: NodeJS.ProcessEnv = {},
    workerPids: number[] = [],
  ) => {
    const before = {
      cli: childrenCpu(),
      workers: workerPids.map(ownCpu),
      main: workerPids.map(mainThreadCpu),
      machine: machineBusy(),
    };
    const started = performance.now();
    const result = await runCli(
      ['audit', ...riseAuditArgs(data, join(dir, label), masks), '--restart', ...extra],
      {
        env,
      },
    );
    const seconds = (performance.now() - started) / 1000;
    if (result.code !== 0) throw new Error(`${label} failed: ${result.stderr.slice(-500)}`);
    const cli = childrenCpu() - before.cli;
    const workers = workerPids.map((pid, i) => ownCpu(pid) - before.workers[i]);
    const workersMainThread = workerPids.map((pid, i) => mainThreadCpu(pid) - before.main[i]);
    const ours = cli + workers.reduce((a, b) => a + b, 0);
    return {
      seconds,
      cpu: { cli, workers, workersMainThread, others: machineBusy() - before.machine - ours },
    };
  };
  type Run = Awaited<ReturnType<typeof audit>>;
  const MODES = canPin ? (['free', 'pinned'] as const) : (['free'] as const);
  const best: Record<string, number> = {};
  const cpu: Record<string, Run['cpu']> = {};
  const every: Record<string, number[]> = {};
  const keep = (key: string, run: Run) => {
    every[key] = [...(every[key] ?? []), run.seconds];
    if (run.seconds < (best[key] ?? Infinity)) {
      best[key] = run.seconds;
      cpu[key] = run.cpu;
    }
  };
  for (let round = 0; round < rounds; round++)
    for (const mode of MODES) {
      const pinned = mode === 'pinned';
      const tag = pinned ? ', pinned' : '';
      // The issue's setting: the model pinned to one thread per worker, and the local run with the same count.
      // The local run inherits this process's cores.
      if (pinned) pin(process.pid, '0');
      keep(`local${tag}`, await audit('local', ['--concurrency', '1'], { SIGHTLINE_THREADS: '1' }));
      if (pinned) pin(process.pid, ALL_CORES);
      for (const n of [1, 2]) {
        const workers = Array.from({ length: n }, () => q.worker(['--threads', '1']));
        if (pinned) for (const [i, w] of workers.entries()) pin(w.child.pid as number, String(i));
        await until(async () => (await liveWorkers()) >= n, 30_000, `${n} live workers`);
        // The warm-up: a small audit of its own (4 images a worker: each holds two), so each loads the model.
        const warmPhotos = join(dir, `warm-${n}`);
        await mkdir(warmPhotos, { recursive: true });
        for (let i = 0; i < 4 * n; i++)
          await copyFile(
            join(data.folder, `img${String(i).padStart(2, '0')}.png`),
            join(warmPhotos, `${i}.png`),
          );
        const warm = await runCli([
          'audit',
          ...riseAuditArgs({ ...data, folder: warmPhotos }, join(dir, `warm-out-${n}`), 10),
          '--queue',
          redis.url,
          '--restart',
        ]);
        if (warm.code !== 0) throw new Error(`warm-up failed: ${warm.stderr.slice(-500)}`);
        const key = n === 1 ? '1 worker' : '2 workers';
        const pids = workers.map((w) => w.child.pid as number);
        keep(`${key}${tag}`, await audit(key.replace(' ', '-'), ['--queue', redis.url], {}, pids));
        await Promise.all(workers.map(stopWorker));
        q.workers.splice(0);
      }
    }
  client.disconnect();
  for (const [label, seconds] of Object.entries(best)) {
    const c = cpu[label];
    const workersCpu = c.workers.map(
      (w, i) =>
        `${w.toFixed(1)} (${(w / seconds).toFixed(2)} cores; JS thread ${((100 * c.workersMainThread[i]) / w).toFixed(0)}%)`,
    );
    console.log(
      `${label.padEnd(18)} ${seconds.toFixed(2)} s  (${(images / seconds).toFixed(2)} images/s); CPU s: ${label.startsWith('local') ? 'audit' : 'coordinator'} ${c.cli.toFixed(1)}${workersCpu.length ? `, worker${workersCpu.length > 1 ? 's' : ''} ${workersCpu.join(', ')}` : ''}, others on the machine ${c.others.toFixed(1)} (${(c.others / seconds).toFixed(2)} cores)`,
    );
  }
  console.log(
    `every round, s: ${Object.entries(every)
      .map(([label, all]) => `${label} ${all.map((t) => t.toFixed(2)).join(' ')}`)
      .join('; ')}`,
  );
  const scaling = best['1 worker'] / best['2 workers'];
  const overhead = best['1 worker'] / best.local - 1;
  const pinned = canPin
    ? {
        scaling: best['1 worker, pinned'] / best['2 workers, pinned'],
        overhead: best['1 worker, pinned'] / best['local, pinned'] - 1,
      }
    : undefined;
  const loadAfter = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`2 workers ÷ 1 worker throughput: ${scaling.toFixed(2)}× (issue: ≥ 1.6×)`);
  console.log(`queue overhead, 1 worker against local: ${(overhead * 100).toFixed(1)}% (issue: ≤ 5%)`);
  if (pinned) {
    console.log(`pinned, a core each: 2 workers ÷ 1 worker ${pinned.scaling.toFixed(2)}×`);
    console.log(`pinned, a core each: queue overhead ${(pinned.overhead * 100).toFixed(1)}%`);
  } else console.log('pinned: not measured (needs 2 cores and taskset)');
  console.log(
    `${images} images, RISE ${masks} masks, best of ${rounds}; load ${loadBefore.join(', ')} → ${loadAfter.join(', ')}`,
  );
  write({
    images,
    rounds,
    masks,
    seconds: best,
    everyRound: every,
    imagesPerSecond: Object.fromEntries(Object.entries(best).map(([k, s]) => [k, images / s])),
    scaling,
    overhead,
    ...(pinned ? { pinned } : {}),
    cpuSeconds: cpu,
    loadBefore,
    loadAfter,
  });
} finally {
  await q.stop();
}
