// Faults of a queued audit, each made for real: a worker SIGKILLed holding a job, an image that kills every
// worker that takes it, the coordinator SIGKILLed and rerun, and Redis restarted (AOF) mid-run. Every image
// must end with exactly one row, and nothing that was written is redone.
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/audit/types.js';
import { runCli } from '../helpers/cli.js';
import {
  journalRows,
  type QueueFixture,
  queueFixture,
  riseAuditArgs,
  startCoordinator,
  stopWorker,
  until,
  type WorkerProcess,
} from '../helpers/queue.js';
import type { TestRedis } from '../helpers/redis.js';

const COUNT = 12;
const ACTIVE = 'bull:sightline-audit:active';
let q: QueueFixture;
let dir: string;
let redis: TestRedis;

beforeAll(async () => {
  q = await queueFixture('queue-faults', COUNT, async () => ({ appendonly: true }));
  ({ dir, redis } = q);
}, 30_000);

afterEach(async () => {
  await Promise.all(q.workers.splice(0).map(stopWorker));
}, 30_000);

afterAll(async () => {
  await q?.stop();
}, 30_000);

function auditArgs(out: string, extra: string[] = []): string[] {
  return [...riseAuditArgs(q.data, out), '--queue', redis.url, ...extra];
}

function worker(): WorkerProcess {
  return q.worker(['--lock-seconds', '2']);
}

async function activeFiles(): Promise<string[]> {
  const client = redis.client();
  try {
    const ids = await client.lrange(ACTIVE, 0, -1);
    const files: string[] = [];
    for (const id of ids) {
      const raw = await client.hget(`bull:sightline-audit:${id}`, 'data');
      if (raw) files.push(JSON.parse(raw).image.file);
    }
    return files;
  } finally {
    client.disconnect();
  }
}

/**
 * The images in hand whose work has begun, with the times it began (the progress a worker records before a
 * job's model passes, src/queue/lanes.ts); a worker also holds jobs waiting for its model.
 */
async function atWork(): Promise<Map<string, number>> {
  const client = redis.client();
  try {
    const begun = new Map<string, number>();
    for (const id of await client.lrange(ACTIVE, 0, -1)) {
      const [raw, progress] = await client.hmget(`bull:sightline-audit:${id}`, 'data', 'progress');
      const n = progress ? Number(JSON.parse(progress)?.begun ?? 0) : 0;
      if (raw && n > 0) begun.set(JSON.parse(raw).image.file, n);
    }
    return begun;
  } finally {
    client.disconnect();
  }
}

function expectOncePerImage(rows: AuditRow[]): void {
  const files = rows.map((r) => r.file).sort();
  expect(files).toEqual(Array.from({ length: COUNT }, (_, i) => `img${String(i).padStart(2, '0')}.png`));
}

describe('a queued audit under faults', () => {
  it('redoes the job of a worker SIGKILLed mid-job on another worker, losing nothing', async () => {
    const out = join(dir, 'killed-worker');
    const first = worker();
    const coordinator = startCoordinator(auditArgs(out));
    let held: string[] = [];
    const holding = async () => {
      held = await activeFiles();
      return held.length > 0;
    };
    await until(holding, 60_000, 'a job in hand');
    first.child.kill('SIGKILL');
    worker();
    const done = await coordinator.exit;
    expect(done.code, done.stderr).toBe(0);
    const rows = await journalRows(out);
    expectOncePerImage(rows);
    expect(rows.every((r) => r.status === 'ok')).toBe(true);
    // The job the killed worker held was redone (it has its row, an ok one).
    expect(rows.find((r) => r.file === held[0])?.status).toBe('ok');
  }, 180_000);

  it('turns an image that kills every worker taking it into one error row after --attempts', async () => {
    const out = join(dir, 'poison');
    // Forty times the masks: the test kills a worker once it sees the poison at work (polling Redis every 100 ms),
    // and a job shorter than that could finish first, leaving nothing to kill. At 4000 masks an image took about
    // 2 s when this test was written but about 90 ms on a later machine, where CI once missed the second kill;
    // with 40000 the test took 11–15 s there.
    const coordinator = startCoordinator(auditArgs(out, ['--attempts', '2', '--masks', '40000']));
    let exited = false;
    void coordinator.exit.then(() => (exited = true));
    let kills = 0;
    let poison: string | undefined;
    while (!exited && kills < 2) {
      const w = worker();
      // The first image any worker begins is the poison: every worker at work on it dies. It is held anew (and
      // begun: the worker records that before its model passes) once per kill; a worker also holds an image
      // waiting beside it, whose work has not begun, and whose deaths do not count against it.
      const holding = async () => {
        const begun = await atWork();
        poison ??= begun.keys().next().value;
        if (exited) return true;
        return poison !== undefined && begun.get(poison) === kills + 1;
      };
      await until(holding, 60_000, 'the poison image at work');
      if (exited) break;
      w.child.kill('SIGKILL');
      kills++;
      // One worker at a time: the next one finds the job stalled, does the other images, and dies on it too.
      await w.exit;
    }
    // The worker after the second death writes the error row instead of trying again.
    worker();
    const done = await coordinator.exit;
    expect(done.code, done.stderr).toBe(0);
    expect(kills).toBe(2);
    const rows = await journalRows(out);
    expectOncePerImage(rows);
    const row = rows.find((r) => r.file === poison);
    expect(row?.status).toBe('error');
    expect(row?.error?.code).toBe('WORKER_LOST');
    expect(row?.error?.message).toContain('stopped 2 times');
    expect(rows.filter((r) => r.status === 'error')).toHaveLength(1);
  }, 300_000);

  it('loses and redoes nothing when the coordinator is SIGKILLed and rerun', async () => {
    const out = join(dir, 'killed-coordinator');
    worker();
    worker();
    const coordinator = startCoordinator(auditArgs(out));
    await until(async () => (await journalRows(out)).length >= 3, 120_000, 'three rows written');
    coordinator.child.kill('SIGKILL');
    await coordinator.exit;
    const before = await journalRows(out);
    const rerun = await runCli(['audit', ...auditArgs(out)]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`resuming: ${before.length} already done`);
    const rows = await journalRows(out);
    expectOncePerImage(rows);
    // The rows written before the kill are the same lines, not redone ones (their timings would differ).
    expect(rows.slice(0, before.length)).toEqual(before);
  }, 180_000);

  it('loses no row when Redis restarts mid-run (AOF on)', async () => {
    const out = join(dir, 'redis-restart');
    worker();
    worker();
    const coordinator = startCoordinator(auditArgs(out));
    await until(async () => (await journalRows(out)).length >= 3, 120_000, 'three rows written');
    await redis.restart();
    const done = await coordinator.exit;
    expect(done.code, done.stderr).toBe(0);
    const rows = await journalRows(out);
    expectOncePerImage(rows);
    expect(rows.every((r) => r.status === 'ok')).toBe(true);
  }, 180_000);

  it('enqueues again, within a sweep, images whose jobs Redis lost', async () => {
    const out = join(dir, 'lost-jobs');
    const coordinator = startCoordinator(auditArgs(out));
    const client = redis.client();
    const waiting = async () => client.lrange('bull:sightline-audit:wait', 0, -1);
    await until(async () => (await waiting()).length === COUNT, 60_000, 'every job enqueued');
    // As a Redis without AOF would after a crash: two jobs gone, hash and list entry.
    const jobs = new Queue('sightline-audit', { connection: client });
    const gone = (await waiting()).slice(0, 2);
    for (const id of gone) await jobs.remove(id);
    await jobs.close();
    client.disconnect();
    worker();
    const done = await coordinator.exit;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain(
      'Redis lost the job or result of 2 images (a restart without AOF?); enqueued again.',
    );
    const rows = await journalRows(out);
    expectOncePerImage(rows);
    expect(rows.every((r) => r.status === 'ok')).toBe(true);
  }, 180_000);

  it('finishes the job in hand on SIGTERM, then exits 0', async () => {
    const out = join(dir, 'sigterm');
    const first = worker();
    const coordinator = startCoordinator(auditArgs(out));
    let held: string[] = [];
    const holding = async () => {
      held = await activeFiles();
      return held.length > 0;
    };
    await until(holding, 60_000, 'a job in hand');
    first.child.kill('SIGTERM');
    const stopped = await first.exit;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toContain('stopping after the jobs in hand.');
    // Its row arrives with no other worker running: the job was finished, not handed back.
    await until(async () => (await journalRows(out)).some((r) => r.file === held[0]), 30_000, 'its row');
    worker();
    const done = await coordinator.exit;
    expect(done.code, done.stderr).toBe(0);
    expectOncePerImage(await journalRows(out));
  }, 180_000);

  it('gives every image exactly one row through two worker kills and a Redis restart in one run', async () => {
    const out = join(dir, 'all-faults');
    const [a, b] = [worker(), worker(), worker()];
    const coordinator = startCoordinator(auditArgs(out));
    const rowsAtLeast = (n: number) =>
      until(async () => (await journalRows(out)).length >= n, 120_000, `${n} rows`);
    await rowsAtLeast(2);
    a.child.kill('SIGKILL');
    await rowsAtLeast(5);
    await redis.restart();
    await rowsAtLeast(8);
    b.child.kill('SIGKILL');
    worker();
    const done = await coordinator.exit;
    expect(done.code, done.stderr).toBe(0);
    const rows = await journalRows(out);
    expectOncePerImage(rows);
    expect(rows.every((r) => r.status === 'ok')).toBe(true);
  }, 240_000);

  it('keeps at most --in-flight images in Redis, however many are to do', async () => {
    const out = join(dir, 'in-flight');
    const coordinator = startCoordinator(auditArgs(out, ['--in-flight', '4']));
    const client = redis.client();
    // Both lengths in one transaction: read apart, a job moving from waiting to active between them counts twice.
    const held = async () => {
      const lengths = await client
        .multi()
        .llen('bull:sightline-audit:wait')
        .llen('bull:sightline-audit:active')
        .exec();
      return (lengths ?? []).reduce((sum, [, n]) => sum + Number(n), 0);
    };
    await until(async () => (await held()) === 4, 60_000, 'four jobs enqueued');
    // No worker yet: the coordinator waits for rows before it enqueues more.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await held()).toBe(4);
    worker();
    let most = 0;
    let exited = false;
    void coordinator.exit.then(() => (exited = true));
    while (!exited) {
      most = Math.max(most, await held());
      await new Promise((r) => setTimeout(r, 50));
    }
    client.disconnect();
    expect(most).toBeLessThanOrEqual(4);
    expect((await coordinator.exit).code).toBe(0);
    expectOncePerImage(await journalRows(out));
  }, 180_000);
});
