import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const SHARED_IMAGES = fileURLToPath(new URL('../../../shared/images/', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would; `interruptAfterMs` sends Ctrl-C (SIGINT) that long after the start. */
export function runCli(
  args: string[],
  options: { interruptAfterMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env } });
  const watched = watch(child);
  const timer =
    options.interruptAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGINT'), options.interruptAfterMs);
  return watched.exit.finally(() => clearTimeout(timer));
}

/** A child process's output so far, at any moment, and its result once it has closed. */
export function watch(child: ChildProcessWithoutNullStreams): {
  output: () => { stdout: string; stderr: string };
  exit: Promise<CliResult>;
} {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { output: () => ({ stdout, stderr }), exit };
}
