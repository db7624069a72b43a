import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, type CliResult } from './cli.js';

export interface MeasuredCliResult extends CliResult {
  /** The CLI process's peak resident memory in bytes (its high-water mark). */
  readonly peakRssBytes: number;
  readonly wallMs: number;
  /** True when it was still running at the time limit and was killed. */
  readonly timedOut: boolean;
}

/** GNU time reports the exact peak RSS (getrusage of the child); it is in Debian's `time` package. */
const GNU_TIME = ['/usr/bin/time'].find((path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

/**
 * Runs the built CLI as runCli does, but kills it after `timeoutMs` and measures its peak memory: with
 * /usr/bin/time when it is installed (exact), otherwise by sampling VmHWM in /proc/<pid>/status every 20 ms
 * (Linux's own high-water mark, so a sample after the peak still sees it; only the last 20 ms can be missed).
 */
export async function runCliMeasured(
  args: string[],
  options: { timeoutMs: number; cwd?: string },
): Promise<MeasuredCliResult> {
  const scratch = await mkdtemp(join(tmpdir(), 'sightline-time-'));
  const timeFile = join(scratch, 'rss');
  const command = GNU_TIME
    ? [GNU_TIME, '-o', timeFile, '-f', '%M', process.execPath, CLI, ...args]
    : [process.execPath, CLI, ...args];
  const started = performance.now();
  try {
    const result = await new Promise<CliResult & { timedOut: boolean; sampledKiB: number }>(
      (resolve, reject) => {
        // A process group of its own, so a timeout kills the CLI and not only /usr/bin/time around it.
        const child = spawn(command[0], command.slice(1), { cwd: options.cwd, detached: true });
        let stdout = '';
        let stderr = '';
        let sampledKiB = 0;
        let timedOut = false;
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        const sample = () => {
          try {
            const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
            const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
            if (hwm) sampledKiB = Math.max(sampledKiB, Number(hwm[1]));
          } catch {
            // Gone already, or not Linux.
          }
        };
        const sampler = GNU_TIME ? undefined : setInterval(sample, 20);
        const timer = setTimeout(() => {
          timedOut = true;
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        }, options.timeoutMs);
        child.on('error', reject);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          if (sampler) clearInterval(sampler);
          resolve({ code, signal, stdout, stderr, timedOut, sampledKiB });
        });
      },
    );
    const wallMs = performance.now() - started;
    let peakKiB = result.sampledKiB;
    if (GNU_TIME) {
      // GNU time writes "Command exited with non-zero status N" before the number; the number is the last line.
      const text = await readFile(timeFile, 'utf8').catch(() => '');
      peakKiB = Number(text.trim().split('\n').pop());
    }
    const { sampledKiB: _, ...rest } = result;
    return { ...rest, wallMs, peakRssBytes: peakKiB * 1024 };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
