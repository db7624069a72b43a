// A worker's model lanes: it holds more jobs than it runs model passes for, so that one job's pictures and
// upload overlap the next one's model passes (queue/worker.ts). Holding jobs that have not begun changes what a
// dead worker means for them: every job it held stalls, but only those at work can have killed it. So the
// worker records in the job (its BullMQ progress, kept in Redis across stalls) each time its work begins, and
// counts a job's deaths from that, not from BullMQ's stall counter: an image that waited beside a poison image
// is not turned into an error row for the poison's deaths.
import type { Job } from 'bullmq';

/**
 * At most `count` holders at once, served in the order they asked. A release function may be called more than
 * once (the row's callback and the cleanup both release); only the first call counts.
 */
export class Lanes {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(count: number) {
    this.free = count;
  }

  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      // The lane passes straight to the next in line, so a newcomer cannot overtake it.
      if (next) next();
      else this.free++;
    };
  }
}

/** Takes a lane for `job`, then records in Redis that its work began, before any of that work. */
export async function beginWork(job: Job, lanes: Lanes): Promise<() => void> {
  const release = await lanes.take();
  try {
    await job.updateProgress({ begun: begun(job) + 1 });
  } catch (error) {
    release();
    throw error;
  }
  return release;
}

/**
 * Times a worker died while doing this job's work: the times it began less the tries that ended in an error
 * (BullMQ's attemptsMade), never more than the times the job stalled (the progress is only a worker's word).
 */
export function deathsAtWork(job: Job): number {
  return Math.max(0, Math.min(job.stalledCounter, begun(job) - job.attemptsMade));
}

function begun(job: Job): number {
  const progress = job.progress as { begun?: unknown } | number | null | undefined;
  const n = typeof progress === 'object' && progress !== null ? progress.begun : undefined;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
